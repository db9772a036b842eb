/**
 * zoo.cfg: ZooKeeper's keys, defaults and meanings, read once into one typed object.
 *
 * The file is a Java properties file. Every error names the file, the line and the key and
 * says what is allowed; ZooKeeper keys that zablab does not implement are accepted with a
 * warning; unknown keys are errors with a "did you mean" suggestion.
 */
import fs from 'node:fs';
import path from 'node:path';
import { classifyKey, editDistance, FOUR_LETTER_WORDS, type KeyFamily, type SupportedKey } from './config-keys.js';
import { DEFAULT_SSL_PROTOCOL, openSslCiphers, TLS_VERSIONS, tlsVersions, type TlsVersion } from './tls/names.js';

export type PeerType = 'participant' | 'observer';

/** One `server.N=host:quorumPort:electionPort[:role][;[clientHost:]clientPort]` line. */
export interface ServerSpec {
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
  role: PeerType;
  clientPort?: number;
  /** Host of the client address in the server line; '0.0.0.0' when only a port is given. */
  clientHost?: string;
}

/** A key or trust store as ZooKeeper's X509Util names it (`ssl.quorum.keyStore.*`); zablab reads PEM only. */
export interface StoreSpec {
  /** Absolute path of the PEM file: for a key store the private key and its certificate chain, for a trust store CA certificates. */
  location: string;
  type: 'PEM';
  /** The passphrase of an encrypted private key (key stores only); `passwordPath` wins when both are set. */
  password?: string;
  /** A file holding that passphrase (ZooKeeper 3.8's keyStore.passwordPath). */
  passwordPath?: string;
}

/** TLS versions the peer channels may use; older ones are refused. */
/** ssl.clientAuth: whether TLS clients must (need), may (want) or need not (none) show a certificate. */
export type ClientAuth = 'none' | 'want' | 'need';

/**
 * How the client port serves TLS (ZooKeeper's ClientX509Util: the `ssl.*` keys), when
 * secureClientPort or client.portUnification is set. Checked when parsed; the files are read
 * when the server starts (tls/client-tls.ts).
 */
export interface ClientTlsSpec {
  keyStore: StoreSpec;
  /** Required unless clientAuth is none. */
  trustStore?: StoreSpec;
  clientAuth: ClientAuth;
  /** ssl.protocol as written (default TLSv1.2, as ZooKeeper 3.8). */
  protocol: string;
  enabledProtocols?: string[];
  /** ssl.ciphersuites: Java's (IANA) names; default X509Util's list. */
  cipherSuites?: string[];
  /** ssl.hostnameVerification: ZooKeeper's client port never verifies client host names; kept for conf. */
  hostnameVerification: boolean;
  handshakeDetectionTimeoutMs: number;
}

/** Auth schemes beyond digest and ip that authProvider.N (or TLS, for x509) registers. */
export type ExtraAuthScheme = 'sasl' | 'x509';

/** The provider classes authProvider.N may name, by scheme (ZooKeeper's own). */
export const AUTH_PROVIDER_CLASSES: Readonly<Record<string, ExtraAuthScheme | 'digest' | 'ip'>> = {
  'org.apache.zookeeper.server.auth.SASLAuthenticationProvider': 'sasl',
  'org.apache.zookeeper.server.auth.X509AuthenticationProvider': 'x509',
  'org.apache.zookeeper.server.auth.DigestAuthenticationProvider': 'digest',
  'org.apache.zookeeper.server.auth.IPAuthenticationProvider': 'ip',
};

export interface ZabConfig {
  /** The file this came from, when loaded from a file. */
  configPath?: string;
  /** From dataDir/myid; 0 in standalone mode when there is no myid file. */
  serverId: number;
  tickTime: number;
  /** Ticks; 0 when unset (only a quorum needs them). */
  initLimit: number;
  syncLimit: number;
  /** Ticks a learner may take to connect to the leader; defaults to initLimit. */
  connectToLearnerMasterLimit: number;
  /** Absolute paths. */
  dataDir: string;
  dataLogDir: string;
  clientPort: number;
  clientPortAddress: string;
  /** Listen backlog of the client port; -1 = the OS default. */
  clientPortListenBacklog: number;
  servers: ServerSpec[];
  peerType: PeerType;
  /** True when this is not a quorum: no server.N lines, or one participant while standaloneEnabled. */
  standalone: boolean;
  standaloneEnabled: boolean;
  quorumListenOnAllIPs: boolean;
  /** Times to retry binding the election port; 0 = retry forever. */
  electionPortBindRetry: number;
  /** Timeout for opening an election connection (zookeeper.cnxTimeout). */
  cnxTimeoutMs: number;
  snapCount: number;
  globalOutstandingLimit: number;
  /** Txn log files grow in blocks of this size (zoo.cfg's preAllocSize is in KB). */
  preAllocSizeBytes: number;
  /** fsync the txn log before acknowledging (zookeeper.forceSync=yes). */
  forceSync: boolean;
  fsyncWarningThresholdMs: number;
  /** Committed proposals kept in memory for DIFF syncs. */
  commitLogCount: number;
  /**
   * A learner behind the txns in memory gets a DIFF from the txn log when those txns are at
   * most this share of the snapshot's size, else a SNAP; negative: always a SNAP.
   */
  snapshotSizeFactor: number;
  /** Connections per client IP; 0 = unlimited. */
  maxClientCnxns: number;
  /** Connections in total; 0 = unlimited. */
  maxCnxns: number;
  /** A client connection that has not sent its whole ConnectRequest by then is closed (nio.sessionlessCnxnTimeout). */
  sessionlessCnxnTimeoutMs: number;
  /** ZooKeeper's connection throttle (BlueThrottle), in sessions: 0 = off. */
  connectionThrottleTokens: number;
  connectionThrottleFillTimeMs: number;
  connectionThrottleFillCount: number;
  /** -1: no random dropping (BLUE). */
  connectionThrottleFreezeTimeMs: number;
  connectionThrottleDropIncrease: number;
  connectionThrottleDropDecrease: number;
  connectionThrottleDecreaseRatio: number;
  connectionThrottleWeightEnabled: boolean;
  /** Tokens a new session costs (when weights are enabled); at least the local weight. */
  connectionThrottleGlobalSessionWeight: number;
  connectionThrottleLocalSessionWeight: number;
  /** Tokens a reconnect costs (when weights are enabled); at least the local weight. */
  connectionThrottleRenewSessionWeight: number;
  /** zablab's per client address bucket, in sessions: 0 = off. */
  connectionThrottlePerIpTokens: number;
  connectionThrottlePerIpFillTimeMs: number;
  connectionThrottlePerIpFillCount: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  minSessionTimeoutSet: boolean;
  maxSessionTimeoutSet: boolean;
  leaderServes: boolean;
  juteMaxBuffer: number;
  autopurgeSnapRetainCount: number;
  /** 0 = autopurge off. Whole hours as ZooKeeper reports them; see autopurgePurgeIntervalMs. */
  autopurgePurgeIntervalHours: number;
  autopurgePurgeIntervalMs: number;
  /** Enabled four-letter words; always holds 'srvr' (ZooKeeper's own scripts need it). */
  fourLetterWhitelist: Set<string>;
  adminEnableServer: boolean;
  adminServerAddress: string;
  adminServerPort: number;
  /** admin.tokenFile (absolute): the bearer token the HTTP face requires; read and checked when the server starts. */
  adminTokenFile?: string;
  /** admin.auth.enabled: false answers protected HTTP routes without credentials. Default true, and with no token file they answer 401. */
  adminAuthEnabled: boolean;
  /** admin.allowedHosts: Host header names accepted besides loopback and admin.serverAddress (lower case); `*` accepts any. */
  adminAllowedHosts: string[];
  /** admin.forceHttps: the HTTP face speaks HTTPS only, with ssl.quorum.keyStore (ZooKeeper's AdminServer). */
  adminForceHttps: boolean;
  /** admin.needClientAuth: HTTPS clients must present a certificate that ssl.quorum.trustStore trusts. */
  adminNeedClientAuth: boolean;
  sslQuorumKeyStore?: StoreSpec;
  sslQuorumTrustStore?: StoreSpec;
  /** sslQuorum: both peer channels speak TLS, each side showing a certificate the other's trust store trusts. */
  sslQuorum: boolean;
  /** ssl.quorum.hostnameVerification: a peer's certificate must name its host from server.N (or, for one that dialed us, its address). */
  sslQuorumHostnameVerification: boolean;
  /** TLS versions the peer channels accept (ssl.quorum.protocol / ssl.quorum.enabledProtocols). */
  sslQuorumProtocols: TlsVersion[];
  /** quorum.auth.enableSasl: prove knowledge of the quorum secret on every peer connection this server dials and answer the proofs of those it accepts. */
  quorumAuthEnableSasl: boolean;
  /** quorum.auth.learnerRequireSasl: refuse a peer we dialed that does not prove it knows the secret. */
  quorumAuthLearnerRequireSasl: boolean;
  /** quorum.auth.serverRequireSasl: refuse a peer that dialed us and does not prove it knows the secret. */
  quorumAuthServerRequireSasl: boolean;
  /** quorum.auth.secretFile (absolute): the shared secret; read and checked when the server starts. */
  quorumAuthSecretFile?: string;
  /** secureClientPort: the TLS client port; 0 = none (ZooKeeper's "not set"). */
  secureClientPort: number;
  secureClientPortAddress: string;
  /** client.portUnification: the plaintext clientPort also accepts TLS clients (ZooKeeper's Netty DualModeSslHandler). */
  clientPortUnification: boolean;
  /** Set when secureClientPort or client.portUnification is. */
  clientTls?: ClientTlsSpec;
  /** Schemes ACLs may name beyond digest and ip: authProvider.N, and x509 whenever the client port serves TLS. */
  authProviders: ExtraAuthScheme[];
  /** enforce.auth.schemes when enforce.auth.enabled (sasl with sessionRequireClientSASLAuth); empty = not enforced. */
  enforceAuthSchemes: string[];
  sessionRequireClientSASLAuth: boolean;
  /** zablab.sasl.jaasFile (absolute): DIGEST-MD5 users, as `user_<name>="<password>"` in a JAAS section. */
  saslJaasFile?: string;
  /** sasl.serverconfig: that section's name (default Server). */
  saslLoginContext: string;
  /** superUser and superUser.N: SASL ids that are super users. */
  saslSuperUsers: string[];
  /** X509AuthenticationProvider.superUser: the certificate subject DN of a super user. */
  x509SuperUser?: string;
  extendedTypesEnabled: boolean;
  /** Observers log and snapshot like participants. */
  syncEnabled: boolean;
  skipACL: boolean;
  superDigest?: string;
  digestEnabled: boolean;
  tcpKeepAlive: boolean;
  clientTcpKeepAlive: boolean;
  /** Every key as written, for `conf` and `envi`. */
  raw: Map<string, string>;
  /** The line of each supported key (canonical name), for errors found later in the files a key names. */
  lines: Map<string, number>;
  /** Accepted-but-questionable settings; the CLI prints them at startup. */
  warnings: string[];
}

