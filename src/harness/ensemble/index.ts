/** harness/ensemble: the `local` ensemble driver (servers as local processes) and its 4lw probe. */
export { LocalEnsemble, ensembleSignal, ENSEMBLE_SIGNALS, DEFAULT_START_TIMEOUT_MS } from './local-ensemble.js';
export type { DownReport, KillReport, LoadOptions, EnsembleSignal } from './local-ensemble.js';
export { DEFAULT_UP_TIMEOUT_MS, ENSEMBLE_HOST, MAX_ENSEMBLE_SERVERS, parseOverride, validateSpec } from './layout.js';
export type { EnsembleServer, EnsembleSpec, PeerRoute, ServerRole } from './layout.js';
export { EnsembleError, EnsembleNotServingError } from './errors.js';
export type { EnsembleErrorCode, NotServingDetail } from './errors.js';
export { fourLetterWord, FourLetterWordError, parseSrvr, epochOf, zxidHex } from './four-letter.js';
export type { ServingMode, SrvrAnswer } from './four-letter.js';
export { caughtUp } from './serving.js';
export type { ServerMode, ServerStatus } from './serving.js';
export { zablabCliPath } from './program.js';
export type { ServerProgram } from './program.js';
export { ENSEMBLE_FILE } from './state-file.js';
export { ENSEMBLE_CLIENT_CN, TLS_DIR, tlsPaths } from './tls-files.js';
export type { EnsembleTls } from './tls-files.js';
export { ADMIN_TOKEN_FILE, adminAuthHeaders, adminTokenPath, readAdminToken, writeAdminToken } from './admin-token.js';
export {
  PEER_SECURITY_MODES,
  PEER_TLS_DIR,
  QUORUM_SECRET_FILE,
  parsePeerSecurityMode,
  quorumAuthEntries,
  quorumSecretPath,
} from './peer-credentials.js';
export type { PeerSecurityMode } from './peer-credentials.js';
export { writeRandomSecret } from './secret-file.js';
