/** harness/compose: zablab ensembles as docker compose directories (`zablab compose`, the `compose` driver). */
export { ComposeError } from './errors.js';
export type { ComposeErrorCode } from './errors.js';
export {
  CONTAINER_PATHS,
  CONTAINER_PORTS,
  DEFAULT_ADMIN_PORT_BASE,
  DEFAULT_BIND_ADDRESS,
  DEFAULT_CLIENT_PORT_BASE,
  DEFAULT_IMAGE,
  MAX_COMPOSE_SERVERS,
  PEERS_NETWORK,
  STACK_PORTS,
  composeServers,
  consecutivePorts,
  validateComposeSpec,
} from './spec.js';
export type { ComposeRole, ComposeServer, ComposeSpec } from './spec.js';
export { renderComposeZooCfg } from './zoo-cfg.js';
export type { ComposeCredentials } from './zoo-cfg.js';
export { ADMIN_TOKEN_ENTRY, COMPOSE_FILE, COMPOSE_MARKER, QUORUM_SECRET_ENTRY, composeDocument, renderComposeFile, serverFiles } from './compose-file.js';
export { OTLP_HTTP_ENDPOINT, STACK_FILES, STACK_IMAGES, STACK_SERVICES, grafanaDashboardProvider, grafanaDatasources, otelCollectorConfig, prometheusConfig } from './observability.js';
export { PACKAGE_DASHBOARDS_DIR, writeComposeDir } from './write.js';
export type { WriteComposeOptions, WrittenCompose } from './write.js';
