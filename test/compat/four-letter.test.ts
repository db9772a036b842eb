/**
 * Four-letter words on the client port, against Apache ZooKeeper and against zablab with the
 * same `4lw.commands.whitelist`: what monitoring scripts and zkCli users parse.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatLegs, type ServerHandle } from './legs.js';
import { fourLetterWord } from './four-letter-word.js';
import { connectZk, nzk, type ZkSession } from './nzk.js';

const WHITELIST = ['ruok', 'srvr', 'stat', 'mntr', 'conf', 'cons', 'envi', 'wchs', 'isro', 'dirs'];
const CONFIG = { '4lw.commands.whitelist': WHITELIST.join(',') };
const SESSION_TIMEOUT_MS = 10_000;

/** `Key: value` lines (srvr, stat) into a map; lines without ': ' are skipped. */
function colonPairs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0 && !line.startsWith(' ')) out.set(line.slice(0, i), line.slice(i + 2));
  }
  return out;
}

/** `key<sep>value` lines into a map. */
function pairs(text: string, sep: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(sep);
    if (i > 0) out.set(line.slice(0, i), line.slice(i + sep.length));
  }
  return out;
}

const SRVR_KEYS = ['Zookeeper version', 'Latency min/avg/max', 'Received', 'Sent', 'Connections', 'Outstanding', 'Zxid', 'Mode', 'Node count'];

function expectServerSummary(p: Map<string, string>): void {
  for (const k of SRVR_KEYS) expect(p.has(k), `key '${k}'`).toBe(true);
  expect(p.get('Latency min/avg/max')).toMatch(/^\d+\/\d+(\.\d+)?\/\d+$/);
  for (const k of ['Received', 'Sent', 'Connections', 'Outstanding', 'Node count']) expect(p.get(k)).toMatch(/^\d+$/);
  expect(p.get('Zxid')).toMatch(/^0x[0-9a-f]+$/);
  expect(p.get('Mode')).toBe('standalone');
  expect(Number(p.get('Connections'))).toBeGreaterThanOrEqual(1);
}

/** The mntr keys that ZooKeeper has always had (3.4 on); dashboards and scripts rely on them. */
const MNTR_NUMERIC_KEYS = [
  'zk_avg_latency',
  'zk_max_latency',
  'zk_min_latency',
  'zk_packets_received',
  'zk_packets_sent',
  'zk_num_alive_connections',
  'zk_outstanding_requests',
  'zk_znode_count',
  'zk_watch_count',
  'zk_ephemerals_count',
  'zk_approximate_data_size',
  'zk_open_file_descriptor_count',
  'zk_max_file_descriptor_count',
  'zk_uptime',
  'zk_global_sessions',
];

const CONS_FIELDS = ['queued', 'recved', 'sent', 'sid', 'lop', 'est', 'to', 'lcxid', 'lzxid', 'lresp', 'llat', 'minlat', 'avglat', 'maxlat'];

