import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type ZabConfig } from '../../../src/server/config.js';
import { cfgOf, DATA, errOf } from './parse.js';

const BASE = [`dataDir=${DATA}`, 'clientPort=2181'];
const QUORUM = [
  ...BASE,
  'initLimit=10',
  'syncLimit=5',
  'server.1=127.0.0.1:2888:3888',
  'server.2=127.0.0.1:2889:3889',
  'server.3=127.0.0.1:2890:3890:observer',
  // zablab refuses open peer ports unless they are asked for (quorum-security.test.ts).
  'quorum.auth.enableSasl=false',
];

describe('zoo.cfg defaults (ZooKeeper\'s)', () => {
  it('a minimal standalone config gets ZooKeeper\'s defaults', () => {
    const cfg = cfgOf(BASE);
    expect(cfg).toMatchObject({
      serverId: 0,
      tickTime: 3000,
      initLimit: 0,
      syncLimit: 0,
      connectToLearnerMasterLimit: 0,
      dataDir: DATA,
      dataLogDir: DATA,
      clientPort: 2181,
      clientPortAddress: '0.0.0.0',
      clientPortListenBacklog: -1,
      servers: [],
      peerType: 'participant',
      standalone: true,
      standaloneEnabled: true,
      quorumListenOnAllIPs: false,
      electionPortBindRetry: 3,
      cnxTimeoutMs: 5000,
      snapCount: 100_000,
      globalOutstandingLimit: 1000,
      preAllocSizeBytes: 64 * 1024 * 1024,
      forceSync: true,
      fsyncWarningThresholdMs: 1000,
      commitLogCount: 500,
      snapshotSizeFactor: 0.33,
      maxClientCnxns: 60,
      maxCnxns: 0,
      sessionlessCnxnTimeoutMs: 10_000,
      connectionThrottleTokens: 0,
      connectionThrottleFillTimeMs: 1,
      connectionThrottleFillCount: 1,
      connectionThrottleFreezeTimeMs: -1,
      connectionThrottleDropIncrease: 0.02,
      connectionThrottleDropDecrease: 0.002,
      connectionThrottleDecreaseRatio: 0,
      connectionThrottleWeightEnabled: false,
      connectionThrottleGlobalSessionWeight: 3,
      connectionThrottleLocalSessionWeight: 1,
      connectionThrottleRenewSessionWeight: 2,
      connectionThrottlePerIpTokens: 0,
      connectionThrottlePerIpFillTimeMs: 1000,
      connectionThrottlePerIpFillCount: 1,
      minSessionTimeout: 6000,
      maxSessionTimeout: 60000,
      minSessionTimeoutSet: false,
      maxSessionTimeoutSet: false,
      leaderServes: true,
      juteMaxBuffer: 0xfffff,
      autopurgeSnapRetainCount: 3,
      autopurgePurgeIntervalHours: 0,
      autopurgePurgeIntervalMs: 0,
      adminEnableServer: true,
      adminServerAddress: '127.0.0.1',
      adminServerPort: 8080,
      extendedTypesEnabled: false,
      syncEnabled: true,
      skipACL: false,
      digestEnabled: true,
      tcpKeepAlive: false,
      clientTcpKeepAlive: false,
      warnings: [],
    });
    expect(cfg.superDigest).toBeUndefined();
    expect(cfg.configPath).toBeUndefined();
    expect([...cfg.fourLetterWhitelist]).toEqual(['srvr']);
    expect([...cfg.raw]).toEqual([
      ['dataDir', DATA],
      ['clientPort', '2181'],
    ]);
  });

  it('session timeouts default to 2 and 20 ticks', () => {
    const cfg = cfgOf([...BASE, 'tickTime=2000']);
    expect([cfg.minSessionTimeout, cfg.maxSessionTimeout]).toEqual([4000, 40000]);
  });

  it('-1 means "default" for session timeouts, as in ZooKeeper', () => {
    const cfg = cfgOf([...BASE, 'tickTime=100', 'minSessionTimeout=-1', 'maxSessionTimeout=-1']);
    expect([cfg.minSessionTimeout, cfg.maxSessionTimeout, cfg.maxSessionTimeoutSet]).toEqual([200, 2000, false]);
  });

  it('connectToLearnerMasterLimit defaults to initLimit', () => {
    expect(cfgOf([...BASE, 'initLimit=7']).connectToLearnerMasterLimit).toBe(7);
  });
});