/** A config file zablab cannot run with; the message names the line and key and says what is allowed. */
export class ConfigError extends Error {
  readonly code = 'ZABLAB_CONFIG';
  constructor(
    message: string,
    readonly line?: number,
    readonly key?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ParseConfigOptions {
  /** Where the text came from; names the file in messages. */
  path?: string;
  /** Contents of `<dataDir>/myid`, or undefined when there is none. Default: no myid. */
  readMyid?: (dataDir: string) => string | undefined;
}

// ZooKeeper's defaults.
export const DEFAULT_TICK_TIME_MS = 3000;
export const DEFAULT_SNAP_COUNT = 100_000;
export const DEFAULT_GLOBAL_OUTSTANDING_LIMIT = 1000;
export const DEFAULT_PREALLOC_SIZE_KB = 65_536;
export const DEFAULT_MAX_CLIENT_CNXNS = 60;
export const DEFAULT_JUTE_MAX_BUFFER = 0xfffff;
export const DEFAULT_COMMIT_LOG_COUNT = 500;
/** ZooKeeper's zookeeper.snapshotSizeFactor: a DIFF from the txn log up to a third of the snapshot. */
export const DEFAULT_SNAPSHOT_SIZE_FACTOR = 0.33;
export const DEFAULT_CNX_TIMEOUT_MS = 5000;
export const DEFAULT_SESSIONLESS_CNXN_TIMEOUT_MS = 10_000;
/** BlueThrottle's defaults (the throttle is off until connection_throttle_tokens is set). */
export const DEFAULT_CONNECTION_THROTTLE = {
  fillTimeMs: 1,
  fillCount: 1,
  freezeTimeMs: -1,
  dropIncrease: 0.02,
  dropDecrease: 0.002,
  decreaseRatio: 0,
  globalSessionWeight: 3,
  localSessionWeight: 1,
  renewSessionWeight: 2,
} as const;
/** zablab's per-address bucket refills one session a second unless told otherwise. */
export const DEFAULT_CONNECTION_THROTTLE_PER_IP_FILL_TIME_MS = 1000;
export const DEFAULT_ELECTION_PORT_BIND_RETRY = 3;
export const DEFAULT_FSYNC_WARNING_THRESHOLD_MS = 1000;
export const DEFAULT_ADMIN_SERVER_PORT = 8080;
/** ZooKeeper binds the AdminServer to 0.0.0.0; zablab keeps its HTTP face on loopback unless told otherwise. */
export const DEFAULT_ADMIN_SERVER_ADDRESS = '127.0.0.1';
export const DEFAULT_CLIENT_PORT_ADDRESS = '0.0.0.0';
/** X509Util.DEFAULT_HANDSHAKE_DETECTION_TIMEOUT_MILLIS. */
export const DEFAULT_HANDSHAKE_DETECTION_TIMEOUT_MS = 5000;
/** ZooKeeperSaslServer.DEFAULT_LOGIN_CONTEXT_NAME. */
export const DEFAULT_SASL_LOGIN_CONTEXT = 'Server';
/** PurgeTxnLog refuses to keep fewer snapshots than this. */
export const MIN_SNAP_RETAIN_COUNT = 3;
/** ZooKeeper's documented myid range; 254 with extended types (TTL nodes), which use the top id byte. */
export const MAX_SERVER_ID = 255;
export const MAX_SERVER_ID_EXTENDED = 254;
/** A zoo.cfg larger than this is not a config file. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const INT32_MAX = 2 ** 31 - 1;
const MAX_PREALLOC_SIZE_KB = 16 * 1024 * 1024; // 16 GiB
const HOUR_MS = 3_600_000;

interface Entry {
  /** The key as written (may be an alias such as zookeeper.snapCount). */
  key: string;
  value: string;
  line: number;
}

/** ssl.quorum.keyStore.* and ssl.quorum.trustStore.*, parsed once for the HTTP face and the peers. */
interface Stores {
  keyStore: StoreSpec | undefined;
  trustStore: StoreSpec | undefined;
}

/** Reads a zoo.cfg and `<dataDir>/myid`. */
export function loadConfig(file: string): ZabConfig {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_CONFIG_BYTES) {
      throw new ConfigError(`${file} is ${size} bytes; a zoo.cfg is at most ${MAX_CONFIG_BYTES} bytes`);
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err);
    throw new ConfigError(`cannot read config file ${file} (${reason}); pass the path of an existing zoo.cfg`);
  }
  return parseConfig(text, { path: file, readMyid: readMyidFile });
}

function readMyidFile(dataDir: string): string | undefined {
  const file = path.join(dataDir, 'myid');
  try {
    // ZooKeeper reads the first line only.
    return fs.readFileSync(file, 'utf8').slice(0, 64).split(/\r?\n/)[0];
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read ${file} (${String(err)}); make it a readable file holding this server's id`);
  }
}

export function parseConfig(text: string, opts: ParseConfigOptions = {}): ZabConfig {
  return new ConfigParser(text, opts).parse();
}

class ConfigParser {
  private readonly file: string;
  private readonly supported = new Map<SupportedKey, Entry>();
  private readonly serverEntries: Entry[] = [];
  private readonly familyEntries: { family: KeyFamily; entry: Entry }[] = [];
  private readonly serverEntryById = new Map<number, Entry>();
  private readonly raw = new Map<string, string>();
  private readonly warnings: string[] = [];

  constructor(
    private readonly text: string,
    private readonly opts: ParseConfigOptions,
  ) {
    this.file = opts.path === undefined ? 'zoo.cfg' : path.basename(opts.path);
  }

  parse(): ZabConfig {
    if (Buffer.byteLength(this.text) > MAX_CONFIG_BYTES) {
      throw new ConfigError(`${this.file} is larger than ${MAX_CONFIG_BYTES} bytes; is it really a zoo.cfg?`);
    }
    this.classify(parseProperties(this.text));

    const tickTime = this.int('tickTime', { min: 1, unit: 'milliseconds' }) ?? DEFAULT_TICK_TIME_MS;
    const initLimit = this.int('initLimit', { min: 1, unit: 'ticks' });
    const syncLimit = this.int('syncLimit', { min: 1, unit: 'ticks' });
    const electionAlg = this.supported.get('electionAlg');
    if (electionAlg !== undefined && electionAlg.value !== '3') {
      throw this.error(electionAlg, `must be 3 (Fast Leader Election over TCP, the only one ZooKeeper has), got "${electionAlg.value}"`);
    }
    const extendedTypesEnabled = this.bool('extendedTypesEnabled') ?? false;
    const standaloneEnabled = this.bool('standaloneEnabled') ?? true;
    const dataDir = this.dir('dataDir');
    if (dataDir === undefined) {
      throw new ConfigError(`${this.file}: dataDir is not set; add dataDir=<directory for snapshots and the txn log>`, undefined, 'dataDir');
    }
    const dataLogDir = this.dir('dataLogDir') ?? dataDir;

    const maxId = extendedTypesEnabled ? MAX_SERVER_ID_EXTENDED : MAX_SERVER_ID;
    const servers = this.parseServers(maxId);
    const voters = servers.filter((s) => s.role === 'participant');
    const observers = servers.filter((s) => s.role === 'observer');
    const standalone = this.checkQuorumShape(voters.length, observers.length, standaloneEnabled);

    const serverId = this.serverId(dataDir, servers, standalone, maxId);
    if (!standalone) {
      if (initLimit === undefined) throw this.notSet('initLimit', 'initLimit=10 (ticks a follower may take to connect and sync)');
      if (syncLimit === undefined) throw this.notSet('syncLimit', 'syncLimit=5 (ticks a follower may fall behind)');
    }
    const peerType = this.peerType(servers, serverId, standalone);
    const { clientPort, clientPortAddress } = this.clientAddress(servers, serverId, standalone);

    const minSession = this.sessionTimeout('minSessionTimeout');
    const maxSession = this.sessionTimeout('maxSessionTimeout');
    const minSessionTimeout = minSession ?? tickTime * 2;
    const maxSessionTimeout = maxSession ?? tickTime * 20;
    if (minSessionTimeout > maxSessionTimeout) {
      const at = this.supported.get('minSessionTimeout') ?? this.supported.get('maxSessionTimeout');
      const msg = `minSessionTimeout (${minSessionTimeout} ms) must not be larger than maxSessionTimeout (${maxSessionTimeout} ms)`;
      throw new ConfigError(at === undefined ? `${this.file}: ${msg}` : `${this.file} line ${at.line}: ${msg}`, at?.line, at?.key);
    }

    let snapCount = this.int('snapCount', { min: 1, unit: 'txns', decode: true }) ?? DEFAULT_SNAP_COUNT;
    if (snapCount < 2) {
      this.warn(this.supported.get('snapCount')!, 'snapCount must be 2 or more (a snapshot is taken after a random number of txns in [snapCount/2+1, snapCount]); using 2');
      snapCount = 2;
    }
    let autopurgeSnapRetainCount = this.int('autopurge.snapRetainCount', { unit: 'snapshots' }) ?? MIN_SNAP_RETAIN_COUNT;
    if (autopurgeSnapRetainCount < MIN_SNAP_RETAIN_COUNT) {
      this.warn(this.supported.get('autopurge.snapRetainCount')!, `autopurge.snapRetainCount must be at least ${MIN_SNAP_RETAIN_COUNT}; using ${MIN_SNAP_RETAIN_COUNT}`);
      autopurgeSnapRetainCount = MIN_SNAP_RETAIN_COUNT;
    }
    const autopurgePurgeIntervalMs = this.purgeInterval();

    const adminEnableServer = this.bool('admin.enableServer') ?? true;
    const adminServerPort = this.int('admin.serverPort', { min: 1, max: 65535, unit: 'TCP port' }) ?? DEFAULT_ADMIN_SERVER_PORT;
    const adminServerAddress = this.host('admin.serverAddress') ?? DEFAULT_ADMIN_SERVER_ADDRESS;
    this.checkOwnPorts(servers, serverId, standalone, clientPort, adminEnableServer ? adminServerPort : undefined);
    const stores = { keyStore: this.store('ssl.quorum', 'keyStore'), trustStore: this.store('ssl.quorum', 'trustStore') };
    const admin = this.adminSecurity(stores);
    const quorumSecurity = this.quorumSecurity(stores, standalone);
    const clientSecurity = this.clientSecurity(clientPort, adminEnableServer ? adminServerPort : undefined, standalone ? undefined : servers.find((s) => s.id === serverId));

    const cfg: ZabConfig = {
      serverId,
      tickTime,
      initLimit: initLimit ?? 0,
      syncLimit: syncLimit ?? 0,
      connectToLearnerMasterLimit: this.int('connectToLearnerMasterLimit', { min: 1, unit: 'ticks' }) ?? initLimit ?? 0,
      dataDir,
      dataLogDir,
      clientPort,
      clientPortAddress,
      clientPortListenBacklog: this.listenBacklog(),
      servers,
      peerType,
      standalone,
      standaloneEnabled,
      quorumListenOnAllIPs: this.bool('quorumListenOnAllIPs') ?? false,
      electionPortBindRetry: this.int('electionPortBindRetry', { min: 0, unit: 'retries; 0 = forever', decode: true }) ?? DEFAULT_ELECTION_PORT_BIND_RETRY,
      cnxTimeoutMs: this.int('cnxTimeout', { min: 1, unit: 'milliseconds', decode: true }) ?? DEFAULT_CNX_TIMEOUT_MS,
      snapCount,
      globalOutstandingLimit: this.int('globalOutstandingLimit', { min: 1, unit: 'requests', decode: true }) ?? DEFAULT_GLOBAL_OUTSTANDING_LIMIT,
      preAllocSizeBytes: (this.int('preAllocSize', { min: 1, max: MAX_PREALLOC_SIZE_KB, unit: 'kilobytes' }) ?? DEFAULT_PREALLOC_SIZE_KB) * 1024,
      forceSync: this.yesNo('forceSync') ?? true,
      fsyncWarningThresholdMs: this.int('fsync.warningthresholdms', { min: 0, unit: 'milliseconds', decode: true }) ?? DEFAULT_FSYNC_WARNING_THRESHOLD_MS,
      commitLogCount: this.int('commitLogCount', { min: 1, unit: 'proposals', decode: true }) ?? DEFAULT_COMMIT_LOG_COUNT,
      snapshotSizeFactor: this.snapshotSizeFactor(),
      maxClientCnxns: this.int('maxClientCnxns', { min: 0, unit: 'connections per client IP; 0 = unlimited' }) ?? DEFAULT_MAX_CLIENT_CNXNS,
      maxCnxns: this.int('maxCnxns', { min: 0, unit: 'connections; 0 = unlimited', decode: true }) ?? 0,
      sessionlessCnxnTimeoutMs: this.int('nio.sessionlessCnxnTimeout', { min: 1, unit: 'milliseconds', decode: true }) ?? DEFAULT_SESSIONLESS_CNXN_TIMEOUT_MS,
      ...this.connectionThrottle(),
      minSessionTimeout,
      maxSessionTimeout,
      minSessionTimeoutSet: minSession !== undefined,
      maxSessionTimeoutSet: maxSession !== undefined,
      leaderServes: this.yesNo('leaderServes') ?? true,
      juteMaxBuffer: this.int('jute.maxbuffer', { min: 1, unit: 'bytes', decode: true }) ?? DEFAULT_JUTE_MAX_BUFFER,
      autopurgeSnapRetainCount,
      autopurgePurgeIntervalHours: Math.floor(autopurgePurgeIntervalMs / HOUR_MS),
      autopurgePurgeIntervalMs,
      fourLetterWhitelist: this.whitelist(),
      adminEnableServer,
      adminServerAddress,
      adminServerPort,
      ...admin,
      ...quorumSecurity,
      ...clientSecurity,
      extendedTypesEnabled,
      syncEnabled: this.bool('syncEnabled') ?? true,
      skipACL: this.yesNo('skipACL') ?? false,
      digestEnabled: this.bool('digest.enabled') ?? true,
      tcpKeepAlive: this.bool('tcpKeepAlive') ?? false,
      clientTcpKeepAlive: this.bool('clientTcpKeepAlive') ?? false,
      raw: this.raw,
      lines: new Map([...this.supported].map(([k, e]) => [k, e.line])),
      warnings: this.warnings,
    };
    const superDigest = this.superDigest();
    if (superDigest !== undefined) cfg.superDigest = superDigest;
    if (this.opts.path !== undefined) cfg.configPath = path.resolve(this.opts.path);
    return cfg;
  }

