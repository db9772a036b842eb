/**
 * Four-letter word formats, checked against text captured from Apache ZooKeeper 3.8.0
 * (standalone and a 2-participant + 1-observer ensemble, with one client session holding two
 * ephemerals and data watches). The ServerView here is a typed stand-in: these are formatter tests.
 */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, type ZabConfig } from '../../../src/server/config.js';
import {
  FOUR_LETTER_OUTPUT_MAX_CHARS,
  FOUR_LETTER_WORDS,
  ZK_NOT_SERVING,
  formatFullVersion,
  fourLetterWordOf,
  isFourLetterWord,
  javaDate,
  javaDouble,
  longHex,
  nodeEnvironment,
  runFourLetterWord,
  type ConnectionView,
  type LeaderStatsView,
  type ServerState,
  type ServerStatsView,
  type ServerView,
  type SessionView,
  type SyncMode,
  type ZabPhase,
} from '../../../src/server/four-letter.js';

const VERSION = '3.8.0-zablab-0.1.0, built on 2026-01-31 12:00 UTC';
const DATA = path.join(os.tmpdir(), 'zablab-4lw-test');
const SID = 0x1000007390b0000n;
const EXPIRES = Date.UTC(2026, 10, 23, 15, 45, 29); // Mon Nov 23 15:45:29 UTC 2026

class FakeView implements ServerView {
  readonly version = VERSION;
  serving = true;
  mode: ServerState = 'standalone';
  zab: { phase: ZabPhase; syncMode: SyncMode } | undefined;
  leader: LeaderStatsView | undefined;
  resets = { stats: 0, connections: 0 };
  s: ServerStatsView = {
    minLatencyMs: 0,
    avgLatencyMs: 0,
    maxLatencyMs: 0,
    packetsReceived: 2,
    packetsSent: 1,
    numAliveConnections: 1,
    outstandingRequests: 0,
    lastProcessedZxid: 0n,
    uptimeMs: 9655,
    lastClientResponseSize: -1,
    minClientResponseSize: -1,
    maxClientResponseSize: -1,
    authFailedCount: 0,
  };
  conns: ConnectionView[] = [];
  sess: SessionView[] = [];
  eph: [bigint, string[]][] = [];
  byPath: [string, bigint[]][] = [];
  bySession: [bigint, string[]][] = [];
  extra: [string, number | bigint | string][] = [];

  isServing(): boolean {
    return this.serving;
  }
  state(): ServerState {
    return this.mode;
  }
  zabState(): { phase: ZabPhase; syncMode: SyncMode } | undefined {
    return this.zab;
  }
  quorumSize(): number {
    return 2;
  }
  observerMasterId(): number {
    return 2;
  }
  leaderStats(): LeaderStatsView | undefined {
    return this.leader;
  }
  stats(): ServerStatsView {
    return this.s;
  }
  resetStats(): void {
    this.resets.stats++;
  }
  tree() {
    return { nodeCount: 5, watchCount: 0, ephemeralsCount: 0, approximateDataSize: 44 };
  }
  connections(): Iterable<ConnectionView> {
    return this.conns;
  }
  resetConnectionStats(): void {
    this.resets.connections++;
  }
  sessionCount(): number {
    return [...this.sessions()].length;
  }
  sessions(): Iterable<SessionView> {
    return this.sess;
  }
  ephemerals(): Iterable<readonly [bigint, Iterable<string>]> {
    return this.eph;
  }
  watchSummary() {
    return { connections: this.bySession.length, paths: this.byPath.length, watches: this.bySession.reduce((n, [, p]) => n + p.length, 0) };
  }
  watchesBySession(): Iterable<readonly [bigint, Iterable<string>]> {
    return this.bySession;
  }
  watchesByPath(): Iterable<readonly [string, Iterable<bigint>]> {
    return this.byPath;
  }
  dataDirSizeBytes(): number {
    return 457;
  }
  logDirSizeBytes(): number {
    return 458;
  }
  environment(): Iterable<readonly [string, string]> {
    return [
      ['zookeeper.version', VERSION],
      ['host.name', 'localhost'],
    ];
  }
  openFileDescriptorCount(): number {
    return 38;
  }
  maxFileDescriptorCount(): number {
    return 20000;
  }
  monitorValues(): Iterable<readonly [string, number | bigint | string]> {
    return this.extra;
  }
}

