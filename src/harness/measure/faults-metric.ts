/**
 * The harness's own /metrics: `zablab_bench_faults_total{action,target,server_id}` counts the
 * faults the bench injected, so that Prometheus scrapes them next to the servers' metrics and
 * the dashboards mark each fault (annotation query `changes(zablab_bench_faults_total[1m]) > 0`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HarnessError } from '../errors.js';
import { HarnessMetric } from '../../telemetry/names.js';
import { FAULT_ACTIONS, type FaultAction } from '../scenario/types.js';

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** Label sets kept; a bench applies a handful of faults per run, so more means a loop gone wrong. */
export const FAULT_SERIES_MAX = 1_024;
const LABEL_VALUE_CHARS_MAX = 128;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class FaultsMetricServer {
  private readonly counts = new Map<string, number>();
  /** Faults not counted because FAULT_SERIES_MAX label sets exist already. */
  dropped = 0;

  private constructor(
    private readonly server: http.Server,
    readonly host: string,
    readonly port: number,
  ) {}

  /** Listens on host:port (port 0: one the OS picks) and serves GET /metrics. */
  static async start(port: number, host = '127.0.0.1'): Promise<FaultsMetricServer> {
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new HarnessError('ZABLAB_BENCH_SCENARIO', `the fault metric port must be an integer from 0 to 65535, got ${port}`);
    }
    let self: FaultsMetricServer | null = null;
    const server = http.createServer((req, res) => {
      const url = req.url ?? '/';
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (url === '/metrics' || url.startsWith('/metrics?')) {
        res.writeHead(200, { 'content-type': CONTENT_TYPE }).end(req.method === 'HEAD' ? undefined : (self?.render() ?? ''));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('try GET /metrics\n');
      }
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(new HarnessError('ZABLAB_BENCH_SCENARIO', `cannot serve the fault metric on ${host}:${port} (${err.code ?? err.message}); choose another port`));
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    self = new FaultsMetricServer(server, host, (server.address() as AddressInfo).port);
    return self;
  }

  /** What Prometheus scrapes. */
  get url(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${h}:${this.port}/metrics`;
  }

  /** Counts one fault: `target` as the scenario names it (leader, follower, observer, last, id:N). */
  /** serverId null: a fault that hit no one server (a cut into sides, a heal of every cut); its server_id is empty. */
  record(action: FaultAction, serverId: number | null, target: string): void {
    if (!(FAULT_ACTIONS as readonly string[]).includes(action)) throw new RangeError(`unknown fault action ${String(action)}`);
    if (serverId !== null && !Number.isInteger(serverId)) throw new RangeError(`server id must be an integer, got ${serverId}`);
    const labels = `action="${action}",target="${escapeLabel(target.slice(0, LABEL_VALUE_CHARS_MAX))}",server_id="${serverId ?? ''}"`;
    const n = this.counts.get(labels);
    if (n === undefined && this.counts.size >= FAULT_SERIES_MAX) {
      this.dropped++;
      return;
    }
    this.counts.set(labels, (n ?? 0) + 1);
  }

  /** Prometheus text format 0.0.4. */
  render(): string {
    const m = HarnessMetric.benchFaults;
    const lines = [`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} counter`];
    for (const [labels, n] of [...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) lines.push(`${m.name}{${labels}} ${n}`);
    return lines.join('\n') + '\n';
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
