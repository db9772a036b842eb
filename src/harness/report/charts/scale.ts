/** Linear and logarithmic scales with "nice" ticks (1, 2, 5 × 10^k). */

export interface Scale {
  kind: 'linear' | 'log';
  domain: [number, number];
  range: [number, number];
  ticks: number[];
  map(value: number): number;
  /** Whether the scale can show this value (a log scale cannot show 0 or less). */
  shows(value: number): boolean;
}

/** A step of 1, 2 or 5 × 10^k that cuts `span` into about `count` parts. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/** Rounds away float noise from tick values (0.30000000000000004 → 0.3). */
function clean(v: number): number {
  return Number(v.toPrecision(12));
}

export interface LinearOptions {
  /** Start the domain at 0 (bars, counts). */
  includeZero?: boolean;
  tickCount?: number;
}

export function linearScale(min: number, max: number, range: [number, number], opts: LinearOptions = {}): Scale {
  let lo = opts.includeZero === true ? Math.min(0, min) : min;
  let hi = opts.includeZero === true ? Math.max(0, max) : max;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-12) {
    const pad = Math.abs(hi) > 0 ? Math.abs(hi) * 0.1 : 1;
    [lo, hi] = [lo === 0 ? 0 : lo - pad, hi + pad];
  }
  const step = niceStep(hi - lo, opts.tickCount ?? 5);
  lo = clean(Math.floor(lo / step) * step);
  hi = clean(Math.ceil(hi / step) * step);
  const ticks: number[] = [];
  for (let v = lo, i = 0; v <= hi + step / 2 && i < 50; v += step, i++) ticks.push(clean(v));
  const [r0, r1] = range;
  return {
    kind: 'linear',
    domain: [lo, hi],
    range,
    ticks,
    map: (v) => r0 + ((v - lo) / (hi - lo)) * (r1 - r0),
    shows: (v) => Number.isFinite(v),
  };
}

/** A log10 scale over whole decades; min must be > 0 (callers drop values ≤ 0). */
export function logScale(min: number, max: number, range: [number, number]): Scale {
  const safeMin = Number.isFinite(min) && min > 0 ? min : 1;
  const safeMax = Number.isFinite(max) && max > safeMin ? max : safeMin;
  let loExp = Math.floor(Math.log10(safeMin));
  let hiExp = Math.ceil(Math.log10(safeMax));
  if (hiExp <= loExp) hiExp = loExp + 1;
  // At most 12 decades: a wider span is a unit mistake, not data worth reading.
  if (hiExp - loExp > 12) loExp = hiExp - 12;
  const ticks: number[] = [];
  const decades = hiExp - loExp;
  for (let e = loExp; e <= hiExp; e++) {
    const base = 10 ** e;
    ticks.push(clean(base));
    if (decades <= 2 && e < hiExp) ticks.push(clean(2 * base), clean(5 * base));
  }
  ticks.sort((a, b) => a - b);
  const [r0, r1] = range;
  return {
    kind: 'log',
    domain: [10 ** loExp, 10 ** hiExp],
    range,
    ticks,
    map: (v) => r0 + ((Math.log10(Math.max(v, 10 ** loExp)) - loExp) / (hiExp - loExp)) * (r1 - r0),
    shows: (v) => Number.isFinite(v) && v > 0,
  };
}