  // ---- keys ---------------------------------------------------------------------------

  private classify(entries: Entry[]): void {
    const serverLines = new Map<string, number>();
    for (const e of entries) {
      const c = classifyKey(e.key);
      switch (c.kind) {
        case 'supported': {
          const prev = this.supported.get(c.key);
          if (prev !== undefined) {
            const as = prev.key === e.key ? '' : ` (as ${prev.key})`;
            throw this.error(e, `is already set on line ${prev.line}${as}; keep one of them`);
          }
          this.supported.set(c.key, e);
          break;
        }
        case 'server': {
          const prev = serverLines.get(e.key);
          if (prev !== undefined) throw this.error(e, `is already set on line ${prev}; keep one of them`);
          serverLines.set(e.key, e.line);
          this.serverEntries.push(e);
          break;
        }
        case 'family':
          this.familyEntries.push({ family: c.family, entry: e });
          break;
        case 'ignored':
          if (c.instead !== undefined) {
            this.warn(e, `${e.key} is the name ZooKeeper's guide gives this setting, but ZooKeeper reads ${c.instead} (zablab too); ignored, write ${c.instead}=${e.value}`);
          } else {
            this.warn(e, `${e.key} is a ZooKeeper setting that zablab does not implement; ignored`);
          }
          break;
        case 'rejected':
          throw this.error(e, `is not supported: ${c.reason}`);
        case 'unknown': {
          const hint = c.suggestion === undefined
            ? 'see the zoo.cfg keys in ZooKeeper\'s administrator\'s guide'
            : `did you mean "${c.suggestion}"?`;
          throw new ConfigError(`${this.file} line ${e.line}: unknown key "${e.key}"; ${hint}`, e.line, e.key);
        }
      }
      this.raw.set(e.key, e.value);
    }
  }

  private error(e: Entry, what: string): ConfigError {
    return new ConfigError(`${this.file} line ${e.line}: ${e.key} ${what}`, e.line, e.key);
  }

  private warn(e: Entry, what: string): void {
    this.warnings.push(`${this.file} line ${e.line}: ${what}`);
  }

  private notSet(key: SupportedKey, example: string): ConfigError {
    return new ConfigError(`${this.file}: ${key} is not set; a quorum needs it: add ${example}`, undefined, key);
  }

  // ---- typed values -------------------------------------------------------------------

  private int(key: SupportedKey, o: { min?: number; max?: number; unit: string; decode?: boolean }): number | undefined {
    const e = this.supported.get(key);
    if (e === undefined) return undefined;
    const n = parseJavaInt(e.value, o.decode ?? false);
    const min = o.min ?? -INT32_MAX - 1;
    const max = o.max ?? INT32_MAX;
    if (n === undefined || n < min || n > max) {
      let what: string;
      if (min === -INT32_MAX - 1 && max === INT32_MAX) what = `an integer (${o.unit})`;
      else if (min === 1 && max === INT32_MAX) what = `a positive integer (${o.unit})`;
      else if (min === 0 && max === INT32_MAX) what = `a non-negative integer (${o.unit})`;
      else if (max === INT32_MAX) what = `an integer of at least ${min} (${o.unit})`;
      else what = `an integer from ${min} to ${max} (${o.unit})`;
      throw this.error(e, `must be ${what}, got "${e.value}"`);
    }
    return n;
  }

  private bool(key: SupportedKey): boolean | undefined {
    const e = this.supported.get(key);
    if (e === undefined) return undefined;
    const v = e.value.toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw this.error(e, `must be true or false, got "${e.value}"`);
  }

  /** ZooKeeper's yes/no switches (forceSync, skipACL, leaderServes); true/false accepted too. */
  private yesNo(key: SupportedKey): boolean | undefined {
    const e = this.supported.get(key);
    if (e === undefined) return undefined;
    const v = e.value.toLowerCase();
    if (v === 'yes' || v === 'true') return true;
    if (v === 'no' || v === 'false') return false;
    throw this.error(e, `must be yes or no, got "${e.value}"`);
  }

  private dir(key: 'dataDir' | 'dataLogDir'): string | undefined {
    const e = this.supported.get(key);
    if (e === undefined) return undefined;
    if (e.value === '') throw this.error(e, 'must name a directory, got an empty value');
    if (e.value.includes('\0')) throw this.error(e, 'must name a directory; the value contains a NUL byte');
    if (!path.isAbsolute(e.value)) {
      this.warn(e, `${e.key} is a relative path; it is resolved against the current directory (${process.cwd()})`);
    }
    return path.resolve(e.value);
  }

  private host(key: 'clientPortAddress' | 'admin.serverAddress' | 'secureClientPortAddress'): string | undefined {
    const e = this.supported.get(key);
    if (e === undefined) return undefined;
    if (!isHostLike(e.value)) throw this.error(e, `must be a host name or IP address, got "${e.value}"`);
    return stripBrackets(e.value);
  }

  private sessionTimeout(key: 'minSessionTimeout' | 'maxSessionTimeout'): number | undefined {
    const e = this.supported.get(key);
    if (e === undefined) return undefined;
    const n = parseJavaInt(e.value, false);
    if (n === -1) return undefined; // ZooKeeper's "unset"
    if (n === undefined || n < 1) {
      throw this.error(e, `must be a positive integer (milliseconds) or -1 for the default, got "${e.value}"`);
    }
    return n;
  }

  private double(key: SupportedKey, o: { min: number; max: number; unit: string }): number | undefined {
    const e = this.supported.get(key);
    if (e === undefined) return undefined;
    // Java's Double.parseDouble, without NaN, Infinity and hex.
    const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/.test(e.value) ? Number(e.value.replace(/[dDfF]$/, '')) : NaN;
    if (!(n >= o.min && n <= o.max)) {
      const range = Number.isFinite(o.min) || Number.isFinite(o.max) ? ` from ${o.min} to ${o.max}` : '';
      throw this.error(e, `must be a number${range} (${o.unit}), got "${e.value}"`);
    }
    return n;
  }

  /** ZooKeeper's rule: above 1 the default is used (a DIFF bigger than the snapshot is no saving). */
  private snapshotSizeFactor(): number {
    const f = this.double('snapshotSizeFactor', { min: -Infinity, max: Infinity, unit: 'share of the snapshot size; negative = always a SNAP' });
    if (f === undefined) return DEFAULT_SNAPSHOT_SIZE_FACTOR;
    if (f <= 1) return f;
    this.warn(this.supported.get('snapshotSizeFactor')!, `snapshotSizeFactor ${f} is above 1; using ${DEFAULT_SNAPSHOT_SIZE_FACTOR}`);
    return DEFAULT_SNAPSHOT_SIZE_FACTOR;
  }