function fourLetterSuite(start: () => Promise<ServerHandle>): void {
  let server: ServerHandle;
  let client: ZkSession;
  const ask = (word: string): Promise<string> => fourLetterWord(server.host, server.port, word);

  beforeAll(async () => {
    server = await start();
    client = await connectZk(server.connectString, { sessionTimeoutMs: SESSION_TIMEOUT_MS });
    await client.create('/flw', Buffer.from('four letters'));
    await client.create('/flw/eph', null, { mode: nzk.CreateMode.EPHEMERAL });
    // Two data watches on two paths (exists on a missing node is a data watch too).
    await client.getData('/flw', () => undefined);
    await client.exists('/flw/missing', () => undefined);
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('ruok → imok', async () => {
    expect(await ask('ruok')).toBe('imok');
  });

  it('srvr: the server summary', async () => {
    expectServerSummary(colonPairs(await ask('srvr')));
  });

  it('stat: the summary plus one line per client connection', async () => {
    const text = await ask('stat');
    expect(text.split('\n')[0]).toMatch(/^Zookeeper version: /);
    expect(text.split('\n')[1]).toBe('Clients:');
    expectServerSummary(colonPairs(text));
    const localPort = client.raw.connectionManager.socket?.localPort;
    const clientLines = text.split('\n').filter((l) => l.startsWith(' /'));
    for (const l of clientLines) expect(l).toMatch(/^ \/127\.0\.0\.1:\d+\[[0-9a-f]+\]\(queued=\d+,recved=\d+,sent=\d+\)$/);
    expect(clientLines.some((l) => l.startsWith(` /127.0.0.1:${localPort}[`))).toBe(true);
  });

  it('mntr: tab-separated metrics with ZooKeeper names, agreeing with srvr', async () => {
    const m = pairs(await ask('mntr'), '\t');
    expect(m.get('zk_server_state')).toBe('standalone');
    expect(m.get('zk_version')).toBeTruthy();
    for (const k of MNTR_NUMERIC_KEYS) {
      expect(m.has(k), `key '${k}'`).toBe(true);
      expect(Number.isFinite(Number(m.get(k))), `${k}=${m.get(k)}`).toBe(true);
    }
    for (const [k, v] of m) {
      if (k !== 'zk_version' && k !== 'zk_server_state') expect(Number.isFinite(Number(v)), `${k}=${v}`).toBe(true);
    }
    expect(Number(m.get('zk_ephemerals_count'))).toBe(1);
    expect(Number(m.get('zk_watch_count'))).toBe(2);
    expect(Number(m.get('zk_num_alive_connections'))).toBeGreaterThanOrEqual(1);
    const srvr = colonPairs(await ask('srvr'));
    expect(m.get('zk_znode_count')).toBe(srvr.get('Node count'));
  });

  it('mntr: the open descriptor count follows the sockets the server holds (zablab lists them at most a second late)', async () => {
    const count = async (): Promise<number> => Number(pairs(await ask('mntr'), '\t').get('zk_open_file_descriptor_count'));
    const before = await count();
    const sockets = await Promise.all(
      Array.from({ length: 20 }, () => new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: server.host, port: server.port }, () => resolve(s));
        s.on('error', reject);
      })),
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 1300));
      await count(); // the listing that this one starts answers the next
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await count()).toBeGreaterThanOrEqual(before + 20);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  it('conf: the configuration in force', async () => {
    const c = pairs(await ask('conf'), '=');
    expect(c.get('clientPort')).toBe(String(server.port));
    expect(c.get('tickTime')).toBe('2000');
    // Defaults follow tickTime: 2 and 20 ticks.
    expect(c.get('minSessionTimeout')).toBe('4000');
    expect(c.get('maxSessionTimeout')).toBe('40000');
    expect(c.get('serverId')).toBe('0');
    for (const k of ['dataDir', 'dataLogDir', 'maxClientCnxns']) expect(c.has(k), `key '${k}'`).toBe(true);
    expect(c.get('dataDir')?.startsWith(server.dataDir)).toBe(true);
  });

  it('cons: full connection details, with our session id and negotiated timeout', async () => {
    const text = await ask('cons');
    const localPort = client.raw.connectionManager.socket?.localPort;
    const line = text.split('\n').find((l) => l.startsWith(` /127.0.0.1:${localPort}[`));
    expect(line, text).toBeDefined();
    const m = /^ \/127\.0\.0\.1:\d+\[[0-9a-f]+\]\((.*)\)$/.exec(line!);
    expect(m).not.toBeNull();
    const fields = new Map(m![1]!.split(',').map((kv) => kv.split('=') as [string, string]));
    expect([...fields.keys()]).toEqual(CONS_FIELDS);
    expect(fields.get('sid')).toBe(`0x${client.sessionId.toString(16)}`);
    expect(fields.get('to')).toBe(String(client.sessionTimeoutMs));
    expect(fields.get('lop')).toMatch(/^[A-Z]{4}$/);
    expect(Math.abs(Number(fields.get('est')) - Date.now())).toBeLessThan(3600_000);
    expect(fields.get('lzxid')).toMatch(/^0x[0-9a-f]+$/);
    // The connection asking is listed too, in the brief form of a connection without a session.
    expect(text).toMatch(/^ \/127\.0\.0\.1:\d+\[[0-9a-f]+\]\(queued=\d+,recved=\d+,sent=\d+\)$/m);
  });

  it('envi: the environment', async () => {
    const text = await ask('envi');
    expect(text.split('\n')[0]).toBe('Environment:');
    const e = pairs(text, '=');
    for (const k of ['zookeeper.version', 'host.name', 'os.name', 'os.arch', 'os.version', 'user.name', 'user.home', 'user.dir']) {
      expect(e.get(k), `key '${k}'`).toBeTruthy();
    }
  });

  it('wchs: watch summary', async () => {
    expect(await ask('wchs')).toBe('1 connections watching 2 paths\nTotal watches:2\n');
  });

  it('isro: rw for a server that accepts writes', async () => {
    expect(await ask('isro')).toBe('rw');
  });

  it('dirs: sizes of the data and log dirs', async () => {
    const text = await ask('dirs');
    expect(text).toMatch(/^datadir_size: \d+\nlogdir_size: \d+\n$/);
    expect(Number(/logdir_size: (\d+)/.exec(text)?.[1])).toBeGreaterThan(0);
  });

  it('refuses a command that is not whitelisted, and drops an unknown word', async () => {
    expect(await ask('dump')).toBe('dump is not executed because it is not in the whitelist.\n');
    expect(await ask('crst')).toBe('crst is not executed because it is not in the whitelist.\n');
    // Not a command: the four bytes read as a frame length far over jute.maxbuffer.
    expect(await ask('xyzw')).toBe('');
    expect(await ask('ruok')).toBe('imok');
    expect((await client.getData('/flw')).data?.toString()).toBe('four letters');
  });
}

describe.each(compatLegs(CONFIG).map((leg) => [leg.name, leg] as const))('four-letter words against %s', (name, { available, start }) => {
  if (!available) {
    it.skip(`${name} is not installed on this machine`, () => undefined);
    return;
  }
  fourLetterSuite(start);
});