function conn(over: Partial<ConnectionView> = {}): ConnectionView {
  return {
    remoteAddress: '127.0.0.1',
    remotePort: 55292,
    interestOps: 1,
    outstandingRequests: 0,
    packetsReceived: 6,
    packetsSent: 6,
    sessionId: SID,
    lastOperation: 'GETC',
    establishedMs: 1795448714176,
    sessionTimeoutMs: 10000,
    lastCxid: 4,
    lastZxid: 0x100000003n,
    lastResponseMs: 483203,
    lastLatencyMs: 12,
    minLatencyMs: 0,
    avgLatencyMs: 12.6,
    maxLatencyMs: 21,
    expiresAtMs: EXPIRES + 2000,
    ...over,
  };
}

/** The 4lw connection itself: no session yet. */
const commandConn = conn({
  remotePort: 55300,
  interestOps: 0,
  packetsReceived: 1,
  packetsSent: 0,
  sessionId: 0n,
  lastOperation: 'NA',
  lastCxid: -1,
  lastZxid: -1n,
  expiresAtMs: EXPIRES - 8000,
});

const standaloneCfg = (extra: string[] = []): ZabConfig =>
  parseConfig([`dataDir=${DATA}`, 'clientPort=22181', 'tickTime=2000', '4lw.commands.whitelist=*', ...extra].join('\n'));

const quorumCfg = (myid: string): ZabConfig =>
  parseConfig(
    [
      'tickTime=2000',
      'initLimit=10',
      'syncLimit=5',
      `dataDir=${DATA}`,
      'clientPort=22281',
      '4lw.commands.whitelist=*',
      'server.1=127.0.0.1:22891:22881',
      'server.2=127.0.0.1:22892:22882',
      'server.3=127.0.0.1:22893:22883:observer',
      'quorum.auth.enableSasl=false',
    ].join('\n'),
    { readMyid: () => myid },
  );

describe('recognising a four-letter word in the first 4 bytes', () => {
  it('every implemented word, and nothing else', () => {
    for (const w of FOUR_LETTER_WORDS) {
      expect(isFourLetterWord(Buffer.from(w))).toBe(true);
      expect(fourLetterWordOf(Buffer.from(`${w}\n`))).toBe(w);
    }
    expect(isFourLetterWord(Buffer.from([0, 0, 0, 44]))).toBe(false); // a ConnectRequest's length prefix
    expect(isFourLetterWord(Buffer.from('RUOK'))).toBe(false);
    expect(isFourLetterWord(Buffer.from('gtmk'))).toBe(false); // ZooKeeper's, not implemented
    expect(isFourLetterWord(Buffer.from([0xff, 0xf4, 0xff, 0xfd]))).toBe(false); // telnet close
    expect(isFourLetterWord(Buffer.from('ruo'))).toBe(false);
  });

  it('runFourLetterWord refuses a word it does not implement', () => {
    expect(() => runFourLetterWord('gtmk', new FakeView(), standaloneCfg())).toThrow(RangeError);
  });
});