  /** BlueThrottle's settings with ZooKeeper's defaults and weight rules, and zablab's per-address bucket. */
  private connectionThrottle(): Pick<ZabConfig, `connectionThrottle${string}` & keyof ZabConfig> {
    const d = DEFAULT_CONNECTION_THROTTLE;
    const weight = (key: SupportedKey): number | undefined => this.int(key, { min: 1, unit: 'tokens per session', decode: true });
    const local = weight('connection_throttle_local_session_weight') ?? d.localSessionWeight;
    // ZooKeeper's rule: neither a new session nor a reconnect may cost less than a local session.
    const atLeastLocal = (key: SupportedKey, fallback: number): number => {
      const w = weight(key) ?? fallback;
      if (w >= local) return w;
      this.warn(this.supported.get(key) ?? this.supported.get('connection_throttle_local_session_weight')!, `${key} (${w}) is less than connection_throttle_local_session_weight (${local}); using ${local}`);
      return local;
    };
    const freeze = this.int('connection_throttle_freeze_time', { min: -1, unit: 'milliseconds; -1 = no random dropping', decode: true });
    return {
      connectionThrottleTokens: this.int('connection_throttle_tokens', { min: 0, unit: 'sessions; 0 = off', decode: true }) ?? 0,
      connectionThrottleFillTimeMs: this.int('connection_throttle_fill_time', { min: 1, unit: 'milliseconds', decode: true }) ?? d.fillTimeMs,
      connectionThrottleFillCount: this.int('connection_throttle_fill_count', { min: 0, unit: 'sessions', decode: true }) ?? d.fillCount,
      connectionThrottleFreezeTimeMs: freeze ?? d.freezeTimeMs,
      connectionThrottleDropIncrease: this.double('connection_throttle_drop_increase', { min: 0, max: 1, unit: 'probability' }) ?? d.dropIncrease,
      connectionThrottleDropDecrease: this.double('connection_throttle_drop_decrease', { min: 0, max: 1, unit: 'probability' }) ?? d.dropDecrease,
      connectionThrottleDecreaseRatio: this.double('connection_throttle_decrease_ratio', { min: 0, max: 1, unit: 'share of the tokens' }) ?? d.decreaseRatio,
      connectionThrottleWeightEnabled: this.bool('connection_throttle_weight_enabled') ?? false,
      connectionThrottleGlobalSessionWeight: atLeastLocal('connection_throttle_global_session_weight', d.globalSessionWeight),
      connectionThrottleLocalSessionWeight: local,
      connectionThrottleRenewSessionWeight: atLeastLocal('connection_throttle_renew_session_weight', d.renewSessionWeight),
      connectionThrottlePerIpTokens: this.int('zablab.connection_throttle_per_ip_tokens', { min: 0, unit: 'sessions; 0 = off', decode: true }) ?? 0,
      connectionThrottlePerIpFillTimeMs: this.int('zablab.connection_throttle_per_ip_fill_time', { min: 1, unit: 'milliseconds', decode: true }) ?? DEFAULT_CONNECTION_THROTTLE_PER_IP_FILL_TIME_MS,
      connectionThrottlePerIpFillCount: this.int('zablab.connection_throttle_per_ip_fill_count', { min: 0, unit: 'sessions', decode: true }) ?? 1,
    };
  }

  private listenBacklog(): number {
    const e = this.supported.get('clientPortListenBacklog');
    if (e === undefined || e.value === '-1') return -1; // ZooKeeper's "unset": the OS default
    const n = parseJavaInt(e.value, false);
    if (n === undefined || n < 1 || n > 65535) {
      throw this.error(e, `must be an integer from 1 to 65535 (connections) or -1 for the OS default, got "${e.value}"`);
    }
    return n;
  }

  private purgeInterval(): number {
    const e = this.supported.get('autopurge.purgeInterval');
    if (e === undefined) return 0;
    const ms = parseTimeInterval(e.value);
    if (ms === undefined) {
      throw this.error(e, `must be a whole number of hours, or a number with a unit (ms, s, m, h, d), got "${e.value}"`);
    }
    return Math.max(0, ms); // ZooKeeper treats a non-positive interval as "off"
  }

  private whitelist(): Set<string> {
    const words = new Set<string>(['srvr']); // ZooKeeper always enables srvr: zkServer.sh status needs it
    const e = this.supported.get('4lw.commands.whitelist');
    if (e === undefined) return words;
    for (const item of e.value.split(',')) {
      const w = item.trim();
      if (w === '') continue;
      if (w === '*') {
        for (const all of FOUR_LETTER_WORDS) words.add(all);
        continue;
      }
      if ((FOUR_LETTER_WORDS as readonly string[]).includes(w)) {
        words.add(w);
        continue;
      }
      const near = FOUR_LETTER_WORDS.find((k) => editDistance(k, w.toLowerCase()) <= 2);
      const hint = near === undefined ? `known: ${FOUR_LETTER_WORDS.join(', ')}` : `did you mean "${near}"?`;
      this.warn(e, `4lw.commands.whitelist names "${w}", which is not a four-letter word zablab knows; ${hint}`);
    }
    return words;
  }

  private superDigest(): string | undefined {
    const e = this.supported.get('DigestAuthenticationProvider.superDigest');
    if (e === undefined) return undefined;
    if (!/^[^:\s]+:[A-Za-z0-9+/]+={0,2}$/.test(e.value)) {
      throw this.error(e, `must look like super:<base64 SHA-1 digest> (DigestAuthenticationProvider's output for "super:<password>"), got "${e.value}"`);
    }
    return e.value;
  }

  // ---- the HTTP face's credentials and TLS ------------------------------------------------

  private adminSecurity(stores: Stores): Pick<
    ZabConfig,
    'adminTokenFile' | 'adminAuthEnabled' | 'adminAllowedHosts' | 'adminForceHttps' | 'adminNeedClientAuth' | 'sslQuorumKeyStore' | 'sslQuorumTrustStore'
  > {
    const out: ReturnType<ConfigParser['adminSecurity']> = {
      adminAuthEnabled: this.bool('admin.auth.enabled') ?? true,
      adminAllowedHosts: this.allowedHosts(),
      adminForceHttps: this.bool('admin.forceHttps') ?? false,
      adminNeedClientAuth: this.bool('admin.needClientAuth') ?? false,
    };
    const tokenFile = this.filePath('admin.tokenFile');
    if (tokenFile !== undefined) {
      if (!out.adminAuthEnabled) {
        throw this.error(this.supported.get('admin.tokenFile')!, 'is set, but admin.auth.enabled=false turns credentials off; remove one of them');
      }
      out.adminTokenFile = tokenFile;
    }
    const { keyStore, trustStore } = stores;
    if (keyStore !== undefined) out.sslQuorumKeyStore = keyStore;
    if (trustStore !== undefined) out.sslQuorumTrustStore = trustStore;
    if (out.adminForceHttps && keyStore === undefined) {
      throw this.error(this.supported.get('admin.forceHttps')!, 'is true, but ssl.quorum.keyStore.location is not set; name the PEM file with the private key and certificate chain');
    }
    if (out.adminNeedClientAuth) {
      const e = this.supported.get('admin.needClientAuth')!;
      // ZooKeeper ignores it without TLS; a client-certificate requirement that silently does nothing is worse.
      if (!out.adminForceHttps) throw this.error(e, 'is true, but admin.forceHttps is not: client certificates need HTTPS; set admin.forceHttps=true');
      if (trustStore === undefined) throw this.error(e, 'is true, but ssl.quorum.trustStore.location is not set; name the PEM file with the CA certificates clients are checked against');
    }
    return out;
  }

  // ---- the peers' TLS and authentication ---------------------------------------------------

  /**
   * sslQuorum and quorum.auth.*, with ZooKeeper's rules between the switches. Everything a
   * switch needs must be named here: a server asked to secure its peers that cannot do so
   * does not start (it would otherwise serve them open).
   */
  private quorumSecurity(stores: Stores, standalone: boolean): Pick<
    ZabConfig,
    | 'sslQuorum'
    | 'sslQuorumHostnameVerification'
    | 'sslQuorumProtocols'
    | 'quorumAuthEnableSasl'
    | 'quorumAuthLearnerRequireSasl'
    | 'quorumAuthServerRequireSasl'
    | 'quorumAuthSecretFile'
  > {
    const sslQuorum = this.bool('sslQuorum') ?? false;
    if (sslQuorum) {
      const e = this.supported.get('sslQuorum')!;
      if (stores.keyStore === undefined) throw this.error(e, "is true, but ssl.quorum.keyStore.location is not set; name the PEM file with this server's private key and certificate chain");
      if (stores.trustStore === undefined) throw this.error(e, 'is true, but ssl.quorum.trustStore.location is not set; name the PEM file with the CA certificates peers are checked against');
    }
    for (const key of ['sslQuorumReloadCertFiles', 'portUnification', 'ssl.quorum.crl', 'ssl.quorum.ocsp'] as const) this.mustBeOff(key);
    const clientAuth = this.supported.get('ssl.quorum.clientAuth');
    if (clientAuth !== undefined && clientAuth.value.trim().toLowerCase() !== 'need') {
      throw this.error(clientAuth, `must be need, got "${clientAuth.value}": zablab's quorum TLS always asks the dialing peer for a certificate (ZooKeeper's default); remove the line or write need`);
    }
    const enable = this.bool('quorum.auth.enableSasl') ?? false;
    const learnerRequire = this.bool('quorum.auth.learnerRequireSasl') ?? false;
    const serverRequire = this.bool('quorum.auth.serverRequireSasl') ?? false;
    // ZooKeeper's QuorumPeerConfig refuses the same combinations.
    if (!enable && (learnerRequire || serverRequire)) {
      const e = this.supported.get(serverRequire ? 'quorum.auth.serverRequireSasl' : 'quorum.auth.learnerRequireSasl')!;
      throw this.error(e, 'is true, but quorum.auth.enableSasl is not; set quorum.auth.enableSasl=true and quorum.auth.secretFile');
    }
    if (serverRequire && !learnerRequire) {
      throw this.error(this.supported.get('quorum.auth.serverRequireSasl')!, 'is true, but quorum.auth.learnerRequireSasl is not: this server could not join peers that require it; set both');
    }
    const secretFile = this.filePath('quorum.auth.secretFile');
    if (enable && secretFile === undefined) {
      throw this.error(this.supported.get('quorum.auth.enableSasl')!, 'is true, but quorum.auth.secretFile is not set; name the file (mode 600) that holds the secret every server of the ensemble shares');
    }
    if (!enable && secretFile !== undefined) {
      throw this.error(this.supported.get('quorum.auth.secretFile')!, 'is set, but quorum.auth.enableSasl is not true; set quorum.auth.enableSasl=true (and the two require switches) or remove quorum.auth.secretFile');
    }
    if (enable && !serverRequire && !standalone) {
      this.warn(
        this.supported.get('quorum.auth.enableSasl')!,
        'quorum.auth.enableSasl=true without quorum.auth.serverRequireSasl=true still accepts peers that do not authenticate (ZooKeeper\'s rolling-upgrade mode); set quorum.auth.learnerRequireSasl=true and quorum.auth.serverRequireSasl=true on every server',
      );
    }
    if (!standalone && !sslQuorum && this.supported.get('quorum.auth.enableSasl') === undefined) {
      // ZooKeeper's default is open; zablab asks for that in writing (secure by default).
      throw new ConfigError(
        `${this.file}: the quorum and election ports would be open: any process that reaches them could claim a member id, be sent every znode and forge writes. ` +
          'Give the servers a shared secret (quorum.auth.enableSasl=true, quorum.auth.learnerRequireSasl=true, quorum.auth.serverRequireSasl=true, quorum.auth.secretFile=<file, mode 600>) ' +
          'or TLS (sslQuorum=true with ssl.quorum.keyStore.location and ssl.quorum.trustStore.location); or write quorum.auth.enableSasl=false to run them open, as ZooKeeper does by default',
        undefined,
        'quorum.auth.enableSasl',
      );
    }
    const out: ReturnType<ConfigParser['quorumSecurity']> = {
      sslQuorum,
      sslQuorumHostnameVerification: this.bool('ssl.quorum.hostnameVerification') ?? true,
      sslQuorumProtocols: this.tlsProtocols(),
      quorumAuthEnableSasl: enable,
      quorumAuthLearnerRequireSasl: learnerRequire,
      quorumAuthServerRequireSasl: serverRequire,
    };
    if (secretFile !== undefined) out.quorumAuthSecretFile = secretFile;
    return out;
  }

