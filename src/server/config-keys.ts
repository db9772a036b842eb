/**
 * The zoo.cfg vocabulary: which keys zablab implements, which ZooKeeper keys it accepts but
 * ignores (with a warning), which it refuses, and "did you mean" for everything else.
 * Names and system-property spellings follow ZooKeeper's administrator's guide.
 */

/**
 * Keys zablab implements: canonical zoo.cfg name → the other spellings ZooKeeper accepts for
 * the same setting (its Java system property names). A `zookeeper.` spelling is listed only
 * where ZooKeeper really reads one.
 */
export const SUPPORTED_KEYS = {
  tickTime: [],
  initLimit: [],
  syncLimit: [],
  connectToLearnerMasterLimit: ['zookeeper.connectToLearnerMasterLimit'],
  dataDir: [],
  dataLogDir: [],
  clientPort: [],
  clientPortAddress: [],
  clientPortListenBacklog: [],
  peerType: [],
  electionAlg: [],
  standaloneEnabled: [],
  quorumListenOnAllIPs: [],
  electionPortBindRetry: ['zookeeper.electionPortBindRetry'],
  cnxTimeout: ['zookeeper.cnxTimeout'],
  snapCount: ['zookeeper.snapCount'],
  globalOutstandingLimit: ['zookeeper.globalOutstandingLimit'],
  preAllocSize: ['zookeeper.preAllocSize'],
  forceSync: ['zookeeper.forceSync'],
  'fsync.warningthresholdms': ['zookeeper.fsync.warningthresholdms'],
  commitLogCount: ['zookeeper.commitLogCount'],
  snapshotSizeFactor: ['zookeeper.snapshotSizeFactor'],
  maxClientCnxns: [],
  maxCnxns: ['zookeeper.maxCnxns'],
  // ZooKeeper reads these as system properties only; zoo.cfg's unknown keys become `zookeeper.<key>` ones.
  'nio.sessionlessCnxnTimeout': ['zookeeper.nio.sessionlessCnxnTimeout'],
  connection_throttle_tokens: ['zookeeper.connection_throttle_tokens'],
  connection_throttle_fill_time: ['zookeeper.connection_throttle_fill_time'],
  connection_throttle_fill_count: ['zookeeper.connection_throttle_fill_count'],
  connection_throttle_freeze_time: ['zookeeper.connection_throttle_freeze_time'],
  connection_throttle_drop_increase: ['zookeeper.connection_throttle_drop_increase'],
  connection_throttle_drop_decrease: ['zookeeper.connection_throttle_drop_decrease'],
  connection_throttle_decrease_ratio: ['zookeeper.connection_throttle_decrease_ratio'],
  connection_throttle_weight_enabled: ['zookeeper.connection_throttle_weight_enabled'],
  connection_throttle_global_session_weight: ['zookeeper.connection_throttle_global_session_weight'],
  connection_throttle_local_session_weight: ['zookeeper.connection_throttle_local_session_weight'],
  connection_throttle_renew_session_weight: ['zookeeper.connection_throttle_renew_session_weight'],
  // zablab's own: ZooKeeper's connection throttle is one bucket for all clients.
  'zablab.connection_throttle_per_ip_tokens': [],
  'zablab.connection_throttle_per_ip_fill_time': [],
  'zablab.connection_throttle_per_ip_fill_count': [],
  minSessionTimeout: [],
  maxSessionTimeout: [],
  leaderServes: ['zookeeper.leaderServes'],
  'jute.maxbuffer': [],
  'znode.container.checkIntervalMs': ['zookeeper.znode.container.checkIntervalMs'],
  'autopurge.snapRetainCount': [],
  'autopurge.purgeInterval': [],
  '4lw.commands.whitelist': ['zookeeper.4lw.commands.whitelist'],
  'admin.enableServer': ['zookeeper.admin.enableServer'],
  'admin.serverAddress': ['zookeeper.admin.serverAddress'],
  'admin.serverPort': ['zookeeper.admin.serverPort'],
  // zablab's credentials for the HTTP face (ZooKeeper has none of these).
  'admin.tokenFile': [],
  'admin.auth.enabled': [],
  'admin.allowedHosts': [],
  // ZooKeeper's AdminServer TLS: JettyAdminServer serves HTTPS with the quorum key and trust stores.
  'admin.forceHttps': ['zookeeper.admin.forceHttps'],
  'admin.needClientAuth': ['zookeeper.admin.needClientAuth'],
  'ssl.quorum.keyStore.location': ['zookeeper.ssl.quorum.keyStore.location'],
  'ssl.quorum.keyStore.type': ['zookeeper.ssl.quorum.keyStore.type'],
  'ssl.quorum.keyStore.password': ['zookeeper.ssl.quorum.keyStore.password'],
  'ssl.quorum.keyStore.passwordPath': ['zookeeper.ssl.quorum.keyStore.passwordPath'],
  'ssl.quorum.trustStore.location': ['zookeeper.ssl.quorum.trustStore.location'],
  'ssl.quorum.trustStore.type': ['zookeeper.ssl.quorum.trustStore.type'],
  // A PEM trust store has no password; ZooKeeper does not use one either.
  'ssl.quorum.trustStore.password': ['zookeeper.ssl.quorum.trustStore.password'],
  'ssl.quorum.trustStore.passwordPath': ['zookeeper.ssl.quorum.trustStore.passwordPath'],
  // Quorum TLS: ZooKeeper's QuorumX509Util keys. crl, ocsp, sslQuorumReloadCertFiles and
  // portUnification are accepted only as false, clientAuth only as need (see config.ts).
  sslQuorum: ['zookeeper.sslQuorum'],
  'ssl.quorum.hostnameVerification': ['zookeeper.ssl.quorum.hostnameVerification'],
  'ssl.quorum.protocol': ['zookeeper.ssl.quorum.protocol'],
  'ssl.quorum.enabledProtocols': ['zookeeper.ssl.quorum.enabledProtocols'],
  'ssl.quorum.clientAuth': ['zookeeper.ssl.quorum.clientAuth'],
  'ssl.quorum.crl': ['zookeeper.ssl.quorum.crl'],
  'ssl.quorum.ocsp': ['zookeeper.ssl.quorum.ocsp'],
  sslQuorumReloadCertFiles: [],
  portUnification: [],
  // Quorum authentication: ZooKeeper's QuorumAuth switches; the shared secret's file is zablab's (ZooKeeper reads JAAS).
  'quorum.auth.enableSasl': [],
  'quorum.auth.learnerRequireSasl': [],
  'quorum.auth.serverRequireSasl': [],
  'quorum.auth.secretFile': [],
  // Client-port TLS (NettyServerCnxnFactory with ClientX509Util's zookeeper.ssl.* settings).
  secureClientPort: [],
  secureClientPortAddress: [],
  'client.portUnification': ['zookeeper.client.portUnification'],
  'ssl.keyStore.location': ['zookeeper.ssl.keyStore.location'],
  'ssl.keyStore.type': ['zookeeper.ssl.keyStore.type'],
  'ssl.keyStore.password': ['zookeeper.ssl.keyStore.password'],
  'ssl.keyStore.passwordPath': ['zookeeper.ssl.keyStore.passwordPath'],
  'ssl.trustStore.location': ['zookeeper.ssl.trustStore.location'],
  'ssl.trustStore.type': ['zookeeper.ssl.trustStore.type'],
  'ssl.trustStore.password': ['zookeeper.ssl.trustStore.password'],
  'ssl.trustStore.passwordPath': ['zookeeper.ssl.trustStore.passwordPath'],
  'ssl.clientAuth': ['zookeeper.ssl.clientAuth'],
  'ssl.protocol': ['zookeeper.ssl.protocol'],
  'ssl.enabledProtocols': ['zookeeper.ssl.enabledProtocols'],
  'ssl.ciphersuites': ['zookeeper.ssl.ciphersuites'],
  'ssl.hostnameVerification': ['zookeeper.ssl.hostnameVerification'],
  'ssl.crl': ['zookeeper.ssl.crl'],
  'ssl.ocsp': ['zookeeper.ssl.ocsp'],
  'ssl.context.supplier.class': ['zookeeper.ssl.context.supplier.class'],
  'ssl.handshakeDetectionTimeoutMillis': ['zookeeper.ssl.handshakeDetectionTimeoutMillis'],
  'ssl.authProvider': ['zookeeper.ssl.authProvider'],
  // Client authentication: which sessions must have authenticated, and who is a super user.
  'enforce.auth.enabled': ['zookeeper.enforce.auth.enabled'],
  'enforce.auth.schemes': ['zookeeper.enforce.auth.schemes'],
  sessionRequireClientSASLAuth: ['zookeeper.sessionRequireClientSASLAuth'],
  'X509AuthenticationProvider.superUser': ['zookeeper.X509AuthenticationProvider.superUser'],
  // The JAAS section ZooKeeper reads DIGEST-MD5 users from (zookeeper.sasl.serverconfig) ...
  'sasl.serverconfig': ['zookeeper.sasl.serverconfig'],
  // ... and zablab's own key for the file ZooKeeper takes from -Djava.security.auth.login.config.
  'zablab.sasl.jaasFile': [],
  extendedTypesEnabled: ['zookeeper.extendedTypesEnabled'],
  syncEnabled: ['zookeeper.observer.syncEnabled'],
  skipACL: ['zookeeper.skipACL'],
  'DigestAuthenticationProvider.superDigest': ['zookeeper.DigestAuthenticationProvider.superDigest'],
  'digest.enabled': ['zookeeper.digest.enabled'],
  tcpKeepAlive: ['zookeeper.tcpKeepAlive'],
  clientTcpKeepAlive: ['zookeeper.clientTcpKeepAlive'],
} as const satisfies Record<string, readonly string[]>;