describe('4lw.commands.whitelist', () => {
  it('by default only srvr runs; others answer as ZooKeeper does', () => {
    const cfg = parseConfig(`dataDir=${DATA}\nclientPort=2181\n`);
    expect(runFourLetterWord('ruok', new FakeView(), cfg)).toBe('ruok is not executed because it is not in the whitelist.\n');
    expect(runFourLetterWord('mntr', new FakeView(), cfg)).toBe('mntr is not executed because it is not in the whitelist.\n');
    expect(runFourLetterWord('srvr', new FakeView(), cfg)).toMatch(/^Zookeeper version: /);
  });

  it('a whitelisted command runs, the rest do not', () => {
    const cfg = parseConfig(`dataDir=${DATA}\nclientPort=1\n4lw.commands.whitelist=ruok\n`);
    expect(runFourLetterWord('ruok', new FakeView(), cfg)).toBe('imok');
    expect(runFourLetterWord('stat', new FakeView(), cfg)).toBe('stat is not executed because it is not in the whitelist.\n');
  });
});

describe('srvr and stat', () => {
  it('srvr, standalone (ZooKeeper 3.8.0 text)', () => {
    expect(runFourLetterWord('srvr', new FakeView(), standaloneCfg())).toBe(
      [
        `Zookeeper version: ${VERSION}`,
        'Latency min/avg/max: 0/0.0/0',
        'Received: 2',
        'Sent: 1',
        'Connections: 1',
        'Outstanding: 0',
        'Zxid: 0x0',
        'Mode: standalone',
        'Node count: 5',
        '',
      ].join('\n'),
    );
  });

  it('srvr on a leader adds proposal sizes; averages have 4 decimals at most', () => {
    const v = new FakeView();
    v.mode = 'leader';
    v.s = { ...v.s, minLatencyMs: 4, avgLatencyMs: 76 / 7, maxLatencyMs: 21, lastProcessedZxid: 0x100000003n };
    v.leader = leaderStats();
    expect(runFourLetterWord('srvr', v, quorumCfg('2'))).toBe(
      [
        `Zookeeper version: ${VERSION}`,
        'Latency min/avg/max: 4/10.8571/21',
        'Received: 2',
        'Sent: 1',
        'Connections: 1',
        'Outstanding: 0',
        'Zxid: 0x100000003',
        'Mode: leader',
        'Node count: 5',
        'Proposal sizes last/min/max: 91/48/91',
        '',
      ].join('\n'),
    );
  });

  it('stat lists clients briefly, one per line, then an empty line', () => {
    const v = new FakeView();
    v.mode = 'follower';
    v.conns = [conn(), commandConn];
    v.s = { ...v.s, minLatencyMs: 4, avgLatencyMs: 12.5, maxLatencyMs: 21, packetsReceived: 8, packetsSent: 7, numAliveConnections: 2, lastProcessedZxid: 0x100000003n };
    expect(runFourLetterWord('stat', v, quorumCfg('1'))).toBe(
      [
        `Zookeeper version: ${VERSION}`,
        'Clients:',
        ' /127.0.0.1:55292[1](queued=0,recved=6,sent=6)',
        ' /127.0.0.1:55300[0](queued=0,recved=1,sent=0)',
        '',
        'Latency min/avg/max: 4/12.5/21',
        'Received: 8',
        'Sent: 7',
        'Connections: 2',
        'Outstanding: 0',
        'Zxid: 0x100000003',
        'Mode: follower',
        'Node count: 5',
        '',
      ].join('\n'),
    );
  });
});

