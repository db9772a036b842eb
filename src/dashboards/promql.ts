/**
 * PromQL for the panels, built from the metric specs in telemetry/names.ts so that a renamed
 * metric breaks the build here rather than a panel at 3 a.m.
 *
 * Every selector filters on the `server` template variable: Prometheus' `instance` label
 * (host:port of the scraped /metrics) names the server, both in the compose stack and in any
 * scrape config that lists the servers' HTTP ports.
 */
import type { MetricSpec } from '../telemetry/names.js';

/** The label that tells servers apart (Prometheus sets it to the scrape target). */
export const SERVER_LABEL = 'instance';
/** Grafana's rate window: at least four scrape intervals, whatever the zoom. */
export const RATE_WINDOW = '$__rate_interval';

/** `name{instance=~"$server"[,extra]}`; suffix picks a histogram's _bucket/_sum/_count series. */
export function sel(spec: MetricSpec, suffix: '' | '_bucket' | '_sum' | '_count' = '', extra = ''): string {
  if (suffix !== '' && spec.kind !== 'histogram') throw new RangeError(`${spec.name} is a ${spec.kind}, it has no ${suffix} series`);
  const matchers = [`${SERVER_LABEL}=~"$server"`, ...(extra === '' ? [] : [extra])];
  return `${spec.name}${suffix}{${matchers.join(',')}}`;
}

/** Per-second rate of a counter (or of a histogram's _count: events per second). */
export function rate(spec: MetricSpec): string {
  switch (spec.kind) {
    case 'counter':
      return `rate(${sel(spec)}[${RATE_WINDOW}])`;
    case 'histogram':
      return `rate(${sel(spec, '_count')}[${RATE_WINDOW}])`;
    case 'gauge':
      throw new RangeError(`${spec.name} is a gauge; rate() of a gauge means nothing`);
  }
}

/** How many events in the rate window (a counter, or a histogram's observations). */
export function increase(spec: MetricSpec): string {
  switch (spec.kind) {
    case 'counter':
      return `increase(${sel(spec)}[${RATE_WINDOW}])`;
    case 'histogram':
      return `increase(${sel(spec, '_count')}[${RATE_WINDOW}])`;
    case 'gauge':
      throw new RangeError(`${spec.name} is a gauge; increase() of a gauge means nothing`);
  }
}

/** The q-quantile of a histogram, one series per value of `by` (e.g. instance, or key). */
export function quantile(q: number, spec: MetricSpec, by: readonly string[] = [SERVER_LABEL]): string {
  if (!(q > 0 && q < 1)) throw new RangeError(`quantile must be in (0, 1), got ${q}`);
  return `histogram_quantile(${q}, sum by (le, ${by.join(', ')}) (rate(${sel(spec, '_bucket')}[${RATE_WINDOW}])))`;
}

/** Mean of a histogram's observations in the rate window (ZooKeeper's avg_*), per server. */
export function mean(spec: MetricSpec): string {
  return `rate(${sel(spec, '_sum')}[${RATE_WINDOW}]) / rate(${sel(spec, '_count')}[${RATE_WINDOW}])`;
}
