import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, renderConfig, type ZabConfig } from '../../../src/server/config.js';

/** The settings of a config: everything but what describes the parse itself. */
function settings(cfg: ZabConfig): Record<string, unknown> {
  const { raw: _raw, lines: _lines, warnings: _warnings, configPath: _configPath, ...rest } = cfg;
  return rest;
}

describe('renderConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-cfg-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips a parsed standalone config with every setting changed from its default', () => {
    const text = [
      `dataDir=${path.join(dir, 'data')}`,
      `dataLogDir=${path.join(dir, 'log')}`,
      'clientPort=12181',
      'clientPortAddress=127.0.0.1',
      'clientPortListenBacklog=100',
      'tickTime=500',
      'initLimit=4',
      'syncLimit=3',
      'connectToLearnerMasterLimit=2',
      'quorumListenOnAllIPs=true',
      'electionPortBindRetry=9',
      'cnxTimeout=1234',
      'snapCount=5000',
      'globalOutstandingLimit=77',
      'preAllocSize=4096',
      'forceSync=no',
      'fsync.warningthresholdms=20',
      'commitLogCount=600',
      'snapshotSizeFactor=0.25',
      'maxClientCnxns=10',
      'maxCnxns=99',
      'nio.sessionlessCnxnTimeout=2500',
      'connection_throttle_tokens=40',
      'connection_throttle_fill_time=250',
      'connection_throttle_fill_count=3',
      'connection_throttle_freeze_time=100',
      'connection_throttle_drop_increase=0.1',
      'connection_throttle_drop_decrease=0.01',
      'connection_throttle_decrease_ratio=0.25',
      'connection_throttle_weight_enabled=true',
      'connection_throttle_global_session_weight=4',
      'connection_throttle_local_session_weight=2',
      'connection_throttle_renew_session_weight=3',
      'zablab.connection_throttle_per_ip_tokens=7',
      'zablab.connection_throttle_per_ip_fill_time=2000',
      'zablab.connection_throttle_per_ip_fill_count=2',
      'minSessionTimeout=1000',
      'maxSessionTimeout=9000',
      'leaderServes=no',
      'jute.maxbuffer=2000000',
      'autopurge.snapRetainCount=4',
      'autopurge.purgeInterval=30m',
      '4lw.commands.whitelist=ruok,mntr',
      'admin.enableServer=false',
      'admin.serverAddress=0.0.0.0',
      'admin.serverPort=18080',
      'admin.auth.enabled=false',
      'admin.allowedHosts=zk1.example.com,10.0.0.7',
      'extendedTypesEnabled=true',
      'syncEnabled=false',
      'skipACL=yes',
      'DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=',
      'digest.enabled=false',
      'tcpKeepAlive=true',
      'clientTcpKeepAlive=true',
    ].join('\n');
    const cfg = parseConfig(text);
    expect(cfg.warnings).toEqual([]);
    const again = parseConfig(renderConfig(cfg));
    expect(settings(again)).toEqual(settings(cfg));
    expect(again.warnings).toEqual([]);
  });

  it('round-trips an ensemble (server lines, client addresses, roles)', () => {
    const dataDir = path.join(dir, 'data');
    const text = [
      `dataDir=${dataDir}`,
      'initLimit=10',
      'syncLimit=5',
      'server.1=127.0.0.1:2888:3888;127.0.0.1:2181',
      'server.2=127.0.0.1:2889:3889;2182',
      'server.3=127.0.0.1:2890:3890',
      'server.4=[::1]:2891:3891:observer;[::1]:2184',
      'quorum.auth.enableSasl=false',
    ].join('\n');
    const readMyid = (): string => '2';
    const cfg = parseConfig(text, { readMyid });
    const rendered = renderConfig(cfg);
    expect(rendered).toContain('server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n');
    expect(rendered).toContain('server.4=[::1]:2891:3891:observer;[::1]:2184\n');
    expect(settings(parseConfig(rendered, { readMyid }))).toEqual(settings(cfg));
  });

  it('writes zoo.cfg keys given as strings verbatim, in order; ZabConfig fields by their keys', () => {
    const text = renderConfig({
      tickTime: '2000',
      dataDir: '/var/lib/zablab',
      'server.1': '127.0.0.1:2888:3888',
      'autopurge.purgeInterval': '1',
      maxResponseCacheSize: '0',
    });
    expect(text).toBe(
      '# zoo.cfg written by zablab\ntickTime=2000\ndataDir=/var/lib/zablab\nserver.1=127.0.0.1:2888:3888\nautopurge.purgeInterval=1\nmaxResponseCacheSize=0\n',
    );
    expect(renderConfig({ preAllocSizeBytes: 1024 * 1024, skipACL: true, cnxTimeoutMs: 10, superDigest: 'super:x=' })).toBe(
      '# zoo.cfg written by zablab\npreAllocSize=1024\nskipACL=yes\ncnxTimeout=10\nDigestAuthenticationProvider.superDigest=super:x=\n',
    );
  });

  it('skips derived fields and escapes backslashes', () => {
    expect(renderConfig({ serverId: 3, standalone: true, dataDir: 'C:\\zk\\data' })).toBe(
      '# zoo.cfg written by zablab\ndataDir=C:\\\\zk\\\\data\n',
    );
    expect(parseConfig(renderConfig({ dataDir: path.join(dir, 'a\\b'), clientPort: 1 })).dataDir).toBe(path.join(dir, 'a\\b'));
  });

  it('refuses unknown keys and line breaks', () => {
    expect(() => renderConfig({ tikTime: '1' })).toThrow(ConfigError);
    expect(() => renderConfig({ tikTime: '1' })).toThrow('renderConfig: "tikTime" is neither a ZabConfig field nor a zoo.cfg key with a string value');
    expect(() => renderConfig({ dataDir: 'a\nclientPort=1' })).toThrow('renderConfig: the value of dataDir contains a line break');
    expect(() => renderConfig({ cnxTimeoutMs: 5, cnxTimeout: '6' })).toThrow('renderConfig: cnxTimeout is given twice');
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-cfg-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function write(name: string, text: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  }

  it('reads the file and dataDir/myid', () => {
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, 'myid'), '3\n');
    const file = write(
      'zoo.cfg',
      renderConfig({
        dataDir,
        clientPort: 2181,
        initLimit: 5,
        syncLimit: 2,
        'server.1': '127.0.0.1:2888:3888',
        'server.2': '127.0.0.1:2889:3889',
        'server.3': '127.0.0.1:2890:3890',
        'quorum.auth.enableSasl': 'false',
      }),
    );
    const cfg = loadConfig(file);
    expect([cfg.serverId, cfg.standalone, cfg.configPath, cfg.servers.length]).toEqual([3, false, file, 3]);
  });

  it('standalone without myid is server 0', () => {
    const file = write('zoo.cfg', `dataDir=${path.join(dir, 'none')}\nclientPort=2181\n`);
    expect(loadConfig(file).serverId).toBe(0);
  });

  it('a quorum member without myid is told to create it', () => {
    const dataDir = path.join(dir, 'data');
    const file = write('zk.cfg', renderConfig({ dataDir, clientPort: 2181, initLimit: 5, syncLimit: 2, 'server.1': 'a:1:2', 'server.2': 'b:1:2', 'server.3': 'c:1:2' }));
    expect(() => loadConfig(file)).toThrow(`${path.join(dataDir, 'myid')} is missing; create it containing this server's id (one of 1, 2, 3)`);
  });

  it('only the first line of myid counts, as in ZooKeeper', () => {
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, 'myid'), '2\ngarbage\n');
    const file = write('zoo.cfg', `dataDir=${dataDir}\nclientPort=2181\n`);
    expect(loadConfig(file).serverId).toBe(2);
  });

  it('a missing or oversized file is a ConfigError that says what to do', () => {
    const missing = path.join(dir, 'nope.cfg');
    expect(() => loadConfig(missing)).toThrow(`cannot read config file ${missing} (ENOENT); pass the path of an existing zoo.cfg`);
    const big = write('big.cfg', '#'.repeat(1024 * 1024 + 1));
    expect(() => loadConfig(big)).toThrow(`${big} is 1048577 bytes; a zoo.cfg is at most 1048576 bytes`);
  });

  it('errors name the file by its base name and the line', () => {
    const file = write('server7.cfg', `dataDir=${dir}\nclientPort=2181\ntickTime=fast\n`);
    expect(() => loadConfig(file)).toThrow('server7.cfg line 3: tickTime must be a positive integer (milliseconds), got "fast"');
  });
});
