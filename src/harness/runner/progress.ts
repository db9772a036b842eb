/**
 * Progress on the terminal while a bench runs: which run of how many, its phase, live ops/s.
 * On a TTY one line is redrawn in place; elsewhere (CI logs, files) a line is printed on each
 * phase change and every few seconds, so logs stay short and readable.
 */

export interface ProgressSink {
  runStarted(index: number, total: number, name: string): void;
  phase(phase: string): void;
  liveOps(opsPerSec: number): void;
  /** Seconds of the measured window done / planned. */
  measured(doneSec: number, totalSec: number): void;
  note(text: string): void;
  runDone(summary: string): void;
  close(): void;
}

const REDRAW_MS = 500;
const PLAIN_EVERY_MS = 5_000;

export function formatOps(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export class TerminalProgress implements ProgressSink {
  private index = 0;
  private total = 0;
  private name = '';
  private phaseText = '';
  private ops: number | null = null;
  private window: string | null = null;
  private lastPrintMs = 0;
  private drawn = false;

  constructor(
    private readonly write: (s: string) => void,
    private readonly tty: boolean,
  ) {}

  runStarted(index: number, total: number, name: string): void {
    this.index = index;
    this.total = total;
    this.name = name;
    this.ops = null;
    this.window = null;
    this.phase('starting');
  }

  phase(phase: string): void {
    this.phaseText = phase;
    this.render(true);
  }

  liveOps(opsPerSec: number): void {
    this.ops = opsPerSec;
    this.render(false);
  }

  measured(doneSec: number, totalSec: number): void {
    this.window = `${Math.min(doneSec, totalSec)}/${totalSec} s`;
    this.render(false);
  }

  note(text: string): void {
    this.clearLine();
    this.write(`  ${text}\n`);
    this.render(true);
  }

  runDone(summary: string): void {
    this.clearLine();
    this.write(`[${this.index}/${this.total}] ${this.name}: ${summary}\n`);
    this.drawn = false;
  }

  close(): void {
    this.clearLine();
  }

  private line(): string {
    const parts = [`[${this.index}/${this.total}] ${this.name}`, this.phaseText];
    if (this.window !== null) parts.push(this.window);
    if (this.ops !== null) parts.push(`${formatOps(this.ops)} ops/s`);
    return parts.join(' | ');
  }

  private render(phaseChanged: boolean): void {
    const now = Date.now();
    if (this.tty) {
      if (!phaseChanged && now - this.lastPrintMs < REDRAW_MS) return;
      this.write(`\r\x1b[2K${this.line()}`);
      this.drawn = true;
    } else {
      if (!phaseChanged && now - this.lastPrintMs < PLAIN_EVERY_MS) return;
      this.write(`${this.line()}\n`);
    }
    this.lastPrintMs = now;
  }

  private clearLine(): void {
    if (this.tty && this.drawn) this.write('\r\x1b[2K');
    this.drawn = false;
  }
}

/** For tests and library use: remembers phases, prints nothing. */
export class SilentProgress implements ProgressSink {
  readonly phases: string[] = [];
  runStarted(_i: number, _t: number, name: string): void {
    this.phases.push(`run ${name}`);
  }
  phase(p: string): void {
    this.phases.push(p);
  }
  liveOps(): void {}
  measured(): void {}
  note(t: string): void {
    this.phases.push(t);
  }
  runDone(s: string): void {
    this.phases.push(`done ${s}`);
  }
  close(): void {}
}

/** Progress to two sinks (the terminal and the live view). */
export function teeProgress(a: ProgressSink, b: ProgressSink): ProgressSink {
  return {
    runStarted: (i, t, name) => (a.runStarted(i, t, name), b.runStarted(i, t, name)),
    phase: (p) => (a.phase(p), b.phase(p)),
    liveOps: (ops) => (a.liveOps(ops), b.liveOps(ops)),
    measured: (d, t) => (a.measured(d, t), b.measured(d, t)),
    note: (text) => (a.note(text), b.note(text)),
    runDone: (s) => (a.runDone(s), b.runDone(s)),
    close: () => (a.close(), b.close()),
  };
}
