/**
 * Client-port fuzz: many connections send noise and broken ZooKeeper frames to one zablab
 * server while a well-formed client (node-zookeeper-client) keeps working beside them.
 * Afterwards the server is alive, answers ruok, holds no leftover connections, and the
 * well-formed client's data is intact.
 *
 * Seeded: the seed is printed; `ZABLAB_FUZZ_SEED=<seed> npx vitest run test/fuzz` replays it.
 * `ZABLAB_FUZZ_SERVER=zookeeper` points the same run at Apache ZooKeeper, to check the fuzzer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startZablab } from '../helpers/zablab.js';
import { startZooKeeper, type ServerHandle } from '../helpers/zookeeper.js';
import { fourLetterWord } from '../compat/four-letter-word.js';
import { waitUntil } from '../compat/legs.js';
import { connectZk, type ZkSession } from '../compat/nzk.js';
import { buildScript, CASE_NAMES, type FuzzScript } from './cases.js';
import { fuzzSeed, Rng } from './rng.js';

const CONNECTIONS = 1_500;
const CONCURRENCY = 16;
/** ZooKeeper's default jute.maxbuffer (0xfffff), which zablab shares. */
const MAX_BUFFER_BYTES = 0xfffff;
/** How long a connection lingers after its script, to take what the server answers. */
const LINGER_MS_MAX = 250;
/** A server must drop a connection with an impossible frame length this fast. */
const CLOSE_WITHIN_MS = 5_000;
const ANSWER_WITHIN_MS = 5_000;
const GOOD_KEYS = 16;
const GOOD_OPS_MAX = 100_000;

const seed = fuzzSeed();
const target = process.env['ZABLAB_FUZZ_SERVER'] === 'zookeeper' ? 'zookeeper' : 'zablab';
const replay = `ZABLAB_FUZZ_SEED=${seed} npx vitest run test/fuzz/client-port.test.ts`;

interface Outcome {
  index: number;
  caseName: string;
  closedByServer: boolean;
  answeredBytes: number;
  problem: string | null;
}

/** Plays one script on a fresh connection and reports what the server did. */
async function playScript(host: string, port: number, index: number, script: FuzzScript, lingerMs: number): Promise<Outcome> {
  const socket = net.connect({ host, port });
  socket.setNoDelay(true);
  let answeredBytes = 0;
  let closed = false;
  let weEnded = false;
  socket.on('data', (chunk: Buffer) => {
    answeredBytes += chunk.length;
  });
  socket.on('error', () => undefined); // resets are expected; 'close' follows
  socket.on('close', () => {
    closed = true;
  });
  const outcome = (problem: string | null): Outcome => ({
    index,
    caseName: script.caseName,
    closedByServer: closed && !weEnded,
    answeredBytes,
    problem,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
  } catch (err) {
    return outcome(`could not connect: ${(err as Error).message}`);
  }
  for (const step of script.steps) {
    if (closed) break;
    if ('write' in step) socket.write(step.write);
    else if ('pauseMs' in step) await sleep(step.pauseMs);
    else {
      weEnded = true;
      socket.end();
    }
  }
  let problem: string | null = null;
  if (script.expectClose) {
    await waitUntil(() => closed, 'close', CLOSE_WITHIN_MS).catch(() => {
      problem = `server kept the connection open ${CLOSE_WITHIN_MS} ms after an invalid frame`;
    });
  } else if (script.expectAnswer) {
    await waitUntil(() => answeredBytes > 0, 'answer', ANSWER_WITHIN_MS).catch(() => {
      problem = `no answer within ${ANSWER_WITHIN_MS} ms to a fragmented but valid client`;
    });
  } else {
    await sleep(lingerMs);
  }
  const result = outcome(problem);
  socket.destroy();
  return result;
}

/** The well-formed client: setData/getData round trips and creates until told to stop. */
class GoodClient {
  readonly expected = new Map<string, string>();
  ops = 0;
  errors: string[] = [];
  private stopping = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly zk: ZkSession,
    private readonly root: string,
  ) {}

  async setup(): Promise<void> {
    await this.zk.create(this.root);
    for (let k = 0; k < GOOD_KEYS; k++) {
      const path = `${this.root}/k${k}`;
      await this.zk.create(path, Buffer.from('v0'));
      this.expected.set(path, 'v0');
    }
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    for (let i = 1; !this.stopping && this.ops < GOOD_OPS_MAX; i++) {
      try {
        const path = `${this.root}/k${i % GOOD_KEYS}`;
        const value = `v${i}`;
        await this.zk.setData(path, Buffer.from(value));
        this.expected.set(path, value);
        const got = await this.zk.getData(path);
        if (got.data?.toString() !== value) this.errors.push(`getData ${path}: got '${got.data?.toString()}', want '${value}'`);
        if (i % 10 === 0) {
          const created = await this.zk.create(`${this.root}/c${i}`, Buffer.from(`c${i}`));
          this.expected.set(created, `c${i}`);
        }
        this.ops += 3;
      } catch (err) {
        this.errors.push(`op ${i}: ${(err as Error).message}`);
        if (this.errors.length > 10) return;
      }
    }
  }
}

