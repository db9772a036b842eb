/**
 * JSON for the admin commands. ZooKeeper's AdminServer writes 64-bit longs (session ids,
 * zxids) as plain JSON numbers; JSON.stringify cannot write a bigint, and a JS number would
 * round them. This writer prints a bigint's exact digits, so our output is ZooKeeper's.
 */

export type JsonValue = null | boolean | number | bigint | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Largest admin command answer; a server with millions of watches must not build gigabytes. */
export const JSON_OUTPUT_MAX_CHARS = 16 * 1024 * 1024;
/** Deeper than any command answer; guards against a cycle. */
const DEPTH_MAX = 32;

/** The answer would exceed the limit; the command reports this instead of a truncated document. */
export class JsonTooLargeError extends Error {
  readonly code = 'ZABLAB_HTTP_OUTPUT_TOO_LARGE';
  constructor(readonly maxChars: number) {
    super(`the answer would exceed ${maxChars} characters; ask the four-letter word instead, or narrow the question`);
    this.name = 'JsonTooLargeError';
  }
}

/** `value` as JSON text; bigints as exact integers. Throws JsonTooLargeError beyond `maxChars`. */
export function toJson(value: JsonValue, maxChars = JSON_OUTPUT_MAX_CHARS): string {
  const parts: string[] = [];
  let size = 0;
  const push = (s: string): void => {
    size += s.length;
    if (size > maxChars) throw new JsonTooLargeError(maxChars);
    parts.push(s);
  };
  const write = (v: JsonValue, depth: number): void => {
    if (depth > DEPTH_MAX) throw new RangeError(`toJson: value nested deeper than ${DEPTH_MAX}`);
    if (v === null) return push('null');
    if (typeof v === 'boolean') return push(v ? 'true' : 'false');
    if (typeof v === 'number') return push(Number.isFinite(v) ? String(v) : 'null');
    if (typeof v === 'bigint') return push(v.toString());
    if (typeof v === 'string') return push(JSON.stringify(v));
    if (isArray(v)) {
      push('[');
      v.forEach((x, i) => {
        if (i > 0) push(',');
        write(x, depth + 1);
      });
      return push(']');
    }
    push('{');
    let first = true;
    for (const [k, x] of Object.entries(v)) {
      if (!first) push(',');
      first = false;
      push(JSON.stringify(k));
      push(':');
      write(x, depth + 1);
    }
    push('}');
  };
  write(value, 0);
  return parts.join('');
}

function isArray(v: JsonValue): v is readonly JsonValue[] {
  return Array.isArray(v);
}
