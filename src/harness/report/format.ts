/**
 * Numbers for people: thousands separators, a precision that fits the magnitude, units.
 * Always en-US so that a report reads the same wherever it was made.
 */

/** What a table shows for a value that was not observed (null). */
export const NOT_OBSERVED = '—';
/** A measurement that has no meaning for this row (e.g. "first write" after a restart): shown like one not observed. */
export const NOT_APPLICABLE = NOT_OBSERVED;

const formatters = new Map<number, Intl.NumberFormat>();

function formatter(fractionDigits: number): Intl.NumberFormat {
  let f = formatters.get(fractionDigits);
  if (f === undefined) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: fractionDigits, maximumFractionDigits: fractionDigits });
    formatters.set(fractionDigits, f);
  }
  return f;
}

/** `1234.5` → `1,235` (fixed fraction digits, grouped). */
export function formatNumber(value: number, fractionDigits = 0): string {
  if (!Number.isFinite(value)) return NOT_OBSERVED;
  const text = formatter(fractionDigits).format(value);
  // -0 and values that round to zero print as 0, not -0.
  return /^-0(\.0+)?$/.test(text) ? text.slice(1) : text;
}

/** Digits after the point so that about three significant digits show, at most `max`. */
function fractionDigitsFor(value: number, max = 3): number {
  const a = Math.abs(value);
  if (a === 0 || a >= 100) return 0;
  if (a >= 10) return Math.min(1, max);
  if (a >= 1) return Math.min(2, max);
  return max;
}

/** Throughput without its unit (the column says ops/s): `1,234`, `56.7`, `3.21`. */
export function formatOpsPerSec(value: number): string {
  return formatNumber(value, fractionDigitsFor(value, 2));
}

/** Milliseconds with the unit: `2.35 ms`, `0.412 ms`, `1,234 ms`; null → —. */
export function formatMs(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return NOT_OBSERVED;
  return `${formatNumber(value, fractionDigitsFor(value))} ms`;
}

/** A count: `12,345`. */
export function formatCount(value: number): string {
  return formatNumber(value, 0);
}

/** Seconds from milliseconds, one decimal: `5.0 s`. */
export function formatSecondsFromMs(ms: number): string {
  return `${formatNumber(ms / 1_000, 1)} s`;
}

/** A relative change in percent with its sign: `+12.3 %`, `-4.0 %`; null → —. */
export function formatDeltaPct(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return NOT_OBSERVED;
  const text = formatNumber(value, 1);
  return `${value > 0 && text !== '0.0' ? '+' : ''}${text} %`;
}

/** A ratio: `1.12×`; null → —. */
export function formatRatio(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return NOT_OBSERVED;
  return `${formatNumber(value, value >= 100 ? 0 : 2)}×`;
}

/** Bytes: `256 B`, `4 KiB`, `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${formatCount(bytes)} B`;
  if (bytes < 1024 * 1024) return `${formatNumber(bytes / 1024, bytes % 1024 === 0 ? 0 : 1)} KiB`;
  return `${formatNumber(bytes / (1024 * 1024), bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
}

/** A timestamp as UTC, to the second: `2025-03-01 12:00:05 UTC` (the text as given when it is no date). */
export function formatTimestamp(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * A tick label: short, unitless (the axis title carries the unit): `0`, `0.5`, `250`, `1.5k`, `12k`, `2M`.
 */
export function formatTick(value: number): string {
  const a = Math.abs(value);
  if (a >= 1e6) return `${trimZeros((value / 1e6).toFixed(a >= 1e7 ? 0 : 1))}M`;
  if (a >= 1e4) return `${trimZeros((value / 1e3).toFixed(0))}k`;
  if (a >= 1e3) return `${trimZeros((value / 1e3).toFixed(1))}k`;
  if (a >= 1 || a === 0) return trimZeros(value.toFixed(a >= 10 ? 0 : 1));
  return trimZeros(value.toPrecision(2));
}

function trimZeros(text: string): string {
  return text.includes('.') && !/e/i.test(text) ? text.replace(/\.?0+$/, '') : text;
}
