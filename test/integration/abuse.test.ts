/**
 * The client port under abuse from one host (issue #12): what an attacker's probes did to a
 * zablab server, replayed over real sockets against a real server process, with what
 * ZooKeeper does in each case as the expected behaviour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../helpers/with-client.js';
import { createFrame, rawSession } from '../helpers/raw-session.js';
import { startZablab, type ServerHandle } from '../helpers/zablab.js';

describe('a frame in tiny segments', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startZablab();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('is reassembled and answered: a 1 MB create sent 64 bytes per write', async () => {
    const data = Buffer.alloc(1_000_000 - 100);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    const frame = createFrame(1, '/big', data);
    const c = await rawSession(server.host, server.port);
    for (let off = 0; off < frame.length; off += 64) c.socket.write(frame.subarray(off, off + 64));
    await c.waitForReplies(1, 20_000);
    expect(c.replies).toEqual([{ xid: 1, err: 0 }]);
    c.socket.destroy();
    const got = await withClient(server.connectString, (zk) => zk.getData('/big'));
    expect(got.data?.equals(data)).toBe(true);
  });
});