  /** A ZooKeeper switch zablab does not implement: false is what it does anyway, true would be a promise it cannot keep. */
  private mustBeOff(key: 'sslQuorumReloadCertFiles' | 'portUnification' | 'ssl.quorum.crl' | 'ssl.quorum.ocsp'): void {
    if (this.bool(key) !== true) return;
    const why: Record<typeof key, string> = {
      sslQuorumReloadCertFiles: 'zablab reads the quorum key and trust stores once, at start; restart a server to load new certificates',
      portUnification: 'a zablab quorum port speaks TLS (sslQuorum=true) or plaintext, never both',
      'ssl.quorum.crl': 'zablab does not check certificate revocation lists; revoke by replacing the CA in the trust stores',
      'ssl.quorum.ocsp': 'zablab does not check OCSP; revoke by replacing the CA in the trust stores',
    };
    throw this.error(this.supported.get(key)!, `is true, which zablab does not implement: ${why[key]}; remove the line or set it to false`);
  }

  /** ssl.quorum.enabledProtocols, else ssl.quorum.protocol alone (ZooKeeper's rule), else TLS 1.2 and 1.3. */
  private tlsProtocols(): TlsVersion[] {
    const enabled = this.list('ssl.quorum.enabledProtocols');
    const protocol = this.supported.get('ssl.quorum.protocol');
    if (enabled === undefined && protocol === undefined) return [...TLS_VERSIONS];
    const range = tlsVersions(protocol?.value.trim() ?? 'TLS', enabled);
    if (typeof range === 'string') throw this.error((enabled !== undefined ? this.supported.get('ssl.quorum.enabledProtocols') : protocol)!, range);
    return TLS_VERSIONS.filter((v) => v >= range.min && v <= range.max);
  }


  /** A file path value, made absolute (relative paths against the current directory, as dataDir). */
  private filePath(key: SupportedKey): string | undefined {
    const e = this.supported.get(key);
    if (e === undefined) return undefined;
    if (e.value === '' || e.value.includes('\0')) throw this.error(e, 'must name a file');
    return path.resolve(e.value);
  }

  private allowedHosts(): string[] {
    const e = this.supported.get('admin.allowedHosts');
    if (e === undefined) return [];
    const hosts = e.value.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
    for (const h of hosts) {
      if (h !== '*' && !isHostLike(h)) throw this.error(e, `must be a comma-separated list of host names or addresses (or *), got "${h}"`);
    }
    return hosts.map(stripBrackets);
  }

  /** `<prefix>.keyStore.*` or `<prefix>.trustStore.*` (ssl.quorum or ssl): PEM only (ZooKeeper's type names, or its guess from the file name). */
  private store(prefix: 'ssl.quorum' | 'ssl', kind: 'keyStore' | 'trustStore'): StoreSpec | undefined {
    const at = (k: string): SupportedKey => `${prefix}.${kind}.${k}` as SupportedKey;
    const location = this.filePath(at('location'));
    const typeEntry = this.supported.get(at('type'));
    if (location === undefined) {
      if (typeEntry !== undefined) this.warn(typeEntry, `${typeEntry.key} is set but ${prefix}.${kind}.location is not; ignored`);
      return undefined;
    }
    const declared = typeEntry?.value.trim().toUpperCase();
    const guessed = /\.(jks)$/i.test(location) ? 'JKS' : /\.(p12|pfx)$/i.test(location) ? 'PKCS12' : /\.bcfks$/i.test(location) ? 'BCFKS' : 'PEM';
    const type = declared === undefined || declared === '' ? guessed : declared;
    if (type !== 'PEM') {
      const e = typeEntry ?? this.supported.get(at('location'))!;
      throw this.error(e, `names a ${type} store; zablab reads PEM files only (${prefix}.${kind}.type=PEM): convert it, e.g. with openssl pkcs12 -nodes`);
    }
    const spec: StoreSpec = { location, type: 'PEM' };
    if (kind === 'keyStore') {
      const password = this.supported.get(at('password'));
      if (password !== undefined) spec.password = password.value;
      const passwordPath = this.filePath(at('passwordPath'));
      if (passwordPath !== undefined) spec.passwordPath = passwordPath;
    }
    return spec;
  }

  // ---- the client port's TLS and authentication ---------------------------------------------

  private clientSecurity(
    clientPort: number,
    adminPort: number | undefined,
    own: ServerSpec | undefined,
  ): Pick<
    ZabConfig,
    | 'secureClientPort' | 'secureClientPortAddress' | 'clientPortUnification' | 'clientTls' | 'authProviders' | 'enforceAuthSchemes'
    | 'sessionRequireClientSASLAuth' | 'saslJaasFile' | 'saslLoginContext' | 'saslSuperUsers' | 'x509SuperUser'
  > {
    const secureClientPort = this.secureClientPort(clientPort, adminPort, own);
    const secureAddress = this.host('secureClientPortAddress');
    if (secureClientPort === 0 && secureAddress !== undefined) {
      throw this.error(this.supported.get('secureClientPortAddress')!, 'is set but secureClientPort is not; add secureClientPort=<port TLS clients connect to>');
    }
    const clientPortUnification = this.bool('client.portUnification') ?? false;
    const servesTls = secureClientPort !== 0 || clientPortUnification;
    const clientTls = servesTls ? this.clientTls(secureClientPort !== 0 ? 'secureClientPort' : 'client.portUnification') : undefined;
    if (!servesTls) this.warnUnusedSsl();
    const authProviders = this.authProviders(servesTls);
    const out: ReturnType<ConfigParser['clientSecurity']> = {
      secureClientPort,
      secureClientPortAddress: secureAddress ?? DEFAULT_CLIENT_PORT_ADDRESS,
      clientPortUnification,
      authProviders,
      ...this.enforceAuth(authProviders),
      saslLoginContext: DEFAULT_SASL_LOGIN_CONTEXT,
      saslSuperUsers: this.familyEntries.filter((f) => f.family === 'superUser').map((f) => f.entry.value),
    };
    if (clientTls !== undefined) out.clientTls = clientTls;
    const jaasFile = this.filePath('zablab.sasl.jaasFile');
    const context = this.supported.get('sasl.serverconfig');
    if (context !== undefined) {
      // ZooKeeper refuses to start when a section is named but there is no JAAS file to find it in.
      if (jaasFile === undefined) throw this.error(context, 'names a JAAS section, but zablab.sasl.jaasFile (the JAAS file with it) is not set');
      if (!/^[A-Za-z0-9_.-]+$/.test(context.value)) throw this.error(context, `must be a JAAS section name (letters, digits, '_', '.', '-'), got "${context.value}"`);
      out.saslLoginContext = context.value;
    }
    if (jaasFile !== undefined) {
      out.saslJaasFile = jaasFile;
      if (!authProviders.includes('sasl')) {
        this.warn(this.supported.get('zablab.sasl.jaasFile')!, 'SASL logins work, but ACLs cannot name sasl ids until authProvider.N=org.apache.zookeeper.server.auth.SASLAuthenticationProvider is set');
      }
    } else if (out.enforceAuthSchemes.includes('sasl')) {
      const e = this.supported.get('sessionRequireClientSASLAuth') ?? this.supported.get('enforce.auth.schemes')!;
      this.warn(e, 'SASL authentication is required, but zablab.sasl.jaasFile names no users: every client will be refused');
    } else if (authProviders.includes('sasl')) {
      // As ZooKeeper without a JAAS file: it starts, and no SASL login can succeed.
      const e = this.familyEntries.find((f) => f.family === 'authProvider' && AUTH_PROVIDER_CLASSES[f.entry.value.trim()] === 'sasl')!.entry;
      this.warn(e, `${e.key} registers SASL, but zablab.sasl.jaasFile is not set: no SASL login can succeed; name the JAAS file with the users (user_<name>="<password>")`);
    }
    const x509SuperUser = this.supported.get('X509AuthenticationProvider.superUser');
    if (x509SuperUser !== undefined) out.x509SuperUser = x509SuperUser.value;
    return out;
  }

  /** secureClientPort: a TCP port that none of this server's other ports use; 0 (ZooKeeper's "not set") when absent. */
  private secureClientPort(clientPort: number, adminPort: number | undefined, own: ServerSpec | undefined): number {
    const port = this.int('secureClientPort', { min: 0, max: 65535, unit: 'TCP port; 0 = none' }) ?? 0;
    if (port === 0) return 0;
    const e = this.supported.get('secureClientPort')!;
    const others: [string, number | undefined][] = [
      ['clientPort', clientPort],
      ['admin.serverPort', adminPort],
      ['the quorum port of its server.N line', own?.quorumPort],
      ['the election port of its server.N line', own?.electionPort],
    ];
    for (const [what, other] of others) {
      if (other === port) throw this.error(e, `is ${port}, which is also ${what}; give the TLS client port its own port`);
    }
    return port;
  }

