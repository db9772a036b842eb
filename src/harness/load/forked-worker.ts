/**
 * A worker process the load forks (native load workers, large-state workers) and the requests
 * the runner makes of it over IPC: each has an id and a timeout, and every request still
 * pending fails, with the way the worker ended, when it exits. Workers run from dist/
 * (compiled .js) or, under tsx/vitest, from the sources.
 */
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { HarnessError } from '../errors.js';

const EXIT_WAIT_MS = 5_000;

/** A worker's answer to request `id`. */
export type ForkedReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export function isForkedReply(m: unknown): m is ForkedReply {
  return typeof m === 'object' && m !== null && typeof (m as { id?: unknown }).id === 'number' && typeof (m as { ok?: unknown }).ok === 'boolean';
}

/** worker.js beside `moduleUrl` in dist/, or worker.ts (run through tsx) beside the sources. */
export function workerModule(moduleUrl: string): { path: URL; execArgv: string[] } {
  if (moduleUrl.endsWith('.ts')) {
    // A file URL of tsx's loader, so the worker finds it whatever its working directory.
    const tsx = pathToFileURL(createRequire(moduleUrl).resolve('tsx')).href;
    return { path: new URL('./worker.ts', moduleUrl), execArgv: ['--import', tsx] };
  }
  return { path: new URL('./worker.js', moduleUrl), execArgv: [] };
}

/** A bound on a wait, which must not hold the process open by itself. */
export function unrefSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** `Replies` maps each command name to what the worker answers it with. */
export class ForkedWorker<Command extends { cmd: string }, Replies extends Record<Command['cmd'], unknown>> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exitNote: string | null = null;
  readonly exited: Promise<void>;

  /** `name`: what messages call it ("native load worker"); `onOther`: messages that are not replies (progress). */
  constructor(
    readonly index: number,
    private readonly child: ChildProcess,
    private readonly name: string,
    onOther: (m: unknown) => void = () => undefined,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (m: unknown) => {
      if (!isForkedReply(m)) {
        onOther(m);
        return;
      }
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.value);
      else p.reject(this.error(`: ${m.error}`));
    });
    child.once('exit', (code, signal) => {
      this.exitNote = `exited with ${signal ?? `code ${code}`}`;
      this.failAll(this.error(` ${this.exitNote}`));
    });
    child.on('error', (err) => this.failAll(this.error(`: ${err.message}`)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  request<C extends Command>(command: C, timeoutMs: number): Promise<Replies[C['cmd']]> {
    if (!this.alive || !this.child.connected) return Promise.reject(this.error(` is gone${this.exitNote === null ? '' : `: ${this.exitNote}`}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(this.error(` did not answer '${command.cmd}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.send({ id, command }, (err) => {
        if (err) this.failAll(this.error(`: cannot send '${command.cmd}': ${err.message}`));
      });
    });
  }

  /** One-way note; a worker that is gone is reported by the next request instead. */
  note(m: object): void {
    if (this.alive && this.child.connected) this.child.send(m, () => undefined);
  }

  /** SIGKILL, now. */
  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** Let it exit (workers exit when the parent disconnects); SIGKILL past a bound. */
  async exit(): Promise<void> {
    if (this.child.connected) this.child.disconnect();
    await Promise.race([this.exited, unrefSleep(EXIT_WAIT_MS)]);
    if (this.alive) {
      this.child.kill('SIGKILL');
      await Promise.race([this.exited, unrefSleep(EXIT_WAIT_MS)]);
    }
  }

  private error(what: string): HarnessError {
    return new HarnessError('ZABLAB_BENCH_LOAD', `${this.name} ${this.index} (pid ${this.pid})${what}`);
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}
