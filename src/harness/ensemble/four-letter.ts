/**
 * A tiny four-letter-word client and a parser for `srvr`, the word the driver uses to see
 * who leads and how far each server has applied. Works on zablab and Apache ZooKeeper alike.
 */
import net from 'node:net';

/** Longest answer read; `srvr` is a few hundred bytes, `mntr` a few KB, `dump` may be large. */
export const FOUR_LETTER_ANSWER_MAX_BYTES = 4 << 20;
export const FOUR_LETTER_TIMEOUT_MS = 3_000;

/** ZooKeeper's answer to most words while it is starting, electing or syncing. */
const NOT_SERVING_TEXT = 'not currently serving requests';

export class FourLetterWordError extends Error {
  readonly code = 'ZABLAB_FOUR_LETTER_WORD';
  constructor(
    readonly word: string,
    readonly host: string,
    readonly port: number,
    why: string,
    /** The OS error code (ECONNREFUSED, ...), when the socket failed. */
    readonly errno?: string,
  ) {
    super(`four-letter word '${word}' to ${host}:${port} failed: ${why}`);
    this.name = 'FourLetterWordError';
  }
}

/**
 * Sends `word` and resolves with everything the server answers before it closes the
 * connection (an empty string when it closed without answering, e.g. a word it does not know).
 */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = FOUR_LETTER_TIMEOUT_MS): Promise<string> {
  if (!/^[a-z]{4}$/.test(word)) throw new RangeError(`a four-letter word is 4 lowercase letters, got "${word}"`);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const socket = net.connect({ host, port });
    const finish = (err: FourLetterWordError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err === null) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(err);
    };
    const timer = setTimeout(() => finish(new FourLetterWordError(word, host, port, `no complete answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > FOUR_LETTER_ANSWER_MAX_BYTES) {
        finish(new FourLetterWordError(word, host, port, `answer longer than ${FOUR_LETTER_ANSWER_MAX_BYTES} bytes`));
      } else {
        chunks.push(chunk);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A server may reset rather than close once it has answered.
      if ((err.code === 'ECONNRESET' || err.code === 'EPIPE') && size > 0) finish(null);
      else finish(new FourLetterWordError(word, host, port, err.message, err.code));
    });
    socket.on('close', () => finish(null));
  });
}

/** Modes `srvr` reports for a serving server. */
export type ServingMode = 'leader' | 'follower' | 'observer' | 'standalone' | 'read-only';

export type SrvrAnswer =
  | { serving: true; mode: ServingMode; zxid: bigint; nodeCount: number | null; connections: number | null; outstanding: number | null; version: string | null }
  | { serving: false; reason: string };

const SERVING_MODES: readonly ServingMode[] = ['leader', 'follower', 'observer', 'standalone', 'read-only'];

/** Parses a `srvr` (or `stat`) answer. Never throws: an answer it cannot read is "not serving" with the reason. */
export function parseSrvr(text: string): SrvrAnswer {
  if (text.includes(NOT_SERVING_TEXT)) return { serving: false, reason: 'not currently serving requests' };
  if (text.trim() === '') return { serving: false, reason: 'closed the connection without answering srvr' };
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const mode = SERVING_MODES.find((m) => m === fields.get('Mode'));
  if (mode === undefined) return { serving: false, reason: `srvr answered without a known Mode: ${firstLine(text)}` };
  const zxidText = fields.get('Zxid') ?? '';
  if (!/^0x[0-9a-fA-F]{1,16}$/.test(zxidText)) return { serving: false, reason: `srvr answered without a Zxid: ${firstLine(text)}` };
  return {
    serving: true,
    mode,
    zxid: BigInt(zxidText),
    nodeCount: intField(fields.get('Node count')),
    connections: intField(fields.get('Connections')),
    outstanding: intField(fields.get('Outstanding')),
    version: fields.get('Zookeeper version') ?? null,
  };
}

/** The epoch of a zxid: its high 32 bits. */
export function epochOf(zxid: bigint): number {
  return Number(zxid >> 32n);
}

/** `0x` and 16 hex digits, as ZooKeeper prints zxids in logs. */
export function zxidHex(zxid: bigint): string {
  return `0x${zxid.toString(16).padStart(16, '0')}`;
}

function intField(v: string | undefined): number | null {
  if (v === undefined || !/^-?\d+$/.test(v)) return null;
  return Number(v);
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 120)}...` : line;
}
