/**
 * The sampling decision, taken once per span start from OTEL_TRACES_SAMPLER(_ARG) with the
 * OpenTelemetry meanings:
 *
 *   always_on / always_off       every span / none, whatever the parent says
 *   traceidratio                 decided on the trace id, so every server that sees a trace
 *                                decides alike (a root draws its trace id first)
 *   parentbased_*                a child follows its parent's sampled flag; a root is decided
 *                                by the named sampler (the ratio one with a coin: a root's
 *                                decision travels in its traceparent, so nobody re-derives it)
 */
import type { IdWords } from './ids.js';

export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export interface SamplerConfig {
  name: SamplerName;
  /** For the *traceidratio samplers, in [0, 1]. */
  ratio: number;
}

/** How a root is decided. */
export type RootRule = 'on' | 'off' | 'coin' | 'traceId';

const UINT32_MAX = 0xffff_ffff;

/**
 * Whether a trace id falls under `ratio`: the XOR of its four 32-bit words against
 * ratio × 2^32 (the rule of OpenTelemetry's TraceIdRatioBasedSampler, so a zablab server and
 * an SDK-instrumented client agree on a trace).
 */
export function traceIdUnderRatio(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0 || traceId.length !== 32) return false;
  let acc = 0;
  for (let i = 0; i < 32; i += 8) {
    const word = parseInt(traceId.slice(i, i + 8), 16);
    if (Number.isNaN(word)) return false;
    acc = (acc ^ word) >>> 0;
  }
  return acc < Math.floor(ratio * UINT32_MAX);
}

/** traceIdUnderRatio for a trace id held as words (ids.ts): the same four words, XORed. */
export function traceWordsUnderRatio(w: IdWords, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  return (w.t0 ^ w.t1 ^ w.t2 ^ w.t3) >>> 0 < Math.floor(ratio * UINT32_MAX);
}

export class SpanSampler {
  readonly root: RootRule;
  /** Children follow their parent's sampled flag. */
  readonly parentBased: boolean;
  private readonly ratio: number;

  constructor(readonly config: SamplerConfig) {
    this.ratio = config.ratio;
    switch (config.name) {
      case 'always_on':
        this.root = 'on';
        this.parentBased = false;
        return;
      case 'always_off':
        this.root = 'off';
        this.parentBased = false;
        return;
      case 'traceidratio':
        this.root = config.ratio >= 1 ? 'on' : config.ratio <= 0 ? 'off' : 'traceId';
        this.parentBased = false;
        return;
      case 'parentbased_always_on':
        this.root = 'on';
        this.parentBased = true;
        return;
      case 'parentbased_always_off':
        this.root = 'off';
        this.parentBased = true;
        return;
      case 'parentbased_traceidratio':
        this.root = config.ratio >= 1 ? 'on' : config.ratio <= 0 ? 'off' : 'coin';
        this.parentBased = true;
        return;
    }
  }

  /** A root decided by a coin (root === 'coin'). */
  flip(): boolean {
    return Math.random() < this.ratio;
  }

  /** A root decided on its trace id (root === 'traceId'). */
  onTraceId(traceId: string): boolean {
    return traceIdUnderRatio(traceId, this.ratio);
  }

  /** The same decision for a trace id held as words. */
  onTraceWords(w: IdWords): boolean {
    return traceWordsUnderRatio(w, this.ratio);
  }
}