export type SupportedKey = keyof typeof SUPPORTED_KEYS;

/**
 * The four-letter words zablab answers, which `4lw.commands.whitelist` may name
 * (ZooKeeper's gtmk, stmk and hash are not implemented).
 */
export const FOUR_LETTER_WORDS = [
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'isro', 'mntr', 'ruok', 'srst', 'srvr', 'stat', 'wchc',
  'wchp', 'wchs',
] as const;
export type FourLetterWord = (typeof FOUR_LETTER_WORDS)[number];

/**
 * Names ZooKeeper's administrator's guide gives the connection throttle's settings, which
 * ZooKeeper itself never reads (in zoo.cfg they become `zookeeper.connectionMaxTokens`, ...,
 * while its throttle reads `zookeeper.connection_throttle_tokens`, ...): ignored here too,
 * with a warning naming the key that works on both.
 */
const DOCUMENTED_ONLY_KEYS: ReadonlyMap<string, string> = new Map([
  ['connectionMaxTokens', 'connection_throttle_tokens'],
  ['connectionTokenFillTime', 'connection_throttle_fill_time'],
  ['connectionTokenFillCount', 'connection_throttle_fill_count'],
  ['connectionFreezeTime', 'connection_throttle_freeze_time'],
  ['connectionDropIncrease', 'connection_throttle_drop_increase'],
  ['connectionDropDecrease', 'connection_throttle_drop_decrease'],
  ['connectionDecreaseRatio', 'connection_throttle_decrease_ratio'],
]);

