/**
 * The runner's part of a history (scenario `history: true`): after the load stops and while
 * the ensemble still serves, the final reads of the set and the counter; after the ensemble
 * is down, the workers' parts merged into the run's history.jsonl (in time order) and checked
 * within budgets, so that a run never hangs on its check: a budget that runs out is an
 * unknown verdict, not a wait.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZkClient, ZkError } from '../../client/index.js';
import { checkHistory, HistoryBuilder, parseEvent, type CheckOptions, type History, type HistoryEvent } from '../history/index.js';
import type { LoadHistory, LoadTarget } from '../load/types.js';
import type { RunHistory } from '../report/results.js';
import { counterCheckOf, historyErrorOf, historyResultOf, setCheckOf } from './history-result.js';

/** The run's merged history, in its directory. */
export const HISTORY_FILE = 'history.jsonl';
/** The check's budgets in a bench run: past them a key (or the rest of the keys) is unknown. */
export const RUN_CHECK_BUDGET: Readonly<CheckOptions> = { keyTimeMs: 10_000, totalTimeMs: 120_000, shrinkTimeMs: 5_000 };
/** The final reads give up after this long (e.g. the ensemble never got its quorum back). */
const FINAL_READ_TIMEOUT_MS = 60_000;
const FINAL_READ_RETRY_MS = 250;
const CHUNK_CHARS = 64 * 1024;

export interface FinalReads {
  /** The set parent's children; null when they could not be read. */
  set: string[] | null;
  /** The counter's value; null when it could not be read. */
  counter: number | null;
  error: string | null;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Codes worth trying again: the server may serve after a reconnect or an election. */
function transient(err: unknown): boolean {
  return err instanceof ZkError && ['CONNECTIONLOSS', 'OPERATIONTIMEOUT', 'SESSIONMOVED'].includes(err.codeName);
}

/**
 * Reads the set's children and the counter, each after a sync (so the server read from has
 * every write the leader committed), through any member that serves; tries again on a
 * connection loss until the deadline.
 */
export async function readFinals(target: LoadTarget, h: LoadHistory, timeoutMs = FINAL_READ_TIMEOUT_MS): Promise<FinalReads> {
  const deadline = Date.now() + timeoutMs;
  let client: ZkClient | null = null;
  try {
    const tls = target.tls === undefined ? {} : { tls: { ca: fs.readFileSync(target.tls.caFile), cert: fs.readFileSync(target.tls.certFile), key: fs.readFileSync(target.tls.keyFile) } };
    client = await ZkClient.connect({ connectString: target.connectString, connectTimeoutMs: timeoutMs, ...tls });
    const c = client;
    for (;;) {
      const remaining = deadline - Date.now();
      try {
        return await within(remaining, async () => {
          await c.sync(h.setParent);
          const { children } = await c.getChildren(h.setParent);
          await c.sync(h.counterPath);
          const { data } = await c.getData(h.counterPath);
          const text = data === null ? '' : data.toString('utf8');
          const counter = Number(text === '' ? '0' : text);
          if (!Number.isSafeInteger(counter)) return { set: children, counter: null, error: `the counter ${h.counterPath} holds ${JSON.stringify(text.slice(0, 40))}, not an integer` };
          return { set: children, counter, error: null };
        });
      } catch (err) {
        if (!transient(err) || Date.now() + FINAL_READ_RETRY_MS >= deadline) throw err;
        await sleep(FINAL_READ_RETRY_MS);
      }
    }
  } catch (err) {
    return { set: null, counter: null, error: `the final reads of the set and the counter failed: ${message(err)}` };
  } finally {
    await client?.close().catch(() => undefined);
  }
}

/** f(), or a rejection once ms have passed (what f left in flight is dropped with the client). */
async function within<T>(ms: number, f: () => Promise<T>): Promise<T> {
  if (ms <= 0) throw new Error('no time left');
  const stop = new AbortController();
  const timeout = sleep(ms, undefined, { signal: stop.signal }).then(() => {
    throw new Error(`no answer within ${ms} ms`);
  });
  try {
    return await Promise.race([f(), timeout]);
  } finally {
    stop.abort();
    timeout.catch(() => undefined);
  }
}

interface PartReader {
  file: string;
  lines: AsyncIterator<string>;
  lineNo: number;
  head: { text: string; event: HistoryEvent } | null;
}

async function advance(r: PartReader): Promise<void> {
  for (;;) {
    const next = await r.lines.next();
    if (next.done === true) {
      r.head = null;
      return;
    }
    r.lineNo++;
    if (next.value.trim() === '') continue;
    try {
      r.head = { text: next.value, event: parseEvent(next.value, r.lineNo) };
    } catch (err) {
      throw new Error(`${r.file}: ${message(err)}`);
    }
    return;
  }
}

/**
 * Merges the workers' parts (each in time order) into `file`, in time order, and builds the
 * History as it goes: one pass, and the lines the checker names are the merged file's.
 */
export async function mergeHistoryParts(parts: readonly string[], file: string): Promise<History> {
  const streams = parts.map((p) => fs.createReadStream(p, { encoding: 'utf8' }));
  const readers: PartReader[] = streams.map((input, i) => ({
    file: parts[i]!,
    lines: readline.createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator](),
    lineNo: 0,
    head: null,
  }));
  const out = fs.createWriteStream(file, { encoding: 'utf8' });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  const builder = new HistoryBuilder();
  let chunk: string[] = [];
  let chunkChars = 0;
  let lineNo = 0;
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await Promise.race([new Promise<void>((resolve) => out.once('drain', () => resolve())), failed]);
  };
  try {
    for (const r of readers) await advance(r);
    for (;;) {
      let min: PartReader | null = null;
      for (const r of readers) if (r.head !== null && (min === null || r.head.event.timeNs < min.head!.event.timeNs)) min = r;
      if (min === null) break;
      const { text, event } = min.head!;
      builder.addEvent({ ...event, line: ++lineNo });
      chunk.push(text, '\n');
      chunkChars += text.length + 1;
      if (chunkChars >= CHUNK_CHARS) {
        await write(chunk.join(''));
        chunk = [];
        chunkChars = 0;
      }
      await advance(min);
    }
    if (chunk.length > 0) await write(chunk.join(''));
    await Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed]);
  } finally {
    out.destroy();
    for (const s of streams) s.destroy();
  }
  return builder.finish();
}