  /** The ssl.* keys of a server that serves TLS clients; `cause` is the key that makes it serve TLS. */
  private clientTls(cause: SupportedKey): ClientTlsSpec {
    const causeEntry = this.supported.get(cause)!;
    const keyStore = this.store('ssl', 'keyStore');
    if (keyStore === undefined) {
      throw this.error(causeEntry, 'is set, but ssl.keyStore.location is not: zablab does not serve TLS without a key; name the PEM file with the private key and certificate chain');
    }
    const clientAuth = this.clientAuth();
    const trustStore = this.store('ssl', 'trustStore');
    if (trustStore === undefined && clientAuth !== 'none') {
      const e = this.supported.get('ssl.clientAuth') ?? causeEntry;
      throw this.error(e, `${e.key === 'ssl.clientAuth' ? `is ${clientAuth}` : `is set and ssl.clientAuth is ${clientAuth} (ZooKeeper's default)`}, but ssl.trustStore.location is not; name the PEM file with the CA certificates client certificates are checked against (or set ssl.clientAuth=none)`);
    }
    for (const key of ['ssl.crl', 'ssl.ocsp'] as const) {
      if (this.bool(key) === true) throw this.error(this.supported.get(key)!, 'is true, but zablab does not check certificate revocation; remove it (or set it to false)');
    }
    const supplier = this.supported.get('ssl.context.supplier.class');
    if (supplier !== undefined) throw this.error(supplier, 'names a Java class that builds the SSLContext; zablab cannot load it: configure ssl.keyStore.* and ssl.trustStore.* instead');
    const authProvider = this.supported.get('ssl.authProvider');
    if (authProvider !== undefined && authProvider.value !== 'x509') {
      throw this.error(authProvider, `is "${authProvider.value}"; zablab authenticates TLS clients with X509AuthenticationProvider only (ssl.authProvider=x509)`);
    }
    const spec: ClientTlsSpec = {
      keyStore,
      clientAuth,
      protocol: this.supported.get('ssl.protocol')?.value ?? DEFAULT_SSL_PROTOCOL,
      hostnameVerification: this.bool('ssl.hostnameVerification') ?? true,
      handshakeDetectionTimeoutMs: this.int('ssl.handshakeDetectionTimeoutMillis', { min: 1, unit: 'milliseconds', decode: true }) ?? DEFAULT_HANDSHAKE_DETECTION_TIMEOUT_MS,
    };
    if (trustStore !== undefined) spec.trustStore = trustStore;
    const enabled = this.list('ssl.enabledProtocols');
    if (enabled !== undefined) spec.enabledProtocols = enabled;
    const versions = tlsVersions(spec.protocol, spec.enabledProtocols);
    if (typeof versions === 'string') throw this.error(this.supported.get(enabled !== undefined ? 'ssl.enabledProtocols' : 'ssl.protocol')!, versions);
    const suites = this.list('ssl.ciphersuites');
    if (suites !== undefined) {
      const ciphers = openSslCiphers(suites);
      if (typeof ciphers === 'string') throw this.error(this.supported.get('ssl.ciphersuites')!, ciphers);
      spec.cipherSuites = suites;
    }
    return spec;
  }

  /** ZooKeeper's X509Util.ClientAuth.fromPropertyValue: none, want or need (any case); empty or unset is need. */
  private clientAuth(): ClientAuth {
    const e = this.supported.get('ssl.clientAuth');
    const v = e?.value.toLowerCase() ?? '';
    if (v === '') return 'need';
    if (v === 'none' || v === 'want' || v === 'need') return v;
    throw this.error(e!, `must be need, want or none, got "${e!.value}"`);
  }

  /** A comma-separated value as ZooKeeper splits it (items trimmed, empty ones dropped). */
  private list(key: SupportedKey): string[] | undefined {
    const e = this.supported.get(key);
    if (e === undefined) return undefined;
    const items = e.value.split(',').map((x) => x.trim()).filter((x) => x !== '');
    if (items.length === 0) throw this.error(e, 'must list at least one value (comma-separated)');
    return items;
  }

  /** Client-port ssl.* keys do nothing without a TLS client port: say so rather than let them look like protection. */
  private warnUnusedSsl(): void {
    for (const [key, e] of this.supported) {
      if (key.startsWith('ssl.') && !key.startsWith('ssl.quorum.')) {
        this.warn(e, `${e.key} has no effect: neither secureClientPort nor client.portUnification is set, so the client port serves no TLS`);
      }
    }
  }

  /**
   * authProvider.N=<class>: the schemes registered beyond digest and ip. A class zablab does not
   * implement stops the server (ZooKeeper logs and goes on without it, and ACLs naming its scheme
   * then match nobody). TLS registers x509 as ZooKeeper's configureSSLAuth does.
   */
  private authProviders(servesTls: boolean): ExtraAuthScheme[] {
    const schemes = new Set<ExtraAuthScheme>();
    for (const { family, entry } of this.familyEntries) {
      if (family !== 'authProvider') continue;
      const scheme = AUTH_PROVIDER_CLASSES[entry.value];
      if (scheme === undefined) {
        throw this.error(entry, `names ${entry.value === '' ? 'no class' : entry.value}, which zablab does not implement; it has ${Object.keys(AUTH_PROVIDER_CLASSES).map((c) => c.slice(c.lastIndexOf('.') + 1)).join(', ')} (org.apache.zookeeper.server.auth)`);
      }
      if (scheme === 'sasl' || scheme === 'x509') schemes.add(scheme);
    }
    if (servesTls) schemes.add('x509');
    return [...schemes].sort();
  }

  /** enforce.auth.* (or sessionRequireClientSASLAuth, which wins, as in ZooKeeper's AuthenticationHelper). */
  private enforceAuth(extra: readonly ExtraAuthScheme[]): Pick<ZabConfig, 'enforceAuthSchemes' | 'sessionRequireClientSASLAuth'> {
    const requireSasl = this.bool('sessionRequireClientSASLAuth') ?? false;
    const enabled = this.bool('enforce.auth.enabled') ?? false;
    const schemesEntry = this.supported.get('enforce.auth.schemes');
    const available = new Set<string>(['digest', 'ip', ...extra]);
    const check = (e: Entry, scheme: string): void => {
      if (!available.has(scheme)) {
        const hint = scheme === 'sasl' || scheme === 'x509' ? `; register it with authProvider.N=${Object.keys(AUTH_PROVIDER_CLASSES).find((c) => AUTH_PROVIDER_CLASSES[c] === scheme)}${scheme === 'x509' ? ' (or serve TLS: secureClientPort)' : ''}` : '';
        throw this.error(e, `${e.key === 'sessionRequireClientSASLAuth' ? 'requires' : 'names'} the ${scheme} scheme, which is not available (schemes: ${[...available].sort().join(', ')})${hint}`);
      }
    };
    if (requireSasl) {
      const e = this.supported.get('sessionRequireClientSASLAuth')!;
      check(e, 'sasl');
      if (this.supported.has('enforce.auth.enabled') || schemesEntry !== undefined) {
        this.warn(e, 'sessionRequireClientSASLAuth=true wins over enforce.auth.*: only SASL-authenticated sessions are served');
      }
      return { enforceAuthSchemes: ['sasl'], sessionRequireClientSASLAuth: true };
    }
    const schemes = this.list('enforce.auth.schemes') ?? [];
    if (!enabled) {
      if (schemesEntry !== undefined) this.warn(schemesEntry, 'enforce.auth.schemes has no effect unless enforce.auth.enabled=true');
      return { enforceAuthSchemes: [], sessionRequireClientSASLAuth: false };
    }
    const enabledEntry = this.supported.get('enforce.auth.enabled')!;
    if (schemes.length === 0) throw this.error(enabledEntry, 'is true, but enforce.auth.schemes is not set; name the schemes a session must have authenticated with (e.g. sasl)');
    for (const scheme of schemes) check(schemesEntry!, scheme);
    return { enforceAuthSchemes: [...new Set(schemes)], sessionRequireClientSASLAuth: false };
  }

  // ---- the ensemble -------------------------------------------------------------------

  private parseServers(maxId: number): ServerSpec[] {
    const servers: ServerSpec[] = [];
    const byId = this.serverEntryById;
    const endpoints = new Map<string, { id: number; line: number }>();
    for (const e of this.serverEntries) {
      const spec = this.parseServer(e, maxId);
      const prev = byId.get(spec.id);
      if (prev !== undefined) {
        throw this.error(e, `repeats server id ${spec.id} of ${prev.key} (line ${prev.line}); every server needs its own id`);
      }
      byId.set(spec.id, e);
      const used: [string, number][] = [
        [spec.host, spec.quorumPort],
        [spec.host, spec.electionPort],
      ];
      if (spec.clientPort !== undefined) {
        // A wildcard client address binds on the server's own machine.
        const clientHost = spec.clientHost === undefined || spec.clientHost === DEFAULT_CLIENT_PORT_ADDRESS ? spec.host : spec.clientHost;
        used.push([clientHost, spec.clientPort]);
      }
      for (const [host, port] of used) {
        const k = `${host}:${port}`;
        const other = endpoints.get(k);
        if (other !== undefined && other.id !== spec.id) {
          throw this.error(e, `uses ${k}, which server.${other.id} (line ${other.line}) uses too; give every server its own ports`);
        }
        if (other !== undefined) throw this.error(e, `uses port ${port} twice; quorum, election and client ports must differ`);
        endpoints.set(k, { id: spec.id, line: e.line });
      }
      servers.push(spec);
    }
    return servers.sort((a, b) => a.id - b.id);
  }

  private parseServer(e: Entry, maxId: number): ServerSpec {
    const idText = e.key.slice('server.'.length);
    const id = /^\d{1,6}$/.test(idText) ? Number(idText) : NaN;
    if (!(id >= 1 && id <= maxId)) {
      const why = maxId === MAX_SERVER_ID_EXTENDED ? ' when extendedTypesEnabled=true' : '';
      throw new ConfigError(
        `${this.file} line ${e.line}: server.x ids must be integers from 1 to ${maxId}${why}, got "${e.key}"`,
        e.line,
        e.key,
      );
    }
    const form = `must look like host:quorumPort:electionPort[:observer|:participant][;[clientHost:]clientPort], got "${e.value}"`;
    const [serverPart = '', clientPart, securePart, ...extra] = e.value.split(';');
    if (extra.length > 0) throw this.error(e, form);
    if (serverPart.includes('|')) {
      throw this.error(e, 'lists several addresses (|); zablab supports one address per server');
    }
    const parts = splitHostAndPorts(serverPart);
    if (parts === undefined || parts.length < 3 || parts.length > 4) throw this.error(e, form);
    const [host = '', quorumText = '', electionText = '', roleText] = parts;
    if (!isHostLike(host)) throw this.error(e, form);
    const quorumPort = this.port(e, 'quorum port', quorumText);
    const electionPort = this.port(e, 'election port', electionText);
    if (quorumPort === electionPort) {
      throw this.error(e, `quorum port and election port must differ, both are ${quorumPort}`);
    }
    let role: PeerType = 'participant';
    if (roleText !== undefined) {
      const r = roleText.trim().toLowerCase();
      if (r !== 'observer' && r !== 'participant') {
        throw this.error(e, `role must be observer or participant, got "${roleText}"`);
      }
      role = r;
    }
    const spec: ServerSpec = { id, host, quorumPort, electionPort, role };
    if (clientPart !== undefined && clientPart.trim() !== '') {
      const cp = splitHostAndPorts(clientPart.trim());
      if (cp === undefined || cp.length > 2) throw this.error(e, form);
      const clientHost = cp.length === 2 ? cp[0]! : DEFAULT_CLIENT_PORT_ADDRESS;
      if (!isHostLike(clientHost)) throw this.error(e, form);
      spec.clientHost = clientHost;
      spec.clientPort = this.port(e, 'client port', cp[cp.length - 1]!);
    }
    if (securePart !== undefined && securePart.trim() !== '') {
      this.warn(e, `${e.key} has a third ';' part, which ZooKeeper ignores (a TLS client port is secureClientPort=<port>); ignored`);
    }
    return spec;
  }

  private port(e: Entry, what: string, text: string): number {
    const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
    if (!(n >= 1 && n <= 65535)) throw this.error(e, `${what} must be an integer from 1 to 65535, got "${text}"`);
    return n;
  }

  /** ZooKeeper's rules for which server lists make a quorum; returns whether this is standalone. */
  private checkQuorumShape(voters: number, observers: number, standaloneEnabled: boolean): boolean {
    const first = this.serverEntries[0];
    if (voters === 0) {
      if (observers > 0) {
        throw new ConfigError(`${this.file} line ${first!.line}: the server list has observers but no participants; at least one server.N must be a participant`, first!.line, first!.key);
      }
      if (!standaloneEnabled) {
        const e = this.supported.get('standaloneEnabled')!;
        throw this.error(e, 'is false, so the server list must have at least one participant; add server.N lines');
      }
      return true;
    }
    if (voters === 1 && standaloneEnabled) {
      if (observers > 0) {
        throw new ConfigError(`${this.file} line ${first!.line}: observers need a quorum, but there is one participant; add participants or set standaloneEnabled=false`, first!.line, first!.key);
      }
      this.warnings.push(`${this.file} line ${first!.line}: only one server is listed, so this runs standalone; set standaloneEnabled=false to run a one-server quorum`);
      return true;
    }
    if (voters === 2) {
      this.warnings.push(`${this.file}: no server failure will be tolerated with 2 participants; you need at least 3 servers`);
    } else if (voters > 2 && voters % 2 === 0) {
      this.warnings.push(`${this.file}: ${voters} participants tolerate no more failures than ${voters - 1}; consider an odd number of servers`);
    }
    return false;
  }

  private serverId(dataDir: string, servers: ServerSpec[], standalone: boolean, maxId: number): number {
    const myidFile = path.join(dataDir, 'myid');
    const text = this.opts.readMyid?.(dataDir);
    const ids = servers.map((s) => s.id).join(', ');
    if (text === undefined) {
      if (standalone) return 0;
      throw new ConfigError(`${myidFile} is missing; create it containing this server's id (one of ${ids})`, undefined, 'myid');
    }
    const t = text.trim();
    const id = /^\d{1,6}$/.test(t) ? Number(t) : NaN;
    if (!(id >= 1 && id <= maxId)) {
      throw new ConfigError(`${myidFile} must hold this server's id, an integer from 1 to ${maxId}, got "${t}"`, undefined, 'myid');
    }
    if (!standalone && !servers.some((s) => s.id === id)) {
      throw new ConfigError(`${myidFile} says ${id}, but ${this.file} has no server.${id} (servers: ${ids}); fix myid or add server.${id}`, undefined, 'myid');
    }
    return id;
  }

  private peerType(servers: ServerSpec[], serverId: number, standalone: boolean): PeerType {
    const e = this.supported.get('peerType');
    let declared: PeerType | undefined;
    if (e !== undefined) {
      const v = e.value.toLowerCase();
      if (v !== 'observer' && v !== 'participant') throw this.error(e, `must be observer or participant, got "${e.value}"`);
      declared = v;
    }
    if (standalone) return declared ?? 'participant';
    const listed = servers.find((s) => s.id === serverId)!.role;
    if (declared !== undefined && declared !== listed) {
      // ZooKeeper's rule: the server list wins.
      this.warn(e!, `peerType=${declared} does not match server.${serverId} (${listed}); using ${listed} from the server list`);
    }
    return listed;
  }

  private clientAddress(servers: ServerSpec[], serverId: number, standalone: boolean): { clientPort: number; clientPortAddress: string } {
    const portEntry = this.supported.get('clientPort');
    const staticPort = this.int('clientPort', { min: 1, max: 65535, unit: 'TCP port' });
    const staticAddress = this.host('clientPortAddress');
    const own = standalone ? undefined : servers.find((s) => s.id === serverId);
    if (own?.clientPort !== undefined) {
      const ownHost = own.clientHost ?? DEFAULT_CLIENT_PORT_ADDRESS;
      const portDiffers = staticPort !== undefined && staticPort !== own.clientPort;
      const hostDiffers = staticAddress !== undefined && staticAddress !== DEFAULT_CLIENT_PORT_ADDRESS && staticAddress !== ownHost;
      if (portDiffers || hostDiffers) {
        const at = portEntry ?? this.supported.get('clientPortAddress')!;
        throw this.error(at, `says ${staticAddress ?? DEFAULT_CLIENT_PORT_ADDRESS}:${staticPort ?? own.clientPort}, but server.${serverId} says ${ownHost}:${own.clientPort}; make them agree or drop one`);
      }
      return { clientPort: own.clientPort, clientPortAddress: ownHost };
    }
    if (staticPort === undefined) {
      if (staticAddress !== undefined) {
        throw this.error(this.supported.get('clientPortAddress')!, 'is set but clientPort is not; add clientPort=<port clients connect to>');
      }
      throw new ConfigError(`${this.file}: clientPort is not set; add clientPort=2181 (the port clients connect to)`, undefined, 'clientPort');
    }
    return { clientPort: staticPort, clientPortAddress: staticAddress ?? DEFAULT_CLIENT_PORT_ADDRESS };
  }

  /** The ports this server binds must all differ. */
  private checkOwnPorts(servers: ServerSpec[], serverId: number, standalone: boolean, clientPort: number, adminPort: number | undefined): void {
    if (adminPort !== undefined && adminPort === clientPort) {
      const e = this.supported.get('admin.serverPort') ?? this.supported.get('clientPort');
      const msg = `admin.serverPort and clientPort are both ${clientPort}; give the HTTP admin server its own port (or admin.enableServer=false)`;
      throw new ConfigError(e === undefined ? `${this.file}: ${msg}` : `${this.file} line ${e.line}: ${msg}`, e?.line, 'admin.serverPort');
    }
    if (standalone) return;
    const own = servers.find((s) => s.id === serverId)!;
    const line = this.serverEntryById.get(serverId)!;
    for (const [what, port] of [['clientPort', clientPort], ['admin.serverPort', adminPort]] as const) {
      if (port !== undefined && (port === own.quorumPort || port === own.electionPort)) {
        throw this.error(line, `uses port ${port}, which is also this server's ${what}; give each its own port`);
      }
    }
  }
}

// ---- Java properties ------------------------------------------------------------------

/**
 * Java's Properties format: `key=value`, `key: value` or `key value`; `#`/`!` comments;
 * a trailing backslash continues the line; backslash escapes. Keys and values are trimmed,
 * as ZooKeeper does.
 */
export function parseProperties(text: string): Entry[] {
  const lines = text.split(/\r\n|\r|\n/);
  const out: Entry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let logical = lines[i]!.replace(/^[ \t\f]+/, '');
    if (logical === '' || logical.startsWith('#') || logical.startsWith('!')) continue;
    while (endsWithOddBackslashes(logical) && i + 1 < lines.length) {
      logical = logical.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, '');
    }
    if (endsWithOddBackslashes(logical)) logical = logical.slice(0, -1);
    const { key, value } = splitKeyValue(logical);
    out.push({ key: unescape(key).trim(), value: unescape(value).trim(), line: first });
  }
  return out;
}

