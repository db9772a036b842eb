/**
 * acceptedEpoch and currentEpoch, each in its own file in dataDir as ZooKeeper keeps them
 * (decimal text). Written to a temp file, fsynced, renamed, and the directory fsynced:
 * a crash leaves the old value or the new one, never a torn one.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export type EpochName = 'acceptedEpoch' | 'currentEpoch';

export async function readEpoch(dataDir: string, name: EpochName): Promise<bigint | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dataDir, name), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const t = text.trim();
  if (!/^\d+$/.test(t)) throw new Error(`${path.join(dataDir, name)} holds "${t.slice(0, 40)}", not an epoch number`);
  return BigInt(t);
}

export async function writeEpoch(dataDir: string, name: EpochName, epoch: bigint): Promise<void> {
  const file = path.join(dataDir, name);
  const tmp = `${file}.tmp`;
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(`${epoch}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
  const dir = await fs.open(dataDir, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
