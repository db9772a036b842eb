/**
 * The environment that sets a zablab server's trace sampling for a bench run. Set explicitly
 * even for "every request", so that an OTEL_TRACES_SAMPLER in the user's shell cannot change
 * what a scenario measures.
 */
export function samplerEnv(sample: number | undefined): Record<string, string> {
  if (sample === undefined || sample >= 1) return { OTEL_TRACES_SAMPLER: 'parentbased_always_on' };
  // Parent-based: a write's spans on the other servers follow the decision of the server the client talks to.
  return { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: String(sample) };
}
