/**
 * Sessions survive a restart, as in ZooKeeper: the session table is in the snapshot and the
 * txn log, so after SIGKILL + restart a client resumes its session (id + password) and its
 * ephemeral node is still there; a wrong password is refused; closing the session then
 * deletes the ephemeral. A torn log tail written after the crash is cut off, not trusted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CreateMode } from '../../src/jute/index.js';
import { ZkClient } from '../../src/client/index.js';
import { makeTempDir } from '../helpers/server-process.js';
import { startZablab, type ServerHandle } from '../helpers/zablab.js';

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`pid ${pid} did not exit`);
}

describe('sessions across a restart', () => {
  const dataDir = makeTempDir('zablab-sessions-');
  let server: ServerHandle | null = null;
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes the session and keeps its ephemeral after SIGKILL; a torn log tail is dropped', async () => {
    server = await startZablab({ dataDir });
    const a = await ZkClient.connect({ connectString: server.connectString, sessionTimeoutMs: 30_000 });
    await a.create('/eph', Buffer.from('mine'), { mode: CreateMode.EPHEMERAL });
    await a.create('/persistent', Buffer.from('p'));
    const { sessionId, passwd } = a;
    const pid = server.pid;
    server.kill('SIGKILL');
    await waitGone(pid);
    a.removeAllListeners();
    void a.close().catch(() => undefined);

    // Garbage after the last record, as a crash in the middle of a write could leave.
    const logs = fs
      .readdirSync(path.join(dataDir, 'version-2'))
      .filter((f) => f.startsWith('log.'))
      .sort();
    const newest = path.join(dataDir, 'version-2', logs[logs.length - 1]!);
    const size = fs.statSync(newest).size;
    const fd = fs.openSync(newest, 'r+');
    fs.writeSync(fd, Buffer.from([0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x20, 0xde, 0xad]), 0, 10, size > 64 ? 64 * 1024 : size);
    fs.closeSync(fd);

    server = await startZablab({ dataDir });
    const wrong = Buffer.from(passwd);
    wrong[0] = wrong[0]! ^ 0xff;
    await expect(
      ZkClient.connect({ connectString: server.connectString, sessionId, passwd: wrong, connectTimeoutMs: 3_000 }),
    ).rejects.toThrow();

    const b = await ZkClient.connect({ connectString: server.connectString, sessionId, passwd, sessionTimeoutMs: 30_000 });
    expect(b.sessionId).toBe(sessionId);
    expect((await b.getData('/eph')).data?.toString()).toBe('mine');
    expect((await b.getData('/persistent')).stat.ephemeralOwner).toBe(0n);
    expect((await b.getData('/eph')).stat.ephemeralOwner).toBe(sessionId);
    await b.close();

    const c = await ZkClient.connect({ connectString: server.connectString });
    expect(await c.exists('/eph')).toBeNull();
    expect(await c.exists('/persistent')).not.toBeNull();
    await c.close();
  }, 60_000);
});
