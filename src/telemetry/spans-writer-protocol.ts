/** Messages between a server's thread and its spans-file writer thread (spans-worker.ts). */
import type { DecoderOptions } from './span-codec.js';

export interface SpansWorkerData extends DecoderOptions {
  file: string;
  maxBytes: number;
}

export type ToWriter =
  /** `len` bytes of `spans` records; `symbols` continue the symbol table. The buffer is transferred. */
  | { kind: 'chunk'; buf: ArrayBuffer; len: number; symbols: string[]; spans: number }
  /** Answer `done` once everything sent before is written. */
  | { kind: 'flush'; id: number }
  /** Write what is left, close the file, answer `done`. */
  | { kind: 'close'; id: number };

export type FromWriter =
  /** A chunk is written; its buffer comes back for reuse. */
  | { kind: 'chunk'; buf: ArrayBuffer }
  | { kind: 'done'; id: number }
  /** Spans not written, and why (the size limit, a failed write, a broken record). */
  | { kind: 'dropped'; spans: number; reason: string }
  /** The file cannot be written at all (e.g. it cannot be opened). */
  | { kind: 'failed'; reason: string };