function endsWithOddBackslashes(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

function splitKeyValue(s: string): { key: string; value: string } {
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
    i++;
  }
  const key = s.slice(0, i);
  let j = i;
  while (j < s.length && (s[j] === ' ' || s[j] === '\t' || s[j] === '\f')) j++;
  if (j < s.length && (s[j] === '=' || s[j] === ':')) j++;
  return { key, value: s.slice(j).replace(/^[ \t\f]+/, '') };
}

function unescape(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[++i]!;
    if (n === 't') out += '\t';
    else if (n === 'n') out += '\n';
    else if (n === 'r') out += '\r';
    else if (n === 'f') out += '\f';
    else if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 5), 16));
      i += 4;
    } else out += n;
  }
  return out;
}

// ---- values ---------------------------------------------------------------------------

/**
 * Integer.parseInt (decimal, optional sign); with `decode`, also Integer.decode's hex forms
 * (0x1f, #1f), which ZooKeeper accepts for settings read as system properties.
 */
export function parseJavaInt(s: string, decode: boolean): number | undefined {
  let n: number;
  const hex = decode ? /^([+-]?)(?:0[xX]|#)([0-9a-fA-F]{1,8})$/.exec(s) : null;
  if (hex !== null) n = (hex[1] === '-' ? -1 : 1) * parseInt(hex[2]!, 16);
  else if (/^[+-]?\d{1,10}$/.test(s)) n = Number(s);
  else return undefined;
  return n >= -INT32_MAX - 1 && n <= INT32_MAX ? n : undefined;
}

/** ZooKeeper's Time.parseTimeInterval with autopurge's rule: a bare number is hours. Returns ms. */
export function parseTimeInterval(s: string): number | undefined {
  const m = /^([+-]?\d{1,10})(ms|MS|[sSmMhHdD])?$/.exec(s);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = m[2]?.toLowerCase() ?? 'h';
  const scale = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : unit === 'h' ? HOUR_MS : 86_400_000;
  const ms = n * scale;
  return Math.abs(ms) <= INT32_MAX ? ms : undefined;
}

function isHostLike(s: string): boolean {
  return /^(\[[0-9a-fA-F:.%\w]+\]|[0-9a-fA-F:.]+|[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)$/.test(s) && s.length <= 253;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** `host:p1:p2[:x]` with `[v6]` hosts, as ZooKeeper's ConfigUtils.getHostAndPort splits it. */
function splitHostAndPorts(s: string): string[] | undefined {
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return undefined;
    const host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest === '') return [host];
    if (!rest.startsWith(':')) return undefined;
    return [host, ...rest.slice(1).split(':')];
  }
  return s.split(':');
}

// ---- writing --------------------------------------------------------------------------

type FieldRenderer = { key: string; render: (v: never) => string | [string, string][] };

const yesNo = (v: boolean): string => (v ? 'yes' : 'no');
const str = (v: number | string | boolean): string => String(v);

/** How each ZabConfig field is written back as zoo.cfg. Derived fields are absent. */
const FIELD_RENDERERS: Partial<Record<keyof ZabConfig, FieldRenderer>> = {
  tickTime: { key: 'tickTime', render: str },
  initLimit: { key: 'initLimit', render: str },
  syncLimit: { key: 'syncLimit', render: str },
  connectToLearnerMasterLimit: { key: 'connectToLearnerMasterLimit', render: str },
  dataDir: { key: 'dataDir', render: str },
  dataLogDir: { key: 'dataLogDir', render: str },
  clientPort: { key: 'clientPort', render: str },
  clientPortAddress: { key: 'clientPortAddress', render: str },
  clientPortListenBacklog: { key: 'clientPortListenBacklog', render: str },
  servers: { key: 'server.N', render: (v: ServerSpec[]) => v.map((s): [string, string] => [`server.${s.id}`, formatServerSpec(s)]) },
  peerType: { key: 'peerType', render: str },
  standaloneEnabled: { key: 'standaloneEnabled', render: str },
  quorumListenOnAllIPs: { key: 'quorumListenOnAllIPs', render: str },
  electionPortBindRetry: { key: 'electionPortBindRetry', render: str },
  cnxTimeoutMs: { key: 'cnxTimeout', render: str },
  snapCount: { key: 'snapCount', render: str },
  globalOutstandingLimit: { key: 'globalOutstandingLimit', render: str },
  preAllocSizeBytes: { key: 'preAllocSize', render: (v: number) => String(Math.ceil(v / 1024)) },
  forceSync: { key: 'forceSync', render: yesNo },
  fsyncWarningThresholdMs: { key: 'fsync.warningthresholdms', render: str },
  commitLogCount: { key: 'commitLogCount', render: str },
  snapshotSizeFactor: { key: 'snapshotSizeFactor', render: str },
  maxClientCnxns: { key: 'maxClientCnxns', render: str },
  maxCnxns: { key: 'maxCnxns', render: str },
  sessionlessCnxnTimeoutMs: { key: 'nio.sessionlessCnxnTimeout', render: str },
  connectionThrottleTokens: { key: 'connection_throttle_tokens', render: str },
  connectionThrottleFillTimeMs: { key: 'connection_throttle_fill_time', render: str },
  connectionThrottleFillCount: { key: 'connection_throttle_fill_count', render: str },
  connectionThrottleFreezeTimeMs: { key: 'connection_throttle_freeze_time', render: str },
  connectionThrottleDropIncrease: { key: 'connection_throttle_drop_increase', render: str },
  connectionThrottleDropDecrease: { key: 'connection_throttle_drop_decrease', render: str },
  connectionThrottleDecreaseRatio: { key: 'connection_throttle_decrease_ratio', render: str },
  connectionThrottleWeightEnabled: { key: 'connection_throttle_weight_enabled', render: str },
  connectionThrottleGlobalSessionWeight: { key: 'connection_throttle_global_session_weight', render: str },
  connectionThrottleLocalSessionWeight: { key: 'connection_throttle_local_session_weight', render: str },
  connectionThrottleRenewSessionWeight: { key: 'connection_throttle_renew_session_weight', render: str },
  connectionThrottlePerIpTokens: { key: 'zablab.connection_throttle_per_ip_tokens', render: str },
  connectionThrottlePerIpFillTimeMs: { key: 'zablab.connection_throttle_per_ip_fill_time', render: str },
  connectionThrottlePerIpFillCount: { key: 'zablab.connection_throttle_per_ip_fill_count', render: str },
  minSessionTimeout: { key: 'minSessionTimeout', render: str },
  maxSessionTimeout: { key: 'maxSessionTimeout', render: str },
  leaderServes: { key: 'leaderServes', render: yesNo },
  juteMaxBuffer: { key: 'jute.maxbuffer', render: str },
  autopurgeSnapRetainCount: { key: 'autopurge.snapRetainCount', render: str },
  autopurgePurgeIntervalMs: { key: 'autopurge.purgeInterval', render: formatPurgeInterval },
  autopurgePurgeIntervalHours: { key: 'autopurge.purgeInterval', render: str },
  fourLetterWhitelist: { key: '4lw.commands.whitelist', render: (v: Set<string>) => [...v].join(',') },
  adminEnableServer: { key: 'admin.enableServer', render: str },
  adminServerAddress: { key: 'admin.serverAddress', render: str },
  adminServerPort: { key: 'admin.serverPort', render: str },
  adminTokenFile: { key: 'admin.tokenFile', render: str },
  adminAuthEnabled: { key: 'admin.auth.enabled', render: str },
  adminAllowedHosts: { key: 'admin.allowedHosts', render: (v: string[]) => v.join(',') },
  adminForceHttps: { key: 'admin.forceHttps', render: str },
  adminNeedClientAuth: { key: 'admin.needClientAuth', render: str },
  sslQuorumKeyStore: { key: 'ssl.quorum.keyStore', render: (v: StoreSpec) => renderStore('keyStore', v) },
  sslQuorumTrustStore: { key: 'ssl.quorum.trustStore', render: (v: StoreSpec) => renderStore('trustStore', v) },
  sslQuorum: { key: 'sslQuorum', render: str },
  sslQuorumHostnameVerification: { key: 'ssl.quorum.hostnameVerification', render: str },
  sslQuorumProtocols: { key: 'ssl.quorum.enabledProtocols', render: (v: TlsVersion[]) => v.join(',') },
  quorumAuthEnableSasl: { key: 'quorum.auth.enableSasl', render: str },
  quorumAuthLearnerRequireSasl: { key: 'quorum.auth.learnerRequireSasl', render: str },
  quorumAuthServerRequireSasl: { key: 'quorum.auth.serverRequireSasl', render: str },
  quorumAuthSecretFile: { key: 'quorum.auth.secretFile', render: str },
  secureClientPort: { key: 'secureClientPort', render: (v: number) => (v === 0 ? [] : String(v)) },
  secureClientPortAddress: { key: 'secureClientPortAddress', render: str },
  clientPortUnification: { key: 'client.portUnification', render: str },
  clientTls: { key: 'ssl', render: renderClientTls },
  authProviders: {
    key: 'authProvider.N',
    render: (v: ExtraAuthScheme[]) => v.map((scheme): [string, string] => [`authProvider.${scheme}`, Object.keys(AUTH_PROVIDER_CLASSES).find((c) => AUTH_PROVIDER_CLASSES[c] === scheme)!]),
  },
  enforceAuthSchemes: { key: 'enforce.auth', render: (v: string[]) => (v.length === 0 ? [] : [['enforce.auth.enabled', 'true'], ['enforce.auth.schemes', v.join(',')]]) },
  sessionRequireClientSASLAuth: { key: 'sessionRequireClientSASLAuth', render: str },
  saslJaasFile: { key: 'zablab.sasl.jaasFile', render: str },
  saslLoginContext: { key: 'sasl.serverconfig', render: str },
  saslSuperUsers: { key: 'superUser', render: (v: string[]) => v.map((u, i): [string, string] => [i === 0 ? 'superUser' : `superUser.${i}`, u]) },
  x509SuperUser: { key: 'X509AuthenticationProvider.superUser', render: str },
  extendedTypesEnabled: { key: 'extendedTypesEnabled', render: str },
  syncEnabled: { key: 'syncEnabled', render: str },
  skipACL: { key: 'skipACL', render: yesNo },
  superDigest: { key: 'DigestAuthenticationProvider.superDigest', render: str },
  digestEnabled: { key: 'digest.enabled', render: str },
  tcpKeepAlive: { key: 'tcpKeepAlive', render: str },
  clientTcpKeepAlive: { key: 'clientTcpKeepAlive', render: str },
};

/** Fields that describe a parsed config rather than a setting; renderConfig skips them. */
const DERIVED_FIELDS: ReadonlySet<string> = new Set([
  'configPath', 'serverId', 'standalone', 'raw', 'lines', 'warnings', 'minSessionTimeoutSet', 'maxSessionTimeoutSet',
]);

function renderStore(kind: 'keyStore' | 'trustStore', v: StoreSpec, prefix: 'ssl.quorum' | 'ssl' = 'ssl.quorum'): [string, string][] {
  const out: [string, string][] = [[`${prefix}.${kind}.location`, v.location], [`${prefix}.${kind}.type`, v.type]];
  if (v.password !== undefined) out.push([`${prefix}.${kind}.password`, v.password]);
  if (v.passwordPath !== undefined) out.push([`${prefix}.${kind}.passwordPath`, v.passwordPath]);
  return out;
}

function renderClientTls(v: ClientTlsSpec): [string, string][] {
  const out = renderStore('keyStore', v.keyStore, 'ssl');
  if (v.trustStore !== undefined) out.push(...renderStore('trustStore', v.trustStore, 'ssl'));
  out.push(['ssl.clientAuth', v.clientAuth], ['ssl.protocol', v.protocol]);
  if (v.enabledProtocols !== undefined) out.push(['ssl.enabledProtocols', v.enabledProtocols.join(',')]);
  if (v.cipherSuites !== undefined) out.push(['ssl.ciphersuites', v.cipherSuites.join(',')]);
  out.push(['ssl.hostnameVerification', String(v.hostnameVerification)], ['ssl.handshakeDetectionTimeoutMillis', String(v.handshakeDetectionTimeoutMs)]);
  return out;
}

export function formatServerSpec(s: ServerSpec): string {
  const host = s.host.includes(':') ? `[${s.host}]` : s.host;
  let v = `${host}:${s.quorumPort}:${s.electionPort}:${s.role}`;
  if (s.clientPort !== undefined) {
    const ch = s.clientHost ?? DEFAULT_CLIENT_PORT_ADDRESS;
    v += `;${ch.includes(':') ? `[${ch}]` : ch}:${s.clientPort}`;
  }
  return v;
}

/** Whole hours as a bare number (readable by every ZooKeeper); otherwise with a unit (ZooKeeper 3.10+). */
function formatPurgeInterval(ms: number): string {
  if (ms % HOUR_MS === 0) return String(ms / HOUR_MS);
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * Writes a zoo.cfg. Takes ZabConfig fields (typed values, or strings written verbatim)
 * and/or zoo.cfg keys with string values (`'server.1'`, `'autopurge.purgeInterval'`, ...),
 * in insertion order; derived fields (serverId, raw, warnings, ...) are skipped.
 * parseConfig(renderConfig(cfg)) gives back cfg's settings.
 */
export function renderConfig(cfg: Partial<ZabConfig> | Record<string, string>): string {
  const lines: string[] = ['# zoo.cfg written by zablab'];
  const written = new Set<string>();
  const put = (key: string, value: string): void => {
    if (written.has(key)) throw new ConfigError(`renderConfig: ${key} is given twice`, undefined, key);
    if (/[\r\n]/.test(value)) throw new ConfigError(`renderConfig: the value of ${key} contains a line break`, undefined, key);
    written.add(key);
    lines.push(`${key}=${value.replace(/\\/g, '\\\\')}`);
  };
  const fields = cfg as Record<string, unknown>;
  for (const [field, value] of Object.entries(cfg) as [string, unknown][]) {
    if (value === undefined || DERIVED_FIELDS.has(field)) continue;
    // Unset session timeouts follow tickTime; keep them unset.
    if (field === 'minSessionTimeout' && fields['minSessionTimeoutSet'] === false) continue;
    if (field === 'maxSessionTimeout' && fields['maxSessionTimeoutSet'] === false) continue;
    if (field === 'autopurgePurgeIntervalHours' && fields['autopurgePurgeIntervalMs'] !== undefined) continue;
    // Keys that mean nothing (and would be refused) without the key they belong to.
    if (field === 'secureClientPortAddress' && !fields['secureClientPort']) continue;
    if (field === 'saslLoginContext' && fields['saslJaasFile'] === undefined) continue;
    const r = FIELD_RENDERERS[field as keyof ZabConfig];
    if (r !== undefined) {
      if (typeof value === 'string' && r.key !== 'server.N') {
        put(r.key, value);
        continue;
      }
      const out = r.render(value as never);
      if (typeof out === 'string') put(r.key, out);
      else for (const [k, v] of out) put(k, v);
      continue;
    }
    const c = classifyKey(field);
    if (typeof value !== 'string' || c.kind === 'unknown' || c.kind === 'rejected') {
      throw new ConfigError(`renderConfig: "${field}" is neither a ZabConfig field nor a zoo.cfg key with a string value`, undefined, field);
    }
    put(field, value);
  }
  return lines.join('\n') + '\n';
}

/**
 * A ConfigError about `key` of a parsed config, naming its file and line as the parser's own
 * errors do: for problems found after parsing, in the files that keys name.
 */
export function configErrorAt(cfg: ZabConfig, key: SupportedKey, what: string): ConfigError {
  const line = cfg.lines.get(key);
  const file = cfg.configPath === undefined ? 'zoo.cfg' : path.basename(cfg.configPath);
  return new ConfigError(`${line === undefined ? file : `${file} line ${line}`}: ${key} ${what}`, line, key);
}
