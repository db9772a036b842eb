/**
 * Child process for crash.test.ts: appends and commits in a loop, like a busy server, and
 * prints `durable <zxid>` once each commit resolves. The parent SIGKILLs it mid-stream.
 * Usage: node crash-child.js <logDir> <maxBatches>
 */
import { pathToFileURL } from 'node:url';
import { FileTxnLog } from '../../../src/storage/index.js';
import { crashTxnSize, makeTxn } from './fixtures.js';

const MAX_IN_FLIGHT = 8;

async function main(dir: string, maxBatches: number): Promise<void> {
  const log = await FileTxnLog.open({ dir, preAllocSize: 32 * 1024, log: (m) => process.stderr.write(`${m}\n`) });
  let zxid = log.lastLoggedZxid();
  process.stdout.write(`start ${zxid}\n`);
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < maxBatches; i++) {
    for (let k = 0; k <= i % 5; k++) {
      zxid++;
      log.append(makeTxn(zxid, crashTxnSize(zxid)));
    }
    const upTo = zxid;
    const done: Promise<void> = log.commit().then(() => {
      process.stdout.write(`durable ${upTo}\n`);
      inFlight.delete(done);
    });
    inFlight.add(done);
    if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    if (i % 97 === 96) log.rollLog();
  }
  await log.close();
  process.stdout.write('done\n');
}

const [, entry, dir, batches] = process.argv;
if (entry !== undefined && dir !== undefined && import.meta.url === pathToFileURL(entry).href) {
  await main(dir, Number(batches ?? '1000000'));
}
