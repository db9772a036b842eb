/**
 * Before the load: the root znode (and its parents), the keys and one directory per client,
 * created through the REST face itself (POST; 409 NODEEXISTS is fine, so reruns keep what
 * is there), spread over every member and bounded in flight.
 */
import { adminAuthHeaders } from '../../ensemble/admin-token.js';
import { HarnessError } from '../../errors.js';
import { keyPath } from '../ops.js';
import { restPath } from './requests.js';

/** Creates in flight while preparing the keys. */
const SETUP_WINDOW = 64;
/** One setup request may take this long (a write goes through the leader and fsync). */
const SETUP_REQUEST_TIMEOUT_MS = 30_000;
/** Characters of an error answer quoted in a setup failure. */
const QUOTE_CHARS_MAX = 300;

export interface RestAnswer {
  status: number;
  body: string;
}

/** One request to a member's REST face, with the HTTP face's token when there is one. */
export async function restCall(baseUrl: string, method: string, path: string, token: string | null, body?: Buffer): Promise<RestAnswer> {
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers: { ...adminAuthHeaders(token), ...(body === undefined ? {} : { 'content-type': 'application/octet-stream' }) },
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(SETUP_REQUEST_TIMEOUT_MS),
  });
  return { status: res.status, body: await res.text() };
}

/** The directory a client's creates go to (and its deletes come from). */
export function clientDir(root: string, client: number): string {
  return `${root}/h${client}`;
}

/** `/a/b/c` → [`/a`, `/a/b`, `/a/b/c`]. */
function selfAndAncestors(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  return parts.map((_, i) => '/' + parts.slice(0, i + 1).join('/'));
}

async function createIfMissing(baseUrl: string, znode: string, data: Buffer, token: string | null): Promise<void> {
  let answer: RestAnswer;
  try {
    answer = await restCall(baseUrl, 'POST', `${restPath('znodes', znode)}?mode=persistent`, token, data);
  } catch (err) {
    throw new HarnessError('ZABLAB_BENCH_LOAD', `cannot create ${znode} through ${baseUrl}: ${(err as Error).message}; is the server up and its HTTP face (admin.serverPort) reachable?`);
  }
  if (answer.status === 201 || answer.status === 409) return;
  if (answer.status === 401 || answer.status === 403) {
    throw new HarnessError(
      'ZABLAB_BENCH_LOAD',
      `${baseUrl} refused the load's credentials (HTTP ${answer.status} ${answer.body.slice(0, QUOTE_CHARS_MAX)}); the harness sends the ensemble's admin.tokenFile token (external: set ensemble.adminTokenFile)`,
    );
  }
  if (answer.status === 404 && !answer.body.includes('"NONODE"')) {
    throw new HarnessError('ZABLAB_BENCH_LOAD', `${baseUrl} has no REST face (/v1/znodes): the http load driver needs zablab servers; use load.driver native for Apache ZooKeeper`);
  }
  throw new HarnessError(
    'ZABLAB_BENCH_LOAD',
    `cannot create ${znode} through ${baseUrl}: HTTP ${answer.status} ${answer.body.slice(0, QUOTE_CHARS_MAX)}; the ensemble must serve writes before the load starts`,
  );
}

/** Runs f over items with at most `window` calls pending; rejects on the first failure. */
async function forEachWindowed<T>(items: readonly T[], window: number, f: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await f(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, items.length) }, lane));
}

export interface PrepareSpec {
  urls: readonly string[];
  root: string;
  keys: number;
  value: Buffer;
  clients: number;
  /** The HTTP face's bearer token, null when none is needed. */
  token: string | null;
}

/** Root and parents (in order), then the keys and the client directories, windowed over every member. */
export async function prepareZnodes(spec: PrepareSpec): Promise<void> {
  const first = spec.urls[0]!;
  for (const p of selfAndAncestors(spec.root)) await createIfMissing(first, p, Buffer.alloc(0), spec.token);
  const keys = Array.from({ length: spec.keys }, (_, i) => keyPath(spec.root, i));
  await forEachWindowed(keys, SETUP_WINDOW, (p, i) => createIfMissing(spec.urls[i % spec.urls.length]!, p, spec.value, spec.token));
  const dirs = Array.from({ length: spec.clients }, (_, i) => clientDir(spec.root, i));
  await forEachWindowed(dirs, SETUP_WINDOW, (p, i) => createIfMissing(spec.urls[i % spec.urls.length]!, p, Buffer.alloc(0), spec.token));
}