describe('cons and crst', () => {
  it('cons: full details for sessions, brief for connections without one (ZooKeeper 3.8.0 text)', () => {
    const v = new FakeView();
    v.conns = [conn({ remotePort: 55312, interestOps: 0, packetsReceived: 1, packetsSent: 0, sessionId: 0n }), conn()];
    expect(runFourLetterWord('cons', v, standaloneCfg())).toBe(
      ' /127.0.0.1:55312[0](queued=0,recved=1,sent=0)\n' +
        ' /127.0.0.1:55292[1](queued=0,recved=6,sent=6,sid=0x1000007390b0000,lop=GETC,est=1795448714176,to=10000,lcxid=0x4,lzxid=0x100000003,lresp=483203,llat=12,minlat=0,avglat=12,maxlat=21)\n' +
        '\n',
    );
  });

  it('cons: no lcxid before the first request, lzxid -1 as Java prints it, IPv4-mapped addresses as IPv4, hex interest ops', () => {
    const v = new FakeView();
    v.conns = [conn({ remoteAddress: '::ffff:10.1.2.3', interestOps: 5, lastCxid: -1, lastZxid: -1n, lastOperation: 'NA' })];
    expect(runFourLetterWord('cons', v, standaloneCfg())).toBe(
      ' /10.1.2.3:55292[5](queued=0,recved=6,sent=6,sid=0x1000007390b0000,lop=NA,est=1795448714176,to=10000,lzxid=0xffffffffffffffff,lresp=483203,llat=12,minlat=0,avglat=12,maxlat=21)\n\n',
    );
  });

  it('cons with no connections is one empty line', () => {
    expect(runFourLetterWord('cons', new FakeView(), standaloneCfg())).toBe('\n');
  });

  it('crst and srst reset through the view', () => {
    const v = new FakeView();
    expect(runFourLetterWord('crst', v, standaloneCfg())).toBe('Connection stats reset.\n');
    expect(runFourLetterWord('srst', v, standaloneCfg())).toBe('Server stats reset.\n');
    expect(v.resets).toEqual({ stats: 1, connections: 1 });
  });
});

describe('conf', () => {
  it('shows secureClientPort when one is set', () => {
    const cfg = { ...standaloneCfg(), secureClientPort: 22281 };
    expect(runFourLetterWord('conf', new FakeView(), cfg).split('\n').slice(0, 2)).toEqual(['clientPort=22181', 'secureClientPort=22281']);
  });

  it('standalone (ZooKeeper 3.8.0 text)', () => {
    expect(runFourLetterWord('conf', new FakeView(), standaloneCfg())).toBe(
      [
        'clientPort=22181',
        'secureClientPort=-1',
        `dataDir=${path.join(DATA, 'version-2')}`,
        'dataDirSize=457',
        `dataLogDir=${path.join(DATA, 'version-2')}`,
        'dataLogSize=458',
        'tickTime=2000',
        'maxClientCnxns=60',
        'minSessionTimeout=4000',
        'maxSessionTimeout=40000',
        'clientPortListenBacklog=-1',
        'serverId=0',
        '',
      ].join('\n'),
    );
  });

  it('a quorum member adds limits, ports, peer type and membership; "version=0" ends without a newline', () => {
    const v = new FakeView();
    v.mode = 'observer';
    expect(runFourLetterWord('conf', v, quorumCfg('3'))).toBe(
      [
        'clientPort=22281',
        'secureClientPort=-1',
        `dataDir=${path.join(DATA, 'version-2')}`,
        'dataDirSize=457',
        `dataLogDir=${path.join(DATA, 'version-2')}`,
        'dataLogSize=458',
        'tickTime=2000',
        'maxClientCnxns=60',
        'minSessionTimeout=4000',
        'maxSessionTimeout=40000',
        'clientPortListenBacklog=-1',
        'serverId=3',
        'initLimit=10',
        'syncLimit=5',
        'electionAlg=3',
        'electionPort=22883',
        'quorumPort=22893',
        'peerType=1',
        'membership: ',
        'server.1=127.0.0.1:22891:22881:participant',
        'server.2=127.0.0.1:22892:22882:participant',
        'server.3=127.0.0.1:22893:22883:observer',
        'version=0',
      ].join('\n'),
    );
  });
});

