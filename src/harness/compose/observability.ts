/**
 * The observability stack beside the servers: Prometheus scrapes every server's /metrics by
 * service name, Grafana is provisioned with that Prometheus (and Jaeger) and the zablab
 * dashboards, the OpenTelemetry Collector receives the servers' OTLP/HTTP spans and hands
 * them to Jaeger. Images are the projects' official ones, pinned so that a stack made today
 * starts the same next year.
 */
import YAML from 'yaml';
import { CONTAINER_PORTS, type ComposeServer } from './spec.js';

export const STACK_IMAGES = {
  prometheus: 'prom/prometheus:v2.53.1',
  grafana: 'grafana/grafana:11.1.0',
  otelCollector: 'otel/opentelemetry-collector-contrib:0.104.0',
  jaeger: 'jaegertracing/all-in-one:1.58.0',
} as const;

/** Stack services, by their compose names (also their host names on the default network). */
export const STACK_SERVICES = { prometheus: 'prometheus', grafana: 'grafana', otelCollector: 'otel-collector', jaeger: 'jaeger' } as const;

/** Where the servers send spans: the collector's OTLP/HTTP receiver. */
export const OTLP_HTTP_ENDPOINT = `http://${STACK_SERVICES.otelCollector}:4318`;
export const PROMETHEUS_DATASOURCE_UID = 'prometheus';
export const JAEGER_DATASOURCE_UID = 'jaeger';
const SCRAPE_INTERVAL = '5s';

/** Files of the stack, relative to the compose directory. */
export const STACK_FILES = {
  prometheus: 'prometheus/prometheus.yml',
  grafanaDatasources: 'grafana/provisioning/datasources/zablab.yml',
  grafanaDashboards: 'grafana/provisioning/dashboards/zablab.yml',
  dashboardsDir: 'grafana/dashboards',
  otelCollector: 'otel-collector/config.yaml',
} as const;

/** Container paths the stack's files are mounted at. */
export const STACK_MOUNTS = {
  prometheus: '/etc/prometheus/prometheus.yml',
  grafanaProvisioning: '/etc/grafana/provisioning',
  grafanaDashboards: '/var/lib/grafana/dashboards',
  otelCollector: '/etc/otelcol-contrib/config.yaml',
} as const;

function yamlFile(comment: string, doc: unknown): string {
  return `# ${comment}\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}

/** One static target per server (instance = zk<id>:8080), labelled with its role and id. */
export function prometheusConfig(servers: readonly ComposeServer[]): string {
  return yamlFile('Prometheus: scrapes /metrics of every zablab server by service name. Written by `zablab compose`.', {
    global: { scrape_interval: SCRAPE_INTERVAL, evaluation_interval: SCRAPE_INTERVAL },
    scrape_configs: [
      {
        job_name: 'zablab',
        metrics_path: '/metrics',
        static_configs: servers.map((s) => ({
          targets: [`${s.service}:${CONTAINER_PORTS.admin}`],
          labels: { role: s.role, server_id: String(s.id) },
        })),
      },
    ],
  });
}

export function grafanaDatasources(): string {
  return yamlFile('Grafana data sources: the stack\'s Prometheus (default) and Jaeger. Written by `zablab compose`.', {
    apiVersion: 1,
    datasources: [
      {
        name: 'Prometheus',
        uid: PROMETHEUS_DATASOURCE_UID,
        type: 'prometheus',
        access: 'proxy',
        url: `http://${STACK_SERVICES.prometheus}:9090`,
        isDefault: true,
        jsonData: { timeInterval: SCRAPE_INTERVAL },
      },
      {
        name: 'Jaeger',
        uid: JAEGER_DATASOURCE_UID,
        type: 'jaeger',
        access: 'proxy',
        url: `http://${STACK_SERVICES.jaeger}:16686`,
      },
    ],
  });
}

export function grafanaDashboardProvider(): string {
  return yamlFile('Grafana: load every dashboard JSON in grafana/dashboards/ into the "zablab" folder. Written by `zablab compose`.', {
    apiVersion: 1,
    providers: [
      {
        name: 'zablab',
        folder: 'zablab',
        type: 'file',
        disableDeletion: false,
        allowUiUpdates: true,
        updateIntervalSeconds: 30,
        options: { path: STACK_MOUNTS.grafanaDashboards, foldersFromFilesStructure: false },
      },
    ],
  });
}

/** OTLP/HTTP in (the servers' OTEL_EXPORTER_OTLP_ENDPOINT), batched, OTLP/gRPC out to Jaeger. */
export function otelCollectorConfig(): string {
  return yamlFile('OpenTelemetry Collector: OTLP/HTTP from the zablab servers to Jaeger. Written by `zablab compose`.', {
    receivers: { otlp: { protocols: { http: { endpoint: '0.0.0.0:4318' } } } },
    processors: { batch: { timeout: '1s' } },
    exporters: { 'otlp/jaeger': { endpoint: `${STACK_SERVICES.jaeger}:4317`, tls: { insecure: true } } },
    service: { pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['otlp/jaeger'] } } },
  });
}
