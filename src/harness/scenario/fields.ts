/**
 * Field readers shared by the YAML parser and matrix expansion: each checks one value, and on
 * a bad one throws HarnessError ZABLAB_BENCH_SCENARIO naming the file (and line when known),
 * the run (after matrix expansion), the field path, what was found and what is allowed.
 */
import { HarnessError } from '../errors.js';
import { DURATION_FORMS, formatDurationMs, parseDurationMs } from './duration.js';

/** A field path: mapping keys and list indexes, e.g. ['faults', 1, 'action'] → `faults[1].action`. */
export type FieldPath = readonly (string | number)[];

/** Where a value came from, for messages. */
export interface FieldContext {
  source: string;
  /** Line (1-based) of the value at a path in the source, when the source text is at hand. */
  locate?: (path: FieldPath) => number | undefined;
  /** The run being checked (after a matrix cell was applied). */
  run?: string;
}

/** `faults[1].action`; a key with characters other than letters, digits, '_' and '.' is quoted. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_.-]+$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Throws the scenario error for `path`: "<source>[:line]: [run R: ]<path> <problem>". */
export function fail(ctx: FieldContext, path: FieldPath, problem: string): never {
  const line = path.length > 0 ? ctx.locate?.(path) : undefined;
  const where = line === undefined ? ctx.source : `${ctx.source}:${line}`;
  const run = ctx.run === undefined ? '' : `run ${ctx.run}: `;
  const subject = path.length > 0 ? `${formatPath(path)} ` : '';
  throw new HarnessError('ZABLAB_BENCH_SCENARIO', `${where}: ${run}${subject}${problem}`);
}

const MAX_SHOWN_CHARS = 60;

/** A found value as a message shows it: strings quoted (and cut), lists and mappings by kind. */
export function shown(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const cut = value.length > MAX_SHOWN_CHARS ? `${value.slice(0, MAX_SHOWN_CHARS)}…` : value;
    return JSON.stringify(cut);
  }
  return String(value);
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A mapping whose keys are all in `allowed`; an unknown key (usually a typo) is an error that
 * lists the allowed keys and, when one is close, suggests it.
 */
export function readMapping(ctx: FieldContext, path: FieldPath, value: unknown, allowed: readonly string[], what: string): Record<string, unknown> {
  if (!isMapping(value)) fail(ctx, path, `must be a mapping of ${what} fields (${allowed.join(', ')}), got ${shown(value)}`);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const hint = closest(key, allowed);
      fail(ctx, [...path, key], `is not ${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what} field${hint === undefined ? '' : ` (did you mean ${hint}?)`}; allowed: ${allowed.join(', ')}`);
    }
  }
  return value;
}

export function readInt(ctx: FieldContext, path: FieldPath, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(ctx, path, `must be an integer from ${min} to ${max}, got ${shown(value)}`);
  }
  return value;
}

export function readNumber(ctx: FieldContext, path: FieldPath, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(ctx, path, `must be a number from ${min} to ${max}, got ${shown(value)}`);
  }
  return value;
}

export function readBoolean(ctx: FieldContext, path: FieldPath, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(ctx, path, `must be true or false, got ${shown(value)}`);
  return value;
}

export function readOneOf<T extends string>(ctx: FieldContext, path: FieldPath, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(ctx, path, `must be one of ${allowed.join(', ')}, got ${shown(value)}`);
  }
  return value as T;
}

/** A duration in [minMs, maxMs], as whole milliseconds. */
export function readDuration(ctx: FieldContext, path: FieldPath, value: unknown, minMs: number, maxMs: number): number {
  const ms = parseDurationMs(value);
  if (ms === undefined || ms < minMs || ms > maxMs) {
    fail(ctx, path, `must be a duration from ${formatDurationMs(minMs)} to ${formatDurationMs(maxMs)} (${DURATION_FORMS}), got ${shown(value)}`);
  }
  return ms;
}

/** A string of 1..maxChars characters matching `pattern` (described in words by `patternText`). */
export function readText(ctx: FieldContext, path: FieldPath, value: unknown, pattern: RegExp, patternText: string, maxChars: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxChars || !pattern.test(value)) {
    fail(ctx, path, `must be ${patternText} (at most ${maxChars} characters), got ${shown(value)}`);
  }
  return value;
}

/** The allowed word closest to a typo (the first of equals), when within edit distance 2. */
function closest(word: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance; both words are short keys. */
function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Number.POSITIVE_INFINITY;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? Number.POSITIVE_INFINITY;
}