describe('dump', () => {
  function withSession(v: FakeView): FakeView {
    v.sess = [{ sessionId: SID, timeoutMs: 10000, expiresAtMs: EXPIRES }];
    v.eph = [[SID, ['/eph2', '/eph1']]];
    v.conns = [commandConn, conn()];
    return v;
  }

  it('standalone or leader: sessions grouped by expiry time (ZooKeeper 3.8.0 text)', () => {
    const v = withSession(new FakeView());
    v.mode = 'leader';
    expect(runFourLetterWord('dump', v, quorumCfg('2'))).toBe(
      [
        'SessionTracker dump:',
        'Session Sets (1)/(1):',
        '1 expire at Mon Nov 23 15:45:29 UTC 2026:',
        '\t0x1000007390b0000',
        'ephemeral nodes dump:',
        'Sessions with Ephemerals (1):',
        '0x1000007390b0000:',
        '\t/eph2',
        '\t/eph1',
        'Connections dump:',
        'Connections Sets (2)/(2):',
        '1 expire at Mon Nov 23 15:45:21 UTC 2026:',
        '\tip: /127.0.0.1:55300 sessionId: 0x0',
        '1 expire at Mon Nov 23 15:45:31 UTC 2026:',
        '\tip: /127.0.0.1:55292 sessionId: 0x1000007390b0000',
        '',
      ].join('\n'),
    );
  });

  it('a learner lists global sessions with their timeouts', () => {
    const v = withSession(new FakeView());
    v.mode = 'follower';
    v.sess.push({ sessionId: 5n, timeoutMs: 4000, expiresAtMs: 0 });
    expect(runFourLetterWord('dump', v, quorumCfg('1'))).toMatch(
      /^SessionTracker dump:\nGlobal Sessions\(2\):\n0x5\t4000ms\n0x1000007390b0000\t10000ms\nephemeral nodes dump:\n/,
    );
  });

  it('nothing to dump', () => {
    expect(runFourLetterWord('dump', new FakeView(), standaloneCfg())).toBe(
      'SessionTracker dump:\nSession Sets (0)/(0):\nephemeral nodes dump:\nSessions with Ephemerals (0):\nConnections dump:\nConnections Sets (0)/(0):\n',
    );
  });
});

describe('watches', () => {
  function watching(): FakeView {
    const v = new FakeView();
    v.bySession = [[SID, ['/eph1', '/nothere']]];
    v.byPath = [
      ['/eph1', [SID]],
      ['/nothere', [SID]],
    ];
    return v;
  }

  it('wchs (ZooKeeper 3.8.0 text)', () => {
    expect(runFourLetterWord('wchs', watching(), standaloneCfg())).toBe('1 connections watching 2 paths\nTotal watches:2\n');
    expect(runFourLetterWord('wchs', new FakeView(), standaloneCfg())).toBe('0 connections watching 0 paths\nTotal watches:0\n');
  });

  it('wchc (ZooKeeper 3.8.0 text)', () => {
    expect(runFourLetterWord('wchc', watching(), standaloneCfg())).toBe('0x1000007390b0000\n\t/eph1\n\t/nothere\n\n');
    expect(runFourLetterWord('wchc', new FakeView(), standaloneCfg())).toBe('\n');
  });

  it('wchp (ZooKeeper 3.8.0 text)', () => {
    expect(runFourLetterWord('wchp', watching(), standaloneCfg())).toBe('/eph1\n\t0x1000007390b0000\n/nothere\n\t0x1000007390b0000\n\n');
    expect(runFourLetterWord('wchp', new FakeView(), standaloneCfg())).toBe('\n');
  });

  it('a huge watch table is cut at the output limit, without reading all of it', () => {
    let produced = 0;
    const v = new FakeView();
    const line = `/${'x'.repeat(1023)}`;
    v.watchesByPath = function* () {
      for (;;) {
        produced++;
        yield [line, [SID]] as const;
      }
    };
    const out = runFourLetterWord('wchp', v, standaloneCfg());
    expect(out.length).toBeLessThan(FOUR_LETTER_OUTPUT_MAX_CHARS + 100);
    expect(out.endsWith(`\n(output truncated at ${FOUR_LETTER_OUTPUT_MAX_CHARS} characters)\n`)).toBe(true);
    expect(produced).toBeLessThan(FOUR_LETTER_OUTPUT_MAX_CHARS / 1000);
  });
});