/**
 * ZooKeeper settings zablab accepts and ignores, with a warning: they tune parts zablab does
 * not have (TLS, SASL, Netty, JVM, caches, ...). Each is also accepted as `zookeeper.<key>`.
 */
export const IGNORED_KEYS: readonly string[] = [
  'observerMasterPort', 'snapSizeLimitInKb',
  'txnLogSizeLimitInKb', 'maxResponseCacheSize', 'maxGetChildrenResponseCacheSize', 'emulate353TTLNodes',
  'watchManagerName', 'watcherCleanThreadsNum', 'watcherCleanThreshold', 'watcherCleanIntervalInSeconds',
  'maxInProcessingDeadWatchers', 'bitHashCacheSize', 'fastleader.minNotificationInterval',
  'fastleader.maxNotificationInterval', ...DOCUMENTED_ONLY_KEYS.keys(), 'serverCnxnFactory',
  'flushDelay', 'maxWriteQueuePollTime', 'maxBatchSize', 'enforceQuota', 'requestThrottleLimit',
  'requestThrottleStallTime', 'requestThrottleDropStale', 'requestStaleLatencyCheck',
  'requestStaleConnectionCheck', 'request_throttler.shutdownTimeout', 'advancedFlowControlEnabled',
  'enableEagerACLCheck', 'maxConcurrentSnapSyncs', 'maxConcurrentDiffSyncs', 'snapshot.compression.method',
  'snapshot.trust.empty', 'audit.enable', 'audit.impl.class', 'largeRequestMaxBytes', 'largeRequestThreshold',
  'outstandingHandshake.limit', 'netty.server.earlyDropSecureConnectionHandshakes', 'throttledOpWaitTime',
  'learner.closeSocketAsync', 'leader.closeSocketAsync', 'learner.asyncSending',
  'forward_learner_requests_to_commit_processor_disabled', 'serializeLastProcessedZxid.enabled',
  'maxTimeToWaitForEpoch', 'quorumCnxnTimeoutMs', 'reconfigEnabled', 'observer.reconnectDelayMs',
  'observer.election.DelayMs', 'localSessionsEnabled', 'localSessionsUpgradingEnabled',
  'DigestAuthenticationProvider.enabled', 'DigestAuthenticationProvider.digestAlg',
  'IPAuthenticationProvider.usexforwardedfor',
  'ensembleAuthName', 'client.certReload',
  'kerberos.removeHostFromPrincipal', 'kerberos.removeRealmFromPrincipal',
  'kerberos.canonicalizeHostNames', 'multiAddress.enabled', 'multiAddress.reachabilityCheckTimeoutMs',
  'multiAddress.reachabilityCheckEnabled', 'fips-mode', 'readonlymode.enabled',
  'follower.skipLearnerRequestToNextProcessor', 'jute.maxbuffer.extrasize', 'nio.numSelectorThreads',
  'nio.numWorkerThreads', 'nio.shutdownTimeout', 'commitProcessor.numWorkerThreads',
  'commitProcessor.maxReadBatchSize', 'commitProcessor.maxCommitBatchSize',
  'znode.container.maxPerMinute', 'znode.container.maxNeverUsedIntervalMs', 'messageTracker.BufferSize',
  'messageTracker.Enabled', 'admin.rateLimiterIntervalInMS', 'admin.snapshot.enabled', 'admin.restore.enabled',
  'admin.portUnification', 'admin.idleTimeout', 'admin.commandURL',
  'quorum.cnxn.threads.size', 'jvm.pause.monitor',
  'jvm.pause.sleep.time.ms', 'jvm.pause.warn-threshold.ms', 'jvm.pause.info-threshold.ms',
  'metricsProvider.className', 'oraclePath', 'datadir.autocreate', 'db.autocreate', 'closeSessionTxn.enabled',
  'intBufferStartingSizeBytes', 'allowSaslFailedClients', 'sasl.client.canonicalize.hostname',
];

