/**
 * Fault markers in Grafana: one annotation per injected fault through Grafana's HTTP API
 * (POST /api/annotations), tagged so that the zablab dashboards' "Faults (bench)" annotation
 * query shows it. A bench must never fail or stall because Grafana is slow or away: the call
 * is bounded by a timeout and reports the outcome instead of throwing. And the address of the
 * ensemble dashboard over a bench's time range, to open when it ends.
 */
import { zabEnsemble } from '../../dashboards/zab-ensemble.js';
import { FAULT_ANNOTATION_TAGS } from '../../telemetry/names.js';
import type { FaultAction } from '../scenario/types.js';

export interface FaultAnnotation {
  /** When the fault fired (Unix epoch ms). */
  timeMs: number;
  action: FaultAction;
  /** null: the fault hit no one server (a cut into sides, a heal of every cut). */
  serverId: number | null;
  text: string;
}

export interface GrafanaOptions {
  /** Service account token or API key (Bearer); default: the environment's GRAFANA_API_KEY. */
  apiKey?: string;
  /** Default 2,000 ms; at most 30,000. */
  timeoutMs?: number;
  /** Pin the annotation to one dashboard; default: an organization annotation found by its tags. */
  dashboardUid?: string;
  /** Where GRAFANA_API_KEY is read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export type AnnotationOutcome = { ok: true; id: number | null } | { ok: false; error: string };

export const GRAFANA_API_KEY_ENV = 'GRAFANA_API_KEY';
export const ANNOTATION_TIMEOUT_MS_DEFAULT = 2_000;
const TIMEOUT_MS_MAX = 30_000;
const TEXT_CHARS_MAX = 2_000;
const ERROR_BODY_CHARS_MAX = 200;

/** The tags a fault annotation carries: FAULT_ANNOTATION_TAGS and the action. */
export function faultTags(action: FaultAction): string[] {
  return [...FAULT_ANNOTATION_TAGS, action];
}

/**
 * Posts one fault annotation. grafanaUrl is Grafana's root (a sub-path such as
 * http://host/grafana works); user:password in it become Basic auth when there is no API key.
 * Never throws and never waits longer than the timeout.
 */
export async function postFaultAnnotation(grafanaUrl: string, a: FaultAnnotation, opts: GrafanaOptions = {}): Promise<AnnotationOutcome> {
  try {
    const target = annotationsUrl(grafanaUrl);
    if (typeof target === 'string') return { ok: false, error: target };
    const timeoutMs = Math.min(Math.max(1, Math.round(opts.timeoutMs ?? ANNOTATION_TIMEOUT_MS_DEFAULT)), TIMEOUT_MS_MAX);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    const apiKey = opts.apiKey ?? (opts.env ?? process.env)[GRAFANA_API_KEY_ENV];
    if (apiKey !== undefined && apiKey !== '') headers.authorization = `Bearer ${apiKey}`;
    else if (target.basic !== null) headers.authorization = `Basic ${target.basic}`;
    const body = {
      time: Math.round(a.timeMs),
      tags: faultTags(a.action),
      text: a.text.slice(0, TEXT_CHARS_MAX),
      ...(opts.dashboardUid === undefined ? {} : { dashboardUID: opts.dashboardUid }),
    };
    const res = await fetch(target.url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (!res.ok) return { ok: false, error: `Grafana answered ${res.status} to POST ${target.shown}: ${text.slice(0, ERROR_BODY_CHARS_MAX)}${hint(res.status)}` };
    return { ok: true, id: annotationId(text) };
  } catch (err) {
    return { ok: false, error: `POST ${shownUrl(grafanaUrl)}/api/annotations failed: ${describe(err)}` };
  }
}

/**
 * The ensemble dashboard (its uid from src/dashboards) over [fromMs, toMs] (Unix epoch ms, as
 * Grafana's `from`/`to` take them), without credentials; null when grafanaUrl is not an
 * http(s) URL.
 */
export function ensembleDashboardUrl(grafanaUrl: string, range: { fromMs: number; toMs: number }): string | null {
  let u: URL;
  try {
    u = new URL(grafanaUrl);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  const d = new URL(`d/${encodeURIComponent(zabEnsemble.uid)}`, u);
  d.searchParams.set('from', String(Math.floor(range.fromMs)));
  d.searchParams.set('to', String(Math.ceil(range.toMs)));
  return d.toString();
}

interface Target {
  url: string;
  /** The URL without credentials, for messages. */
  shown: string;
  basic: string | null;
}

/** The API URL, or why there is none. */
function annotationsUrl(grafanaUrl: string): Target | string {
  let u: URL;
  try {
    u = new URL(grafanaUrl);
  } catch {
    return `"${grafanaUrl}" is not a URL; give Grafana's address, e.g. http://127.0.0.1:3000`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `Grafana's URL must be http or https, got ${u.protocol}`;
  // fetch() refuses URLs with credentials: move them into a header.
  const basic = u.username === '' ? null : Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  const url = new URL('api/annotations', u).toString();
  return { url, shown: url, basic };
}

function shownUrl(grafanaUrl: string): string {
  try {
    const u = new URL(grafanaUrl);
    u.username = '';
    u.password = '';
    return u.origin + u.pathname.replace(/\/$/, '');
  } catch {
    return grafanaUrl;
  }
}

function annotationId(text: string): number | null {
  try {
    const j = JSON.parse(text) as { id?: unknown };
    return typeof j.id === 'number' ? j.id : null;
  } catch {
    return null;
  }
}

function hint(status: number): string {
  if (status === 401 || status === 403) {
    return ` (set ${GRAFANA_API_KEY_ENV} to a service account token that may write annotations, or put user:password in the URL)`;
  }
  return '';
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'no answer within the timeout';
    const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
    if (cause !== undefined && typeof cause.code === 'string') return `${err.message} (${cause.code})`;
    return err.message;
  }
  return String(err);
}