export interface RunHistoryInput {
  load: LoadHistory;
  finals: FinalReads;
  /** The run's directory (history.jsonl goes there) and the directory of results.json (paths are relative to it). */
  runDir: string;
  resultsDir: string;
  windowStartEpochMs: number;
  budget?: CheckOptions;
}

/** Merges, checks and judges a run's history; never throws (a history that cannot be read is an error verdict). */
export async function checkRunHistory(i: RunHistoryInput): Promise<RunHistory> {
  const file = path.join(i.runDir, HISTORY_FILE);
  const base = {
    file: path.relative(i.resultsDir, file).split(path.sep).join('/'),
    originEpochMs: i.load.originEpochMs,
    windowStartNs: Math.max(0, Math.round((i.windowStartEpochMs - i.load.originEpochMs) * 1e6)),
    root: i.load.root,
    set: setCheckOf(i.load.setAdds, i.finals.set, i.finals.error),
    counter: counterCheckOf(i.load.counter, i.finals.counter, i.finals.error),
  };
  let history: History;
  try {
    history = await mergeHistoryParts(i.load.parts, file);
  } catch (err) {
    // The parts stay for a post-mortem.
    return historyErrorOf(base, `the history could not be merged into ${HISTORY_FILE}: ${message(err)}`);
  }
  for (const p of i.load.parts) fs.rmSync(p, { force: true });
  const start = performance.now();
  const verdict = checkHistory(history, i.budget ?? RUN_CHECK_BUDGET);
  const result = historyResultOf({ ...base, verdict, checkMs: performance.now() - start });
  // A worker that could not write all of its part left ops out: a verdict either way could be wrong.
  if (i.load.errors.length > 0) {
    result.linearizable = null;
    result.error = `the history is incomplete, so it has no verdict: ${i.load.errors.join('; ')}`;
  }
  return result;
}
