/**
 * What the http driver sends for each op, and what an answer means. The REST face (see
 * src/server/http/znodes.ts) answers errors as `{"error": {"code": "NONODE", ...}}`; the
 * code is ZooKeeper's name, so the driver's error counts read like the native driver's.
 */
import type { OpKind } from '../../scenario/types.js';
import { OpPicker, type OpWeight } from '../ops.js';

/** Requests per cycle of a connection's request list: the mix is realised in steps of 1 / this. */
export const MIX_ENTRIES = 100;
/** Draws from the picker before an exhausted op is replaced by the op with the most entries left. */
const DRAWS_PER_ENTRY_MAX = 64;
/** Error codes taken from an answer's body are ZooKeeper-style names of at most this length. */
const ERROR_CODE_LENGTH_MAX = 40;

/**
 * The ops of one cycle of a connection's request list: each op of the mix gets its share of
 * MIX_ENTRIES (largest remainder; an op with a positive weight gets at least one), in the
 * order the seeded OpPicker draws them. autocannon repeats the list, so every 100 requests
 * of a connection carry the mix exactly.
 */
export function weightedOps(mix: readonly OpWeight[], seed: number, entries = MIX_ENTRIES): OpKind[] {
  const usable = mix.filter((m) => m.weight > 0);
  const sum = usable.reduce((n, m) => n + m.weight, 0);
  const quota = new Map<OpKind, number>();
  const remainders: { op: OpKind; rest: number }[] = [];
  let given = 0;
  for (const m of usable) {
    const exact = (m.weight / sum) * entries;
    const n = Math.max(1, Math.floor(exact));
    quota.set(m.op, n);
    given += n;
    remainders.push({ op: m.op, rest: exact - Math.floor(exact) });
  }
  remainders.sort((a, b) => b.rest - a.rest);
  for (let i = 0; given < entries && i < remainders.length; i++, given++) {
    const op = remainders[i]!.op;
    quota.set(op, quota.get(op)! + 1);
  }
  const picker = new OpPicker(usable, seed);
  const out: OpKind[] = [];
  const total = [...quota.values()].reduce((a, b) => a + b, 0);
  while (out.length < total) {
    let op = picker.next();
    for (let i = 0; i < DRAWS_PER_ENTRY_MAX && quota.get(op)! === 0; i++) op = picker.next();
    if (quota.get(op)! === 0) op = [...quota.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
    quota.set(op, quota.get(op)! - 1);
    out.push(op);
  }
  return out;
}

/** The REST URL path of a znode (`/v1/znodes/a/b`) or of its children list, each segment percent-encoded. */
export function restPath(kind: 'znodes' | 'children', znode: string): string {
  return `/v1/${kind}${znode.split('/').map(encodeURIComponent).join('/')}`;
}

export interface Outcome {
  /** null on success, else ZooKeeper's code name from the body, or `HTTP_<status>`. */
  error: string | null;
  /** A successful create: the znode the server made (sequential name). */
  createdPath?: string;
}

/**
 * What an answer means for op. `exists` is sent as a GET (see connection.ts): a 404 is its
 * answer "no such znode", not an error, as ZooKeeper's exists returns no Stat.
 */
export function outcomeOf(op: OpKind, status: number, body: string): Outcome {
  if (status >= 200 && status < 300) {
    if (op !== 'create') return { error: null };
    const path = jsonField(body, (j) => (j as { path?: unknown }).path);
    return typeof path === 'string' ? { error: null, createdPath: path } : { error: null };
  }
  if (op === 'exists' && status === 404) return { error: null };
  const code = jsonField(body, (j) => (j as { error?: { code?: unknown } }).error?.code);
  if (typeof code === 'string' && code.length <= ERROR_CODE_LENGTH_MAX && /^[A-Z][A-Z0-9_]*$/.test(code)) return { error: code };
  return { error: `HTTP_${status}` };
}

function jsonField(body: string, get: (json: unknown) => unknown): unknown {
  if (body.length === 0 || body[0] !== '{') return undefined;
  try {
    const json: unknown = JSON.parse(body);
    return json !== null && typeof json === 'object' ? get(json) : undefined;
  } catch {
    return undefined;
  }
}