/**
 * Families of ZooKeeper keys accepted and ignored as a whole (`metricsProvider.exportJvmInfo`, ...).
 * TLS keys are not among them: the client port's `ssl.*` keys are all listed above, and an
 * unknown `ssl.quorum.*` or `quorum.auth.*` key is refused (QUORUM_SECURITY_PREFIXES), so a
 * misspelt one is an error, not a silently weaker setup.
 */
export const IGNORED_PREFIXES: readonly string[] = ['metricsProvider.'];

/**
 * Keys whose name carries a value of their own: `authProvider.<name>=<class>` registers an
 * auth scheme (ZooKeeper's ProviderRegistry reads every zookeeper.authProvider.* property) and
 * `superUser[.<name>]=<id>` names SASL super users (ZooKeeperServer.isSaslSuperUser).
 */
export const KEY_FAMILIES = ['authProvider', 'superUser'] as const;
export type KeyFamily = (typeof KEY_FAMILIES)[number];

function familyOf(key: string): KeyFamily | undefined {
  const k = key.startsWith('zookeeper.') ? key.slice('zookeeper.'.length) : key;
  if (/^authProvider\.[^.\s]+/.test(k)) return 'authProvider';
  if (k === 'superUser' || /^superUser\.[^\s]+$/.test(k)) return 'superUser';
  return undefined;
}

