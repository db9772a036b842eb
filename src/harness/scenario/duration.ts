/**
 * Durations as scenarios write them: `500ms`, `30s`, `2m`, `1h`, combinations such as `1m30s`,
 * or a bare number of seconds. Everything inside the harness is whole milliseconds.
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** One or more `<number><unit>` parts, largest unit first is not required (`30s500ms` is fine). */
const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
/** Longer text is not a duration anyone means; the bound keeps the regexes cheap. */
const MAX_DURATION_CHARS = 32;

/** How a message shows the accepted forms. */
export const DURATION_FORMS = 'e.g. 500ms, 30s, 2m, 1m30s, or a number of seconds';

/**
 * Milliseconds (rounded to a whole ms) of a duration string or a number of seconds;
 * undefined when the value is not a duration (negative, not finite, unknown unit, ...).
 */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? Math.round(value * 1_000) : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text.length === 0 || text.length > MAX_DURATION_CHARS || !DURATION_RE.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART_RE)) {
    ms += Number(amount) * UNIT_MS[unit as Unit];
  }
  return Math.round(ms);
}

/** The shortest exact form of a whole number of ms: `500ms`, `30s`, `2m`, `1m30s`, `1h`, `1.5s` never (→ `1s500ms`). */
export function formatDurationMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return `${ms}ms`;
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  const parts: string[] = [];
  for (const unit of ['h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit];
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}
