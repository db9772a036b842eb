/**
 * A state worker: a child process forked by the runner (state/driver.ts) that populates the
 * znodes and holds sessions with their watches, so that neither the populate's encoding nor
 * thousands of sessions' pings and events run on the runner's event loop, which times faults
 * and samples the servers.
 */
import fs from 'node:fs';
import { ZkClient, type ClientTlsOptions } from '../../../client/index.js';
import { rotateHosts } from '../native/session.js';
import { SessionHolder } from './holder.js';
import { populate } from './populate.js';
import { isStateRequest, type StateCommand, type StateReplies, type StateReply, type TlsFiles } from './protocol.js';

/** Sessions the populate spreads its multis over (rotated over the members). */
const POPULATE_SESSIONS = 4;
const CONNECT_TIMEOUT_MS = 15_000;

let holder: SessionHolder | null = null;

function readTls(files: TlsFiles | null): ClientTlsOptions | null {
  return files === null ? null : { ca: fs.readFileSync(files.caFile), cert: fs.readFileSync(files.certFile), key: fs.readFileSync(files.keyFile) };
}

function needHolder(): SessionHolder {
  if (holder === null) throw new Error('this state worker holds no sessions (send hold first)');
  return holder;
}

async function handle<C extends StateCommand>(command: C): Promise<StateReplies[C['cmd']]>;
async function handle(command: StateCommand): Promise<StateReplies[StateCommand['cmd']]> {
  switch (command.cmd) {
    case 'populate': {
      const { spec } = command;
      const tls = readTls(spec.tls);
      const clients: ZkClient[] = [];
      try {
        for (let i = 0; i < POPULATE_SESSIONS; i++) {
          clients.push(await ZkClient.connect({ connectString: rotateHosts(spec.connectString, i), connectTimeoutMs: CONNECT_TIMEOUT_MS, ...(tls === null ? {} : { tls }) }));
        }
        return await populate(clients, spec.znodes, spec.valueSize);
      } finally {
        await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      }
    }
    case 'hold': {
      if (holder !== null) throw new Error('hold: this state worker already holds sessions');
      holder = new SessionHolder({ ...command.spec, tls: readTls(command.spec.tls) });
      return holder.open();
    }
    case 'watch':
      return needHolder().watch();
    case 'stats':
      return needHolder().stats();
    case 'close': {
      const stats = holder?.stats() ?? { watchEvents: 0, expired: 0 };
      await holder?.close();
      holder = null;
      return stats;
    }
  }
}

function send(m: StateReply): void {
  if (process.connected) process.send?.(m);
}

if (process.send === undefined) {
  console.error('state/worker.js is forked by zablab bench, not run by hand');
  process.exit(2);
}

process.on('message', (m: unknown) => {
  if (!isStateRequest(m)) return;
  handle(m.command).then(
    (value) => send({ id: m.id, ok: true, value }),
    (err: unknown) => send({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});

// Parent gone: drop every session at once rather than hold them unattended.
process.on('disconnect', () => process.exit(0));