/**
 * Quorum security keys zablab does not implement. Ignoring one could leave the peer ports
 * open where the operator asked for them to be closed, so the server refuses to start (fail
 * closed). Also refused as `zookeeper.<key>`.
 */
export const REJECTED_QUORUM_SECURITY_KEYS: ReadonlyMap<string, string> = new Map([
  ['ssl.quorum.ciphersuites', "zablab's quorum TLS offers Node's default suites (TLS 1.3, and ECDHE with AES-GCM or ChaCha20 on TLS 1.2); remove this line"],
  ['ssl.quorum.context.supplier.class', 'zablab reads its quorum TLS material from the PEM files ssl.quorum.keyStore.location and ssl.quorum.trustStore.location; there is no Java SSLContext supplier'],
  ['ssl.quorum.handshakeDetectionTimeoutMillis', 'belongs to port unification (TLS and plaintext on one port), which zablab does not implement; remove this line'],
  ['quorum.auth.learner.saslLoginContext', 'zablab reads the quorum secret from quorum.auth.secretFile, not from a JAAS login context; remove this line'],
  ['quorum.auth.server.saslLoginContext', 'zablab reads the quorum secret from quorum.auth.secretFile, not from a JAAS login context; remove this line'],
  ['quorum.auth.kerberos.servicePrincipal', "zablab's quorum authentication is a shared secret (quorum.auth.secretFile); Kerberos is not implemented"],
]);

/** Families of quorum security keys: any member zablab does not implement is refused, as above. */
export const QUORUM_SECURITY_PREFIXES: readonly string[] = ['ssl.quorum.', 'quorum.auth.'];

/** ZooKeeper keys zablab refuses: ignoring them would silently change what the ensemble is. */
export const REJECTED_KEYS: ReadonlyMap<string, string> = new Map([
  ['dynamicConfigFile', 'zablab reads the ensemble from server.N lines in zoo.cfg; move them there and remove dynamicConfigFile'],
]);

/** Prefixes of refused keys (hierarchical quorums). */
export const REJECTED_PREFIXES: ReadonlyMap<string, string> = new Map([
  ['group', 'zablab supports majority quorums only; remove group.N and weight.N lines'],
  ['weight', 'zablab supports majority quorums only; remove group.N and weight.N lines'],
]);

export type KeyClass =
  | { kind: 'supported'; key: SupportedKey }
  | { kind: 'server' }
  | { kind: 'family'; family: KeyFamily }
  /** `instead`: the key that does what this one seems to (when there is one). */
  | { kind: 'ignored'; instead?: string }
  | { kind: 'rejected'; reason: string }
  | { kind: 'unknown'; suggestion?: string };