describe('ruok, isro, dirs, envi', () => {
  it('ruok answers imok without a newline', () => {
    expect(runFourLetterWord('ruok', new FakeView(), standaloneCfg())).toBe('imok');
  });

  it('isro: rw while serving, null when not', () => {
    const v = new FakeView();
    expect(runFourLetterWord('isro', v, standaloneCfg())).toBe('rw');
    v.serving = false;
    expect(runFourLetterWord('isro', v, standaloneCfg())).toBe('null');
  });

  it('dirs', () => {
    expect(runFourLetterWord('dirs', new FakeView(), standaloneCfg())).toBe('datadir_size: 457\nlogdir_size: 458\n');
  });

  it('envi lists key=value lines under "Environment:"', () => {
    expect(runFourLetterWord('envi', new FakeView(), standaloneCfg())).toBe(`Environment:\nzookeeper.version=${VERSION}\nhost.name=localhost\n`);
  });

  it('nodeEnvironment follows ZooKeeper\'s names and shapes', () => {
    const env = new Map(nodeEnvironment(VERSION));
    expect([...env.keys()].slice(0, 2)).toEqual(['zookeeper.version', 'host.name']);
    expect(env.get('zookeeper.version')).toBe(VERSION);
    expect(env.get('host.name')).toBe(os.hostname());
    expect(env.get('node.version')).toBe(process.version);
    expect(env.get('user.dir')).toBe(process.cwd());
    for (const k of ['os.memory.free', 'os.memory.max', 'os.memory.total']) expect(env.get(k)).toMatch(/^\d+MB$/);
  });
});

describe('mntr', () => {
  function lines(out: string): [string, string][] {
    expect(out.endsWith('\n')).toBe(true);
    return out
      .slice(0, -1)
      .split('\n')
      .map((l) => {
        const parts = l.split('\t');
        expect(parts).toHaveLength(2);
        return [parts[0]!, parts[1]!];
      });
  }

  it('standalone: tab-separated zk_* lines, version and state first', () => {
    expect(runFourLetterWord('mntr', new FakeView(), standaloneCfg())).toBe(
      [
        `zk_version\t${VERSION}`,
        'zk_server_state\tstandalone',
        'zk_avg_latency\t0.0',
        'zk_max_latency\t0',
        'zk_min_latency\t0',
        'zk_packets_received\t2',
        'zk_packets_sent\t1',
        'zk_num_alive_connections\t1',
        'zk_outstanding_requests\t0',
        'zk_znode_count\t5',
        'zk_watch_count\t0',
        'zk_ephemerals_count\t0',
        'zk_approximate_data_size\t44',
        'zk_open_file_descriptor_count\t38',
        'zk_max_file_descriptor_count\t20000',
        'zk_uptime\t9655',
        'zk_global_sessions\t0',
        'zk_local_sessions\t0',
        'zk_last_client_response_size\t-1',
        'zk_max_client_response_size\t-1',
        'zk_min_client_response_size\t-1',
        '',
      ].join('\n'),
    );
  });

  it('leader: peer state, quorum size and the learner gauges', () => {
    const v = new FakeView();
    v.mode = 'leader';
    v.zab = { phase: 'broadcast', syncMode: 'none' };
    v.leader = leaderStats();
    v.extra = [
      ['proposal_count', 4],
      ['avg_fsynctime', 0.25],
      ['last_zxid', 0x100000003n],
    ];
    const kv = lines(runFourLetterWord('mntr', v, quorumCfg('2')));
    expect(kv.slice(0, 3)).toEqual([
      ['zk_version', VERSION],
      ['zk_server_state', 'leader'],
      ['zk_peer_state', 'leading - broadcast'],
    ]);
    expect(kv.slice(-13)).toEqual([
      ['zk_quorum_size', '2'],
      ['zk_learners', '2'],
      ['zk_synced_followers', '1'],
      ['zk_synced_non_voting_followers', '0'],
      ['zk_synced_observers', '1'],
      ['zk_pending_syncs', '0'],
      ['zk_leader_uptime', '27208'],
      ['zk_last_proposal_size', '91'],
      ['zk_max_proposal_size', '91'],
      ['zk_min_proposal_size', '48'],
      ['zk_proposal_count', '4'],
      ['zk_avg_fsynctime', '0.25'],
      ['zk_last_zxid', '4294967299'],
    ]);
    expect(kv.map(([k]) => k)).not.toContain('zk_observer_master_id');
  });

  it('follower syncing, observer with its master', () => {
    const f = new FakeView();
    f.mode = 'follower';
    f.zab = { phase: 'synchronization', syncMode: 'diff' };
    expect(lines(runFourLetterWord('mntr', f, quorumCfg('1')))[2]).toEqual(['zk_peer_state', 'following - synchronization - diff']);
    const o = new FakeView();
    o.mode = 'observer';
    o.zab = { phase: 'broadcast', syncMode: 'none' };
    const kv = lines(runFourLetterWord('mntr', o, quorumCfg('3')));
    expect(kv.slice(1, 4)).toEqual([
      ['zk_server_state', 'observer'],
      ['zk_peer_state', 'observing - broadcast'],
      ['zk_observer_master_id', '2'],
    ]);
    expect(kv.map(([k]) => k)).not.toContain('zk_learners');
  });
});