describe(`client-port fuzz against ${target} (seed ${seed})`, () => {
  let server: ServerHandle;
  let good: GoodClient;
  let zk: ZkSession;
  const outcomes: Outcome[] = [];

  beforeAll(async () => {
    console.log(`client-port fuzz: seed=${seed} target=${target} connections=${CONNECTIONS}; replay with: ${replay}`);
    const config = { '4lw.commands.whitelist': 'ruok,srvr,mntr' };
    server = target === 'zookeeper' ? await startZooKeeper({ config }) : await startZablab({ config });
    zk = await connectZk(server.connectString, { sessionTimeoutMs: 30_000 });
    good = new GoodClient(zk, '/fuzz-good');
    await good.setup();
  });

  afterAll(async () => {
    await zk?.close();
    await server?.stop();
  });

  it(
    'survives noise and broken frames while a well-formed client keeps working',
    async () => {
      const rng = new Rng(seed);
      const scripts = Array.from({ length: CONNECTIONS }, (_, i) => {
        const r = rng.fork(i);
        return { script: buildScript(r, { maxBufferBytes: MAX_BUFFER_BYTES }), lingerMs: r.int(0, LINGER_MS_MAX) };
      });
      good.start();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < scripts.length) {
          const i = next++;
          const { script, lingerMs } = scripts[i]!;
          outcomes.push(await playScript(server.host, server.port, i, script, lingerMs));
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      await good.stop();

      const byCase = new Map<string, number>(CASE_NAMES.map((n) => [n, 0]));
      for (const o of outcomes) byCase.set(o.caseName, (byCase.get(o.caseName) ?? 0) + 1);
      console.log(
        `client-port fuzz: ${outcomes.length} connections (${[...byCase].map(([n, c]) => `${n}=${c}`).join(' ')}), ` +
          `${outcomes.filter((o) => o.closedByServer).length} closed by the server; well-formed client did ${good.ops} ops`,
      );

      const problems = outcomes.filter((o) => o.problem !== null).map((o) => `#${o.index} ${o.caseName}: ${o.problem}`);
      expect(problems, `seed ${seed}; replay with: ${replay}`).toEqual([]);
      expect(good.errors, `seed ${seed}`).toEqual([]);
      expect(good.ops).toBeGreaterThan(0);

      // The server process lives and still speaks both protocols.
      expect(() => process.kill(server.pid, 0)).not.toThrow();
      expect(await fourLetterWord(server.host, server.port, 'ruok')).toBe('imok');

      // The well-formed client's session survived, and its data is intact, seen from a new session too.
      const fresh = await connectZk(server.connectString);
      try {
        for (const [path, value] of good.expected) {
          expect((await zk.getData(path)).data?.toString(), path).toBe(value);
          expect((await fresh.getData(path)).data?.toString(), path).toBe(value);
        }
        const { children } = await fresh.getChildren('/fuzz-good');
        expect(children.length).toBe(good.expected.size);
      } finally {
        await fresh.close();
      }

      // Every fuzz connection is gone: only the well-formed client (and the asker) remain.
      const deadline = Date.now() + 10_000;
      let connections = Number.POSITIVE_INFINITY;
      while (Date.now() < deadline) {
        const srvr = await fourLetterWord(server.host, server.port, 'srvr');
        connections = Number(/^Connections: (\d+)$/m.exec(srvr)?.[1] ?? Number.NaN);
        if (connections <= 2) break;
        await sleep(200);
      }
      expect(connections, 'srvr Connections after the fuzz').toBeLessThanOrEqual(2);
    },
    120_000,
  );
});