describe('every supported key', () => {
  const cases: [string, Partial<ZabConfig>][] = [
    ['tickTime=2000', { tickTime: 2000 }],
    ['initLimit=10', { initLimit: 10 }],
    ['syncLimit=5', { syncLimit: 5 }],
    ['connectToLearnerMasterLimit=3', { connectToLearnerMasterLimit: 3 }],
    ['zookeeper.connectToLearnerMasterLimit=4', { connectToLearnerMasterLimit: 4 }],
    [`dataLogDir=${path.join(DATA, 'log')}`, { dataLogDir: path.join(DATA, 'log') }],
    ['clientPortAddress=127.0.0.1', { clientPortAddress: '127.0.0.1' }],
    ['clientPortAddress=[::1]', { clientPortAddress: '::1' }],
    ['clientPortListenBacklog=128', { clientPortListenBacklog: 128 }],
    ['peerType=observer', { peerType: 'observer' }],
    ['peerType=PARTICIPANT', { peerType: 'participant' }],
    ['electionAlg=3', {}],
    ['standaloneEnabled=true', { standaloneEnabled: true }],
    ['quorumListenOnAllIPs=true', { quorumListenOnAllIPs: true }],
    ['electionPortBindRetry=0', { electionPortBindRetry: 0 }],
    ['zookeeper.electionPortBindRetry=7', { electionPortBindRetry: 7 }],
    ['cnxTimeout=1000', { cnxTimeoutMs: 1000 }],
    ['zookeeper.cnxTimeout=1500', { cnxTimeoutMs: 1500 }],
    ['snapCount=1000', { snapCount: 1000 }],
    ['zookeeper.snapCount=2000', { snapCount: 2000 }],
    ['globalOutstandingLimit=50', { globalOutstandingLimit: 50 }],
    ['zookeeper.globalOutstandingLimit=60', { globalOutstandingLimit: 60 }],
    ['preAllocSize=1024', { preAllocSizeBytes: 1024 * 1024 }],
    ['zookeeper.preAllocSize=16', { preAllocSizeBytes: 16 * 1024 }],
    ['forceSync=no', { forceSync: false }],
    ['zookeeper.forceSync=yes', { forceSync: true }],
    ['fsync.warningthresholdms=50', { fsyncWarningThresholdMs: 50 }],
    ['zookeeper.fsync.warningthresholdms=0', { fsyncWarningThresholdMs: 0 }],
    ['commitLogCount=800', { commitLogCount: 800 }],
    ['zookeeper.commitLogCount=900', { commitLogCount: 900 }],
    ['snapshotSizeFactor=0.5', { snapshotSizeFactor: 0.5 }],
    ['zookeeper.snapshotSizeFactor=-1', { snapshotSizeFactor: -1 }],
    ['maxClientCnxns=0', { maxClientCnxns: 0 }],
    ['maxCnxns=100', { maxCnxns: 100 }],
    ['zookeeper.maxCnxns=200', { maxCnxns: 200 }],
    // zoo.cfg form: ZooKeeper turns the unknown key into the system property zookeeper.nio.sessionlessCnxnTimeout.
    ['nio.sessionlessCnxnTimeout=2000', { sessionlessCnxnTimeoutMs: 2000 }],
    ['zookeeper.nio.sessionlessCnxnTimeout=0x1000', { sessionlessCnxnTimeoutMs: 0x1000 }],
    // BlueThrottle's system properties, in zoo.cfg without `zookeeper.` (how ZooKeeper takes them from zoo.cfg).
    ['connection_throttle_tokens=100', { connectionThrottleTokens: 100 }],
    ['zookeeper.connection_throttle_tokens=50', { connectionThrottleTokens: 50 }],
    ['connection_throttle_fill_time=1000', { connectionThrottleFillTimeMs: 1000 }],
    ['connection_throttle_fill_count=10', { connectionThrottleFillCount: 10 }],
    ['connection_throttle_freeze_time=200', { connectionThrottleFreezeTimeMs: 200 }],
    ['zookeeper.connection_throttle_freeze_time=-1', { connectionThrottleFreezeTimeMs: -1 }],
    ['connection_throttle_drop_increase=0.05', { connectionThrottleDropIncrease: 0.05 }],
    ['connection_throttle_drop_decrease=1e-3', { connectionThrottleDropDecrease: 0.001 }],
    ['connection_throttle_decrease_ratio=.5', { connectionThrottleDecreaseRatio: 0.5 }],
    ['connection_throttle_weight_enabled=true', { connectionThrottleWeightEnabled: true }],
    ['connection_throttle_global_session_weight=5', { connectionThrottleGlobalSessionWeight: 5 }],
    ['connection_throttle_local_session_weight=2', { connectionThrottleLocalSessionWeight: 2 }],
    ['connection_throttle_renew_session_weight=4', { connectionThrottleRenewSessionWeight: 4 }],
    ['zablab.connection_throttle_per_ip_tokens=20', { connectionThrottlePerIpTokens: 20 }],
    ['zablab.connection_throttle_per_ip_fill_time=500', { connectionThrottlePerIpFillTimeMs: 500 }],
    ['zablab.connection_throttle_per_ip_fill_count=2', { connectionThrottlePerIpFillCount: 2 }],
    ['minSessionTimeout=1000', { minSessionTimeout: 1000, minSessionTimeoutSet: true }],
    ['maxSessionTimeout=90000', { maxSessionTimeout: 90000, maxSessionTimeoutSet: true }],
    ['leaderServes=no', { leaderServes: false }],
    ['zookeeper.leaderServes=yes', { leaderServes: true }],
    ['jute.maxbuffer=4194304', { juteMaxBuffer: 4194304 }],
    ['jute.maxbuffer=0x3fffff', { juteMaxBuffer: 0x3fffff }],
    ['autopurge.snapRetainCount=5', { autopurgeSnapRetainCount: 5 }],
    ['autopurge.purgeInterval=24', { autopurgePurgeIntervalHours: 24, autopurgePurgeIntervalMs: 24 * 3_600_000 }],
    ['autopurge.purgeInterval=90m', { autopurgePurgeIntervalHours: 1, autopurgePurgeIntervalMs: 90 * 60_000 }],
    ['autopurge.purgeInterval=10s', { autopurgePurgeIntervalHours: 0, autopurgePurgeIntervalMs: 10_000 }],
    ['autopurge.purgeInterval=2d', { autopurgePurgeIntervalMs: 2 * 86_400_000 }],
    ['autopurge.purgeInterval=250ms', { autopurgePurgeIntervalMs: 250 }],
    ['autopurge.purgeInterval=0', { autopurgePurgeIntervalMs: 0 }],
    ['admin.enableServer=false', { adminEnableServer: false }],
    ['zookeeper.admin.enableServer=false', { adminEnableServer: false }],
    ['admin.serverAddress=0.0.0.0', { adminServerAddress: '0.0.0.0' }],
    ['zookeeper.admin.serverAddress=localhost', { adminServerAddress: 'localhost' }],
    ['admin.serverPort=9090', { adminServerPort: 9090 }],
    ['zookeeper.admin.serverPort=9091', { adminServerPort: 9091 }],
    ['extendedTypesEnabled=true', { extendedTypesEnabled: true }],
    ['zookeeper.extendedTypesEnabled=TRUE', { extendedTypesEnabled: true }],
    ['syncEnabled=false', { syncEnabled: false }],
    ['zookeeper.observer.syncEnabled=false', { syncEnabled: false }],
    ['skipACL=yes', { skipACL: true }],
    ['zookeeper.skipACL=no', { skipACL: false }],
    ['DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=', { superDigest: 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=' }],
    ['zookeeper.DigestAuthenticationProvider.superDigest=super:abc=', { superDigest: 'super:abc=' }],
    ['digest.enabled=false', { digestEnabled: false }],
    ['zookeeper.digest.enabled=true', { digestEnabled: true }],
    ['tcpKeepAlive=true', { tcpKeepAlive: true }],
    ['zookeeper.tcpKeepAlive=false', { tcpKeepAlive: false }],
    ['clientTcpKeepAlive=true', { clientTcpKeepAlive: true }],
    ['zookeeper.clientTcpKeepAlive=true', { clientTcpKeepAlive: true }],
  ];
  it.each(cases)('%s', (line, expected) => {
    const cfg = cfgOf([...BASE, line]);
    expect(cfg).toMatchObject(expected);
    expect(cfg.warnings).toEqual([]);
    const key = line.slice(0, line.indexOf('='));
    expect(cfg.raw.get(key)).toBe(line.slice(line.indexOf('=') + 1));
  });

  it('4lw.commands.whitelist: a list, "*" for all, srvr always on', () => {
    expect([...cfgOf([...BASE, '4lw.commands.whitelist=stat, ruok,conf, isro']).fourLetterWhitelist].sort()).toEqual(
      ['conf', 'isro', 'ruok', 'srvr', 'stat'],
    );
    const all = cfgOf([...BASE, 'zookeeper.4lw.commands.whitelist=*']).fourLetterWhitelist;
    expect(all.has('mntr') && all.has('dump') && all.has('wchp') && all.has('cons')).toBe(true);
    expect([...cfgOf([...BASE, '4lw.commands.whitelist=']).fourLetterWhitelist]).toEqual(['srvr']);
  });

  it('4lw.commands.whitelist: a word zablab does not know is a warning with a suggestion', () => {
    const cfg = cfgOf([...BASE, '4lw.commands.whitelist=rouk,stat']);
    expect([...cfg.fourLetterWhitelist].sort()).toEqual(['srvr', 'stat']);
    expect(cfg.warnings).toEqual([
      'zoo.cfg line 3: 4lw.commands.whitelist names "rouk", which is not a four-letter word zablab knows; did you mean "ruok"?',
    ]);
  });

  it('snapCount below 2 is raised to 2 with a warning (ZooKeeper does the same)', () => {
    const cfg = cfgOf([...BASE, 'snapCount=1']);
    expect(cfg.snapCount).toBe(2);
    expect(cfg.warnings[0]).toMatch(/^zoo\.cfg line 3: snapCount must be 2 or more .*; using 2$/);
  });

  it('snapshotSizeFactor above 1 is the default with a warning (ZooKeeper does the same)', () => {
    const cfg = cfgOf([...BASE, 'snapshotSizeFactor=2']);
    expect(cfg.snapshotSizeFactor).toBe(0.33);
    expect(cfg.warnings).toEqual(['zoo.cfg line 3: snapshotSizeFactor 2 is above 1; using 0.33']);
  });

  it('autopurge.snapRetainCount below 3 is raised to 3 with a warning', () => {
    const cfg = cfgOf([...BASE, 'autopurge.snapRetainCount=1']);
    expect(cfg.autopurgeSnapRetainCount).toBe(3);
    expect(cfg.warnings).toEqual(['zoo.cfg line 3: autopurge.snapRetainCount must be at least 3; using 3']);
  });

  it('a relative dataDir is resolved against the current directory, with a warning', () => {
    const cfg = cfgOf(['dataDir=rel/data', 'clientPort=2181']);
    expect(cfg.dataDir).toBe(path.resolve('rel/data'));
    expect(cfg.warnings[0]).toMatch(/^zoo\.cfg line 1: dataDir is a relative path; it is resolved against the current directory/);
  });
});

describe('keys zablab does not implement', () => {
  it('connection throttle weights below the local session weight are raised to it, with a warning (ZooKeeper\'s rule)', () => {
    const cfg = cfgOf([...BASE, 'connection_throttle_local_session_weight=4', 'connection_throttle_renew_session_weight=3']);
    expect([cfg.connectionThrottleGlobalSessionWeight, cfg.connectionThrottleRenewSessionWeight]).toEqual([4, 4]);
    expect(cfg.warnings).toEqual([
      'zoo.cfg line 3: connection_throttle_global_session_weight (3) is less than connection_throttle_local_session_weight (4); using 4',
      'zoo.cfg line 4: connection_throttle_renew_session_weight (3) is less than connection_throttle_local_session_weight (4); using 4',
    ]);
  });

  it('the throttle names of ZooKeeper\'s guide, which ZooKeeper never reads, are ignored with a warning naming the key that works', () => {
    const cfg = cfgOf([...BASE, 'connectionMaxTokens=10', 'zookeeper.connectionTokenFillTime=5']);
    expect(cfg.connectionThrottleTokens).toBe(0);
    expect(cfg.warnings).toEqual([
      'zoo.cfg line 3: connectionMaxTokens is the name ZooKeeper\'s guide gives this setting, but ZooKeeper reads connection_throttle_tokens (zablab too); ignored, write connection_throttle_tokens=10',
      'zoo.cfg line 4: zookeeper.connectionTokenFillTime is the name ZooKeeper\'s guide gives this setting, but ZooKeeper reads connection_throttle_fill_time (zablab too); ignored, write connection_throttle_fill_time=5',
    ]);
  });

  it('a ZooKeeper key zablab ignores is accepted with a warning naming line and key', () => {
    const cfg = cfgOf([...BASE, 'maxResponseCacheSize=400', 'zookeeper.flushDelay=10', 'client.certReload=true', 'metricsProvider.httpPort=7000']);
    expect(cfg.warnings).toEqual([
      'zoo.cfg line 3: maxResponseCacheSize is a ZooKeeper setting that zablab does not implement; ignored',
      'zoo.cfg line 4: zookeeper.flushDelay is a ZooKeeper setting that zablab does not implement; ignored',
      'zoo.cfg line 5: client.certReload is a ZooKeeper setting that zablab does not implement; ignored',
      'zoo.cfg line 6: metricsProvider.httpPort is a ZooKeeper setting that zablab does not implement; ignored',
    ]);
    expect(cfg.raw.get('maxResponseCacheSize')).toBe('400');
  });

  it('an unknown key is an error with a "did you mean" suggestion', () => {
    const e = errOf([...BASE, 'tickTIme=2000']);
    expect(e.message).toBe('zoo.cfg line 3: unknown key "tickTIme"; did you mean "tickTime"?');
    expect([e.line, e.key, e.code]).toEqual([3, 'tickTIme', 'ZABLAB_CONFIG']);
    expect(errOf([...BASE, 'snapCont=5']).message).toBe('zoo.cfg line 3: unknown key "snapCont"; did you mean "snapCount"?');
    expect(errOf([...BASE, 'globalOutstandingLimt=5']).message).toContain('did you mean "globalOutstandingLimit"?');
  });

  it('zookeeper.<key> for a key ZooKeeper reads only from zoo.cfg suggests the plain key', () => {
    expect(errOf([...BASE, 'zookeeper.tickTime=2000']).message).toBe(
      'zoo.cfg line 3: unknown key "zookeeper.tickTime"; did you mean "tickTime"?',
    );
  });

  it('an unknown key far from every known key points at the administrator\'s guide', () => {
    expect(errOf([...BASE, 'frobnicateTheWidgets=1']).message).toBe(
      'zoo.cfg line 3: unknown key "frobnicateTheWidgets"; see the zoo.cfg keys in ZooKeeper\'s administrator\'s guide',
    );
  });

  it('dynamicConfigFile and hierarchical quorums are refused', () => {
    expect(errOf([...BASE, 'dynamicConfigFile=/x/zoo.cfg.dynamic']).message).toBe(
      'zoo.cfg line 3: dynamicConfigFile is not supported: zablab reads the ensemble from server.N lines in zoo.cfg; move them there and remove dynamicConfigFile',
    );
    expect(errOf([...BASE, 'group.1=1:2:3']).message).toMatch(/^zoo\.cfg line 3: group\.1 is not supported: zablab supports majority quorums only/);
    expect(errOf([...BASE, 'weight.1=2']).message).toMatch(/^zoo\.cfg line 3: weight\.1 is not supported/);
  });
});

describe('value errors name the line and key and say what is allowed', () => {
  const cases: [string, string][] = [
    ['tickTime=abc', 'zoo.cfg line 3: tickTime must be a positive integer (milliseconds), got "abc"'],
    ['tickTime=0', 'zoo.cfg line 3: tickTime must be a positive integer (milliseconds), got "0"'],
    ['tickTime=2147483648', 'zoo.cfg line 3: tickTime must be a positive integer (milliseconds), got "2147483648"'],
    ['initLimit=-1', 'zoo.cfg line 3: initLimit must be a positive integer (ticks), got "-1"'],
    ['syncLimit=1.5', 'zoo.cfg line 3: syncLimit must be a positive integer (ticks), got "1.5"'],
    ['connectToLearnerMasterLimit=x', 'zoo.cfg line 3: connectToLearnerMasterLimit must be a positive integer (ticks), got "x"'],
    ['clientPortListenBacklog=0', 'zoo.cfg line 3: clientPortListenBacklog must be an integer from 1 to 65535 (connections) or -1 for the OS default, got "0"'],
    ['electionAlg=1', 'zoo.cfg line 3: electionAlg must be 3 (Fast Leader Election over TCP, the only one ZooKeeper has), got "1"'],
    ['standaloneEnabled=yes', 'zoo.cfg line 3: standaloneEnabled must be true or false, got "yes"'],
    ['quorumListenOnAllIPs=1', 'zoo.cfg line 3: quorumListenOnAllIPs must be true or false, got "1"'],
    ['electionPortBindRetry=-2', 'zoo.cfg line 3: electionPortBindRetry must be a non-negative integer (retries; 0 = forever), got "-2"'],
    ['cnxTimeout=0', 'zoo.cfg line 3: cnxTimeout must be a positive integer (milliseconds), got "0"'],
    ['snapCount=0', 'zoo.cfg line 3: snapCount must be a positive integer (txns), got "0"'],
    ['zookeeper.snapCount=lots', 'zoo.cfg line 3: zookeeper.snapCount must be a positive integer (txns), got "lots"'],
    ['globalOutstandingLimit=0', 'zoo.cfg line 3: globalOutstandingLimit must be a positive integer (requests), got "0"'],
    ['preAllocSize=0', 'zoo.cfg line 3: preAllocSize must be an integer from 1 to 16777216 (kilobytes), got "0"'],
    ['forceSync=maybe', 'zoo.cfg line 3: forceSync must be yes or no, got "maybe"'],
    ['fsync.warningthresholdms=-1', 'zoo.cfg line 3: fsync.warningthresholdms must be a non-negative integer (milliseconds), got "-1"'],
    ['commitLogCount=0', 'zoo.cfg line 3: commitLogCount must be a positive integer (proposals), got "0"'],
    ['snapshotSizeFactor=a third', 'zoo.cfg line 3: snapshotSizeFactor must be a number (share of the snapshot size; negative = always a SNAP), got "a third"'],
    ['maxClientCnxns=-1', 'zoo.cfg line 3: maxClientCnxns must be a non-negative integer (connections per client IP; 0 = unlimited), got "-1"'],
    ['maxCnxns=many', 'zoo.cfg line 3: maxCnxns must be a non-negative integer (connections; 0 = unlimited), got "many"'],
    ['nio.sessionlessCnxnTimeout=0', 'zoo.cfg line 3: nio.sessionlessCnxnTimeout must be a positive integer (milliseconds), got "0"'],
    ['connection_throttle_tokens=-1', 'zoo.cfg line 3: connection_throttle_tokens must be a non-negative integer (sessions; 0 = off), got "-1"'],
    ['connection_throttle_fill_time=0', 'zoo.cfg line 3: connection_throttle_fill_time must be a positive integer (milliseconds), got "0"'],
    ['connection_throttle_freeze_time=-2', 'zoo.cfg line 3: connection_throttle_freeze_time must be an integer of at least -1 (milliseconds; -1 = no random dropping), got "-2"'],
    ['connection_throttle_drop_increase=2', 'zoo.cfg line 3: connection_throttle_drop_increase must be a number from 0 to 1 (probability), got "2"'],
    ['connection_throttle_drop_decrease=NaN', 'zoo.cfg line 3: connection_throttle_drop_decrease must be a number from 0 to 1 (probability), got "NaN"'],
    ['connection_throttle_weight_enabled=yes', 'zoo.cfg line 3: connection_throttle_weight_enabled must be true or false, got "yes"'],
    ['connection_throttle_global_session_weight=0', 'zoo.cfg line 3: connection_throttle_global_session_weight must be a positive integer (tokens per session), got "0"'],
    ['zablab.connection_throttle_per_ip_tokens=x', 'zoo.cfg line 3: zablab.connection_throttle_per_ip_tokens must be a non-negative integer (sessions; 0 = off), got "x"'],
    ['minSessionTimeout=0', 'zoo.cfg line 3: minSessionTimeout must be a positive integer (milliseconds) or -1 for the default, got "0"'],
    ['maxSessionTimeout=x', 'zoo.cfg line 3: maxSessionTimeout must be a positive integer (milliseconds) or -1 for the default, got "x"'],
    ['leaderServes=sometimes', 'zoo.cfg line 3: leaderServes must be yes or no, got "sometimes"'],
    ['jute.maxbuffer=0', 'zoo.cfg line 3: jute.maxbuffer must be a positive integer (bytes), got "0"'],
    ['autopurge.snapRetainCount=three', 'zoo.cfg line 3: autopurge.snapRetainCount must be an integer (snapshots), got "three"'],
    ['autopurge.purgeInterval=1w', 'zoo.cfg line 3: autopurge.purgeInterval must be a whole number of hours, or a number with a unit (ms, s, m, h, d), got "1w"'],
    ['4lw.commands.whitelist=stat', ''],
    ['admin.enableServer=on', 'zoo.cfg line 3: admin.enableServer must be true or false, got "on"'],
    ['admin.serverAddress=not a host', 'zoo.cfg line 3: admin.serverAddress must be a host name or IP address, got "not a host"'],
    ['admin.serverPort=70000', 'zoo.cfg line 3: admin.serverPort must be an integer from 1 to 65535 (TCP port), got "70000"'],
    ['extendedTypesEnabled=1', 'zoo.cfg line 3: extendedTypesEnabled must be true or false, got "1"'],
    ['syncEnabled=no', 'zoo.cfg line 3: syncEnabled must be true or false, got "no"'],
    ['skipACL=perhaps', 'zoo.cfg line 3: skipACL must be yes or no, got "perhaps"'],
    ['DigestAuthenticationProvider.superDigest=password', 'zoo.cfg line 3: DigestAuthenticationProvider.superDigest must look like super:<base64 SHA-1 digest> (DigestAuthenticationProvider\'s output for "super:<password>"), got "password"'],
    ['digest.enabled=off', 'zoo.cfg line 3: digest.enabled must be true or false, got "off"'],
    ['tcpKeepAlive=y', 'zoo.cfg line 3: tcpKeepAlive must be true or false, got "y"'],
    ['clientTcpKeepAlive=n', 'zoo.cfg line 3: clientTcpKeepAlive must be true or false, got "n"'],
    ['peerType=spectator', 'zoo.cfg line 3: peerType must be observer or participant, got "spectator"'],
    ['clientPortAddress=a b', 'zoo.cfg line 3: clientPortAddress must be a host name or IP address, got "a b"'],
  ];
  it.each(cases.filter(([, m]) => m !== ''))('%s', (line, message) => {
    const e = errOf([...BASE, line]);
    expect(e.message).toBe(message);
    expect(e.line).toBe(3);
    expect(e.key).toBe(line.slice(0, line.indexOf('=')));
  });

  it('clientPort out of range', () => {
    expect(errOf([`dataDir=${DATA}`, 'clientPort=0']).message).toBe(
      'zoo.cfg line 2: clientPort must be an integer from 1 to 65535 (TCP port), got "0"',
    );
    expect(errOf([`dataDir=${DATA}`, 'clientPort=65536']).message).toContain('got "65536"');
  });

  it('an empty dataDir', () => {
    expect(errOf(['dataDir=', 'clientPort=2181']).message).toBe('zoo.cfg line 1: dataDir must name a directory, got an empty value');
  });

  it('minSessionTimeout larger than maxSessionTimeout', () => {
    const e = errOf([...BASE, 'minSessionTimeout=5000', 'maxSessionTimeout=4000']);
    expect(e.message).toBe('zoo.cfg line 3: minSessionTimeout (5000 ms) must not be larger than maxSessionTimeout (4000 ms)');
    // An explicit min above the 20-tick default max is caught too.
    expect(errOf([...BASE, 'tickTime=100', 'minSessionTimeout=5000']).message).toBe(
      'zoo.cfg line 4: minSessionTimeout (5000 ms) must not be larger than maxSessionTimeout (2000 ms)',
    );
  });

  it('a key set twice, directly or through its zookeeper. alias', () => {
    expect(errOf([...BASE, 'tickTime=2000', 'tickTime=3000']).message).toBe(
      'zoo.cfg line 4: tickTime is already set on line 3; keep one of them',
    );
    expect(errOf([...BASE, 'zookeeper.snapCount=10', 'snapCount=20']).message).toBe(
      'zoo.cfg line 4: snapCount is already set on line 3 (as zookeeper.snapCount); keep one of them',
    );
  });

  it('missing dataDir and clientPort say what to add', () => {
    const noDir = errOf(['clientPort=2181']);
    expect(noDir.message).toBe('zoo.cfg: dataDir is not set; add dataDir=<directory for snapshots and the txn log>');
    expect([noDir.line, noDir.key]).toEqual([undefined, 'dataDir']);
    expect(errOf([`dataDir=${DATA}`]).message).toBe('zoo.cfg: clientPort is not set; add clientPort=2181 (the port clients connect to)');
    expect(errOf([`dataDir=${DATA}`, 'clientPortAddress=127.0.0.1']).message).toBe(
      'zoo.cfg line 2: clientPortAddress is set but clientPort is not; add clientPort=<port clients connect to>',
    );
  });

  it('the admin server and the client port cannot share a port', () => {
    expect(errOf([...BASE, 'admin.serverPort=2181']).message).toBe(
      'zoo.cfg line 3: admin.serverPort and clientPort are both 2181; give the HTTP admin server its own port (or admin.enableServer=false)',
    );
    expect(cfgOf([...BASE, 'admin.serverPort=2181', 'admin.enableServer=false']).adminServerPort).toBe(2181);
  });

  it('messages name the config file by its base name', () => {
    const e = (() => {
      try {
        parseConfig('tickTime=x\n', { path: path.join(DATA, 'server1.cfg') });
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error('expected an error');
    })();
    expect(e.message).toBe('server1.cfg line 1: tickTime must be a positive integer (milliseconds), got "x"');
  });
});

describe('the Java properties format', () => {
  it('comments, blank lines, = : and whitespace separators, trimming', () => {
    const cfg = parseConfig(
      [
        '# a comment',
        '! another comment',
        '',
        `   dataDir = ${DATA}   `,
        'clientPort:2181',
        'tickTime 2000',
        'initLimit\t=\t10',
      ].join('\n'),
    );
    expect([cfg.dataDir, cfg.clientPort, cfg.tickTime, cfg.initLimit]).toEqual([DATA, 2181, 2000, 10]);
  });

  it('CRLF line ends and backslash continuations; errors report the first line', () => {
    const text = `dataDir=${DATA}\r\nclientPort=21\\\r\n   81\r\n4lw.commands.whitelist=stat,\\\n  ruok\ntickTime=\\\n  x\n`;
    let err: unknown;
    try {
      parseConfig(text);
    } catch (e) {
      err = e;
    }
    expect((err as ConfigError).message).toBe('zoo.cfg line 6: tickTime must be a positive integer (milliseconds), got "x"');
    const cfg = parseConfig(text.replace('  x', '  2000'));
    expect(cfg.clientPort).toBe(2181);
    expect([...cfg.fourLetterWhitelist].sort()).toEqual(['ruok', 'srvr', 'stat']);
  });

  it('backslash escapes', () => {
    const cfg = parseConfig(`dataDir=${DATA.replace(/\\/g, '\\\\')}\nclientPort=\\u0032181\n`);
    expect(cfg.clientPort).toBe(2181);
    expect(cfg.dataDir).toBe(DATA);
  });

  it('a file over 1 MiB is refused', () => {
    expect(() => parseConfig(`# ${'x'.repeat(1024 * 1024)}\n`)).toThrow(/larger than 1048576 bytes/);
  });
});

describe('server.N lines and myid', () => {
  it('a three-server ensemble with an observer', () => {
    const cfg = cfgOf(QUORUM, '2\n');
    expect(cfg.standalone).toBe(false);
    expect(cfg.serverId).toBe(2);
    expect(cfg.peerType).toBe('participant');
    expect(cfg.servers).toEqual([
      { id: 1, host: '127.0.0.1', quorumPort: 2888, electionPort: 3888, role: 'participant' },
      { id: 2, host: '127.0.0.1', quorumPort: 2889, electionPort: 3889, role: 'participant' },
      { id: 3, host: '127.0.0.1', quorumPort: 2890, electionPort: 3890, role: 'observer' },
    ]);
    expect(cfg.warnings).toEqual(['zoo.cfg: no server failure will be tolerated with 2 participants; you need at least 3 servers']);
    expect(cfgOf(QUORUM, '3').peerType).toBe('observer');
  });

  it('the client address in a server line: port, host:port, IPv6', () => {
    const cfg = cfgOf(
      [
        `dataDir=${DATA}`,
        'initLimit=10',
        'syncLimit=5',
        'server.1=zk1:2888:3888;2181',
        'server.2=zk2:2888:3888:participant;10.0.0.2:2181',
        'server.3=[::1]:2890:3890;[::1]:2183',
        'quorum.auth.enableSasl=false',
      ],
      '2',
    );
    expect(cfg.servers[0]).toEqual({ id: 1, host: 'zk1', quorumPort: 2888, electionPort: 3888, role: 'participant', clientHost: '0.0.0.0', clientPort: 2181 });
    expect(cfg.servers[2]).toEqual({ id: 3, host: '::1', quorumPort: 2890, electionPort: 3890, role: 'participant', clientHost: '::1', clientPort: 2183 });
    // This server's client address comes from its server line.
    expect([cfg.clientPort, cfg.clientPortAddress]).toEqual([2181, '10.0.0.2']);
  });

  it('a static clientPort that contradicts the server line is an error', () => {
    const e = errOf([...BASE, 'initLimit=10', 'syncLimit=5', 'server.1=a:2888:3888;2182', 'server.2=b:2888:3888', 'server.3=c:2888:3888'], '1');
    expect(e.message).toBe('zoo.cfg line 2: clientPort says 0.0.0.0:2181, but server.1 says 0.0.0.0:2182; make them agree or drop one');
  });

  it('one participant runs standalone (with a warning) unless standaloneEnabled=false', () => {
    const single = cfgOf([...BASE, 'server.1=127.0.0.1:2888:3888']);
    expect(single.standalone).toBe(true);
    expect(single.warnings).toEqual([
      'zoo.cfg line 3: only one server is listed, so this runs standalone; set standaloneEnabled=false to run a one-server quorum',
    ]);
    const quorum = cfgOf([...BASE, 'initLimit=5', 'syncLimit=2', 'standaloneEnabled=false', 'server.1=127.0.0.1:2888:3888', 'quorum.auth.enableSasl=false'], '1');
    expect([quorum.standalone, quorum.serverId]).toEqual([false, 1]);
  });

  it('an even number of participants is a warning', () => {
    const lines = [...BASE, 'initLimit=10', 'syncLimit=5', ...[1, 2, 3, 4].map((i) => `server.${i}=h${i}:2888:3888`), 'quorum.auth.enableSasl=false'];
    expect(cfgOf(lines, '1').warnings).toEqual([
      'zoo.cfg: 4 participants tolerate no more failures than 3; consider an odd number of servers',
    ]);
  });

  it('peerType that contradicts the server list: the list wins, with a warning', () => {
    const cfg = cfgOf([...QUORUM, 'peerType=observer'], '1');
    expect(cfg.peerType).toBe('participant');
    expect(cfg.warnings).toContain('zoo.cfg line 9: peerType=observer does not match server.1 (participant); using participant from the server list');
  });

  it('myid: missing, malformed, out of range, not in the list', () => {
    expect(errOf(QUORUM).message).toBe(`${path.join(DATA, 'myid')} is missing; create it containing this server's id (one of 1, 2, 3)`);
    expect(errOf(QUORUM, 'two').message).toBe(`${path.join(DATA, 'myid')} must hold this server's id, an integer from 1 to 255, got "two"`);
    expect(errOf(QUORUM, '0').message).toContain('an integer from 1 to 255, got "0"');
    expect(errOf(QUORUM, '4').message).toBe(
      `${path.join(DATA, 'myid')} says 4, but zoo.cfg has no server.4 (servers: 1, 2, 3); fix myid or add server.4`,
    );
  });

  it('standalone reads myid when there is one', () => {
    expect(cfgOf(BASE, '7').serverId).toBe(7);
    expect(errOf(BASE, 'x').message).toContain('must hold this server\'s id');
  });

  it('a quorum needs initLimit and syncLimit', () => {
    const noInit = QUORUM.filter((l) => !l.startsWith('initLimit'));
    expect(errOf(noInit, '1').message).toBe(
      'zoo.cfg: initLimit is not set; a quorum needs it: add initLimit=10 (ticks a follower may take to connect and sync)',
    );
    const noSync = QUORUM.filter((l) => !l.startsWith('syncLimit'));
    expect(errOf(noSync, '1').message).toBe('zoo.cfg: syncLimit is not set; a quorum needs it: add syncLimit=5 (ticks a follower may fall behind)');
  });

  const serverErrors: [string, string][] = [
    ['server.0=h:2888:3888', 'zoo.cfg line 3: server.x ids must be integers from 1 to 255, got "server.0"'],
    ['server.256=h:2888:3888', 'zoo.cfg line 3: server.x ids must be integers from 1 to 255, got "server.256"'],
    ['server.x=h:2888:3888', 'zoo.cfg line 3: server.x ids must be integers from 1 to 255, got "server.x"'],
    ['server.1=h:2888', 'zoo.cfg line 3: server.1 must look like host:quorumPort:electionPort[:observer|:participant][;[clientHost:]clientPort], got "h:2888"'],
    ['server.1=h:2888:3888:observer:x', 'zoo.cfg line 3: server.1 must look like host:quorumPort:electionPort[:observer|:participant][;[clientHost:]clientPort], got "h:2888:3888:observer:x"'],
    ['server.1=h:2888:3888;a:b:c', 'zoo.cfg line 3: server.1 must look like host:quorumPort:electionPort[:observer|:participant][;[clientHost:]clientPort], got "h:2888:3888;a:b:c"'],
    ['server.1=h:28x8:3888', 'zoo.cfg line 3: server.1 quorum port must be an integer from 1 to 65535, got "28x8"'],
    ['server.1=h:2888:70000', 'zoo.cfg line 3: server.1 election port must be an integer from 1 to 65535, got "70000"'],
    ['server.1=h:2888:3888;0', 'zoo.cfg line 3: server.1 client port must be an integer from 1 to 65535, got "0"'],
    ['server.1=h:2888:2888', 'zoo.cfg line 3: server.1 quorum port and election port must differ, both are 2888'],
    ['server.1=h:2888:3888:spectator', 'zoo.cfg line 3: server.1 role must be observer or participant, got "spectator"'],
    ['server.1=a:2888:3888|b:2888:3888', 'zoo.cfg line 3: server.1 lists several addresses (|); zablab supports one address per server'],
  ];
  it.each(serverErrors)('%s', (line, message) => {
    const e = errOf([...BASE, line, 'server.2=other:2888:3888', 'server.3=third:2888:3888'], '2');
    expect(e.message).toBe(message);
    expect(e.line).toBe(3);
  });

  it('server ids above 254 are refused with extendedTypesEnabled', () => {
    expect(errOf([...BASE, 'extendedTypesEnabled=true', 'server.255=h:2888:3888']).message).toBe(
      'zoo.cfg line 4: server.x ids must be integers from 1 to 254 when extendedTypesEnabled=true, got "server.255"',
    );
  });

  it('duplicate ids and ports', () => {
    expect(errOf([...QUORUM, 'server.01=h:1:2'], '1').message).toBe(
      'zoo.cfg line 9: server.01 repeats server id 1 of server.1 (line 5); every server needs its own id',
    );
    expect(errOf([...QUORUM, 'server.1=h:1:2'], '1').message).toBe('zoo.cfg line 9: server.1 is already set on line 5; keep one of them');
    expect(errOf([...BASE, 'initLimit=1', 'syncLimit=1', 'server.1=h:2888:3888', 'server.2=h:3888:4888'], '1').message).toBe(
      'zoo.cfg line 6: server.2 uses h:3888, which server.1 (line 5) uses too; give every server its own ports',
    );
    // The same ports on different hosts are fine: that is a normal multi-host ensemble.
    const multiHost = cfgOf([...BASE, 'initLimit=1', 'syncLimit=1', ...[1, 2, 3].map((i) => `server.${i}=zk${i}:2888:3888;2181`), 'quorum.auth.enableSasl=false'], '1');
    expect(multiHost.servers.map((s) => s.host)).toEqual(['zk1', 'zk2', 'zk3']);
  });

  it('this server\'s client or admin port may not be its quorum or election port', () => {
    expect(errOf([`dataDir=${DATA}`, 'clientPort=2888', 'initLimit=1', 'syncLimit=1', ...QUORUM.slice(4)], '1').message).toBe(
      'zoo.cfg line 5: server.1 uses port 2888, which is also this server\'s clientPort; give each its own port',
    );
    expect(errOf([...QUORUM, 'admin.serverPort=3888'], '1').message).toBe(
      'zoo.cfg line 5: server.1 uses port 3888, which is also this server\'s admin.serverPort; give each its own port',
    );
  });

  it('observers need participants, and a quorum', () => {
    expect(errOf([...BASE, 'server.1=h:2888:3888:observer']).message).toBe(
      'zoo.cfg line 3: the server list has observers but no participants; at least one server.N must be a participant',
    );
    expect(errOf([...BASE, 'server.1=h:2888:3888', 'server.2=h:2889:3889:observer']).message).toBe(
      'zoo.cfg line 3: observers need a quorum, but there is one participant; add participants or set standaloneEnabled=false',
    );
    expect(errOf([...BASE, 'standaloneEnabled=false']).message).toBe(
      'zoo.cfg line 3: standaloneEnabled is false, so the server list must have at least one participant; add server.N lines',
    );
  });

  it('a third ; part in a server line is ignored with a warning', () => {
    const cfg = cfgOf([...QUORUM.slice(0, 4), 'server.1=127.0.0.1:2888:3888;2181;2281', ...QUORUM.slice(5)], '2');
    expect(cfg.servers[0]!.clientPort).toBe(2181);
    expect(cfg.warnings).toContain("zoo.cfg line 5: server.1 has a third ';' part, which ZooKeeper ignores (a TLS client port is secureClientPort=<port>); ignored");
  });
});