describe('while not serving', () => {
  it('most words say so; ruok, envi and isro still answer', () => {
    const v = new FakeView();
    v.serving = false;
    const cfg = standaloneCfg();
    for (const w of ['conf', 'cons', 'crst', 'dirs', 'dump', 'mntr', 'srst', 'srvr', 'stat', 'wchc', 'wchp', 'wchs']) {
      expect(runFourLetterWord(w, v, cfg)).toBe(`${ZK_NOT_SERVING}\n`);
    }
    expect(v.resets).toEqual({ stats: 0, connections: 0 });
    expect(runFourLetterWord('ruok', v, cfg)).toBe('imok');
    expect(runFourLetterWord('envi', v, cfg)).toMatch(/^Environment:\n/);
  });
});

describe('Java-compatible formatting', () => {
  it('javaDouble: Double.toString of a value rounded to 4 decimals', () => {
    expect(javaDouble(0)).toBe('0.0');
    expect(javaDouble(12)).toBe('12.0');
    expect(javaDouble(12.5)).toBe('12.5');
    expect(javaDouble(76 / 7)).toBe('10.8571');
    expect(javaDouble(0.00004)).toBe('0.0');
    expect(javaDouble(0.0005)).toBe('5.0E-4');
    expect(javaDouble(12_345_678)).toBe('1.2345678E7');
  });

  it('longHex: Long.toHexString', () => {
    expect(longHex(0n)).toBe('0');
    expect(longHex(-1n)).toBe('ffffffffffffffff');
    expect(longHex(-0x7f00000000000000n)).toBe('8100000000000000');
    expect(longHex(SID)).toBe('1000007390b0000');
  });

  it('javaDate: Date.toString in UTC', () => {
    expect(javaDate(EXPIRES)).toBe('Mon Nov 23 15:45:29 UTC 2026');
    expect(javaDate(Date.UTC(2024, 0, 5, 3, 4, 5))).toBe('Fri Jan 05 03:04:05 UTC 2024');
  });

  it('formatFullVersion has ZooKeeper\'s shape', () => {
    expect(formatFullVersion('0.1.0', new Date(Date.UTC(2026, 0, 31, 12, 0, 59)))).toBe(VERSION);
  });
});

function leaderStats(): LeaderStatsView {
  return {
    learners: 2,
    syncedFollowers: 1,
    syncedNonVotingFollowers: 0,
    syncedObservers: 1,
    pendingSyncs: 0,
    leaderUptimeMs: 27208,
    lastProposalSize: 91,
    minProposalSize: 48,
    maxProposalSize: 91,
  };
}
