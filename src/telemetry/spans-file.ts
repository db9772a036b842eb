/**
 * The spans file: with ZABLAB_SPANS_DIR set, each server appends its finished spans to
 * `$ZABLAB_SPANS_DIR/server-<id>.jsonl`, one JSON object per line, so that the harness
 * can rebuild a write's trace across the ensemble with no collector running. The server
 * writes it through spans-file-sink.ts (a writer thread); the line format is spanLine()'s,
 * and SpansFileExporter writes the same lines for OpenTelemetry SDK spans.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { HrTime } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

export const SPANS_DIR_ENV = 'ZABLAB_SPANS_DIR';
/** A spans file stops growing at this size (spans past it are counted as dropped). */
export const SPANS_FILE_MAX_BYTES_DEFAULT = 1024 * 1024 * 1024;
/** Spans go to the writer thread at least this often; the file is about this far behind (well within 2 s). */
export const SPANS_FILE_FLUSH_MS = 500;

export type SpanAttributeValue = string | number | boolean | (string | number | boolean | null | undefined)[];

/** One line of a spans file. Times are Unix epoch nanoseconds as decimal strings (they exceed 2^53). */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  /** null for a root span. */
  parentSpanId: string | null;
  name: string;
  /** OpenTelemetry SpanKind (0 internal, 1 server, ...). */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  durationMs: number;
  /** OpenTelemetry SpanStatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
  attributes: Record<string, SpanAttributeValue>;
  events: { name: string; timeUnixNano: string; attributes?: Record<string, SpanAttributeValue> }[];
  links: { traceId: string; spanId: string }[];
  /** The resource's attributes (service.name, zab.server.id, ...). */
  resource: Record<string, SpanAttributeValue>;
}

export function spansFileName(dir: string, serverId: number): string {
  return path.join(dir, `server-${serverId}.jsonl`);
}

function nanos(t: HrTime): string {
  return (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();
}

function flat(attrs: Readonly<Record<string, unknown>>): Record<string, SpanAttributeValue> {
  const out: Record<string, SpanAttributeValue> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined) out[k] = v as SpanAttributeValue;
  }
  return out;
}

export function spanRecord(s: ReadableSpan): SpanRecord {
  const sc = s.spanContext();
  const rec: SpanRecord = {
    traceId: sc.traceId,
    spanId: sc.spanId,
    parentSpanId: s.parentSpanContext?.spanId ?? null,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: nanos(s.startTime),
    endTimeUnixNano: nanos(s.endTime),
    durationMs: s.duration[0] * 1_000 + s.duration[1] / 1_000_000,
    status: s.status.message === undefined ? { code: s.status.code } : { code: s.status.code, message: s.status.message },
    attributes: flat(s.attributes),
    events: s.events.map((e) =>
      e.attributes === undefined ? { name: e.name, timeUnixNano: nanos(e.time) } : { name: e.name, timeUnixNano: nanos(e.time), attributes: flat(e.attributes) },
    ),
    links: s.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
    resource: flat(s.resource.attributes),
  };
  return rec;
}

/**
 * One line of the file, as JSON.stringify(spanRecord(s)) would write it, built directly: at
 * full sampling this runs for every span, and the intermediate objects cost more than the text.
 */
export function spanLine(s: ReadableSpan, resourceJson: string): string {
  const sc = s.spanContext();
  const parent = s.parentSpanContext?.spanId;
  const status = s.status.message === undefined ? `{"code":${s.status.code}}` : JSON.stringify({ code: s.status.code, message: s.status.message });
  let events = '[';
  for (let i = 0; i < s.events.length; i++) {
    const e = s.events[i]!;
    if (i > 0) events += ',';
    events += `{"name":${JSON.stringify(e.name)},"timeUnixNano":"${nanos(e.time)}"`;
    events += e.attributes === undefined ? '}' : `,"attributes":${JSON.stringify(e.attributes)}}`;
  }
  events += ']';
  let links = '[';
  for (let i = 0; i < s.links.length; i++) {
    const l = s.links[i]!.context;
    links += `${i > 0 ? ',' : ''}{"traceId":"${l.traceId}","spanId":"${l.spanId}"}`;
  }
  links += ']';
  const durationMs = s.duration[0] * 1_000 + s.duration[1] / 1_000_000;
  return (
    `{"traceId":"${sc.traceId}","spanId":"${sc.spanId}","parentSpanId":${parent === undefined ? 'null' : `"${parent}"`},` +
    `"name":${JSON.stringify(s.name)},"kind":${s.kind},"startTimeUnixNano":"${nanos(s.startTime)}","endTimeUnixNano":"${nanos(s.endTime)}",` +
    `"durationMs":${durationMs},"status":${status},"attributes":${JSON.stringify(s.attributes)},"events":${events},"links":${links},` +
    `"resource":${resourceJson}}\n`
  );
}

export interface SpansFileOptions {
  file: string;
  maxBytes?: number;
  /** Told once per export that drops spans, with how many and why. */
  onDrop?: (spans: number, reason: string) => void;
}

/** A SpanExporter that appends JSON lines to one file, in export order. */
export class SpansFileExporter implements SpanExporter {
  private bytes: number;
  private readonly maxBytes: number;
  private tail: Promise<void> = Promise.resolve();
  private shut = false;
  private resourceOf: unknown = null;
  private resourceJson: string | null = null;

  constructor(private readonly opts: SpansFileOptions) {
    this.maxBytes = opts.maxBytes ?? SPANS_FILE_MAX_BYTES_DEFAULT;
    fs.mkdirSync(path.dirname(opts.file), { recursive: true });
    this.bytes = fs.existsSync(opts.file) ? fs.statSync(opts.file).size : 0;
  }

  get file(): string {
    return this.opts.file;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.shut) {
      done({ code: ExportResultCode.FAILED, error: new Error('the spans file exporter is shut down') });
      return;
    }
    let text = '';
    for (const s of spans) {
      // Every span of a server has the same resource: serialize it once.
      if (this.resourceJson === null || this.resourceOf !== s.resource) {
        this.resourceOf = s.resource;
        this.resourceJson = JSON.stringify(flat(s.resource.attributes));
      }
      text += spanLine(s, this.resourceJson);
    }
    const size = Buffer.byteLength(text);
    if (this.bytes + size > this.maxBytes) {
      // A deliberate drop, counted and reported through onDrop: not an export failure to retry or log.
      this.opts.onDrop?.(spans.length, `${this.opts.file} reached its limit of ${this.maxBytes} bytes`);
      done({ code: ExportResultCode.SUCCESS });
      return;
    }
    this.bytes += size;
    this.tail = this.tail.then(() =>
      fs.promises.appendFile(this.opts.file, text).then(
        () => done({ code: ExportResultCode.SUCCESS }),
        (err: unknown) => {
          this.opts.onDrop?.(spans.length, `writing ${this.opts.file} failed: ${String(err)}`);
          done({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
        },
      ),
    );
  }

  forceFlush(): Promise<void> {
    return this.tail;
  }

  shutdown(): Promise<void> {
    this.shut = true;
    return this.tail;
  }
}

/** Parse a spans file; a torn last line (the server was killed mid-write) is skipped. */
export function readSpansFile(file: string): SpanRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: SpanRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as SpanRecord);
    } catch {
      // Only the last line can be torn; anything else is still worth reading.
    }
  }
  return out;
}
