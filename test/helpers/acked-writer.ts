/**
 * A client creating znodes one after another, recording when each was acknowledged: what a
 * user sees of an outage (the longest time without an acknowledged write).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ZkClient } from '../../src/client/index.js';

/** Pause after a failed write before the next. */
const RETRY_DELAY_MS = 20;

export class AckedWriter {
  private readonly acks: number[] = [];
  failures = 0;
  private writing = true;
  private done: Promise<void> = Promise.resolve();

  private constructor(private readonly client: ZkClient) {}

  /** Connects and starts creating `<parent>/<prefix>-<i>` (the parent must exist). */
  static async start(connectString: string, parent: string, prefix: string): Promise<AckedWriter> {
    const w = new AckedWriter(await ZkClient.connect({ connectString, sessionTimeoutMs: 30_000 }));
    w.done = (async () => {
      for (let i = 0; w.writing; i++) {
        try {
          await w.client.create(`${parent}/${prefix}-${i}`, Buffer.from('x'));
          w.acks.push(Date.now());
        } catch {
          w.failures++;
          await sleep(RETRY_DELAY_MS);
        }
      }
    })();
    return w;
  }

  async stop(): Promise<void> {
    this.writing = false;
    await this.done;
    await this.client.close().catch(() => undefined);
  }

  acksBetween(from: number, to: number): number {
    return this.acks.filter((x) => x >= from && x <= to).length;
  }

  /** The longest time in [from, to] without an acknowledged write. */
  longestGapMs(from: number, to: number): number {
    const marks = [from, ...this.acks.filter((x) => x >= from && x <= to), to];
    return Math.max(...marks.slice(1).map((x, i) => x - marks[i]!));
  }

  /** The time of the first write acknowledged after `t`; throws after timeoutMs without one. */
  async firstAckAfter(t: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ack = this.acks.find((x) => x > t);
      if (ack !== undefined) return ack;
      if (Date.now() > deadline) throw new Error(`no write acknowledged within ${timeoutMs} ms`);
      await sleep(RETRY_DELAY_MS);
    }
  }
}
