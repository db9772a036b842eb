/**
 * The `external` driver against the driver conformance suite, pointed at a zablab ensemble
 * this test starts itself (LocalEnsemble), in an order other than by id: no faults, and
 * down() leaves the ensemble running. Also its errors for servers that do not answer.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { externalDriver } from '../../../src/harness/drivers/index.js';
import { HarnessError } from '../../../src/harness/errors.js';
import { LocalEnsemble, zablabCliPath } from '../../../src/harness/ensemble/index.js';
import { runDriverConformance } from './conformance.js';

const built = fs.existsSync(zablabCliPath());

runDriverConformance('external', externalDriver, {
  faults: false,
  partition: false,
  program: 'zablab',
  skip: built ? null : 'zablab is not built (run `npm run build`)',
  prepare: async (dir) => {
    const ensemble = await LocalEnsemble.up({ voters: 3, observers: 1, dir, timeoutMs: 60_000 });
    // Listed out of id order: the driver takes the ids the servers report (conf's serverId).
    const servers = [...ensemble.servers].reverse().map((s) => ({ host: s.host, clientPort: s.clientPort, httpPort: s.httpPort }));
    return {
      // The servers' token, as a user names it in the scenario (ensemble.adminTokenFile).
      up: { external: servers, adminTokenFile: ensemble.adminTokenFile! },
      cleanup: async () => {
        // The external driver's down() must not have stopped anything.
        const running = ensemble.servers.filter((s) => s.pid !== null).length;
        await ensemble.down({ purge: true });
        if (running !== 4) throw new Error(`external down() stopped servers: ${running} of 4 still ran`);
      },
    };
  },
});

describe('external driver errors', () => {
  const up = (external: { host: string; clientPort: number }[]) =>
    externalDriver().up({ voters: 1, observers: 0, config: {}, dir: os.tmpdir(), external, timeoutMs: 2_000 });

  it('no servers listed: says where to list them', async () => {
    await expect(up([])).rejects.toThrow(/ensemble\.external/);
  });

  it('a server that does not answer: the error names its address', async () => {
    const port = await closedPort();
    const err = await up([{ host: '127.0.0.1', clientPort: port }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe('ZABLAB_BENCH_DRIVER');
    expect((err as HarnessError).message).toContain(`127.0.0.1:${port}`);
  });
});

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