const aliasToCanonical: ReadonlyMap<string, SupportedKey> = (() => {
  const m = new Map<string, SupportedKey>();
  for (const [canonical, aliases] of Object.entries(SUPPORTED_KEYS) as [SupportedKey, readonly string[]][]) {
    m.set(canonical, canonical);
    for (const a of aliases) m.set(a, canonical);
  }
  return m;
})();

const ignored: ReadonlySet<string> = new Set(IGNORED_KEYS.flatMap((k) => [k, `zookeeper.${k}`]));

export function classifyKey(key: string): KeyClass {
  const canonical = aliasToCanonical.get(key);
  if (canonical !== undefined) return { kind: 'supported', key: canonical };
  if (key.startsWith('server.')) return { kind: 'server' };
  const quorumSecurity = quorumSecurityRefusal(key);
  if (quorumSecurity !== undefined) return { kind: 'rejected', reason: quorumSecurity };
  const family = familyOf(key);
  if (family !== undefined) return { kind: 'family', family };
  if (ignored.has(key) || IGNORED_PREFIXES.some((p) => key.startsWith(p))) {
    const instead = DOCUMENTED_ONLY_KEYS.get(key.startsWith('zookeeper.') ? key.slice('zookeeper.'.length) : key);
    return instead === undefined ? { kind: 'ignored' } : { kind: 'ignored', instead };
  }
  const rejected = REJECTED_KEYS.get(key);
  if (rejected !== undefined) return { kind: 'rejected', reason: rejected };
  for (const [prefix, reason] of REJECTED_PREFIXES) {
    if (key.startsWith(prefix)) return { kind: 'rejected', reason };
  }
  const suggestion = suggestKey(key);
  return suggestion === undefined ? { kind: 'unknown' } : { kind: 'unknown', suggestion };
}

/** Why a quorum security key is refused, or undefined when `key` is not one. */
function quorumSecurityRefusal(key: string): string | undefined {
  const bare = key.startsWith('zookeeper.') ? key.slice('zookeeper.'.length) : key;
  const known = REJECTED_QUORUM_SECURITY_KEYS.get(bare);
  if (known !== undefined) return known;
  if (!QUORUM_SECURITY_PREFIXES.some((p) => bare.startsWith(p))) return undefined;
  if (bare !== key && aliasToCanonical.has(bare)) return `ZooKeeper never reads this spelling; write ${bare}`;
  const near = suggestKey(bare);
  const hint = near === undefined || near === key ? '' : ` (did you mean ${near}?)`;
  return `zablab does not implement this quorum security setting${hint}, and ignoring it could leave the peer ports open; remove it`;
}

/** Every spelling the parser knows, for suggestions. */
function knownSpellings(): string[] {
  return [...aliasToCanonical.keys(), ...ignored, ...REJECTED_KEYS.keys(), ...REJECTED_QUORUM_SECURITY_KEYS.keys(), 'server.1', 'authProvider.1', 'superUser'];
}

/** Longest key considered for suggestions: edit distance is quadratic and keys are short. */
const SUGGEST_MAX_KEY_CHARS = 100;

/** The known key closest to `key` (case-insensitive match first, then edit distance), if close enough. */
export function suggestKey(key: string): string | undefined {
  if (key.length > SUGGEST_MAX_KEY_CHARS) return undefined;
  // zookeeper.tickTime: ZooKeeper reads some keys only from zoo.cfg, without the prefix.
  if (key.startsWith('zookeeper.') && aliasToCanonical.has(key.slice('zookeeper.'.length))) {
    return key.slice('zookeeper.'.length);
  }
  const spellings = knownSpellings();
  const lower = key.toLowerCase();
  const sameCase = spellings.find((s) => s.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const s of spellings) {
    const d = editDistance(lower, s.toLowerCase());
    if (d < bestDistance) {
      best = s;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance (insert, delete, substitute), two rows of memory. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}
