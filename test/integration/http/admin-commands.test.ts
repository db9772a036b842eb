/**
 * ZooKeeper's AdminServer commands on a real standalone server's HTTP port. The expected
 * keys are those ZooKeeper 3.8.0's AdminServer (Jetty) answered for the same commands on a
 * standalone server, so JSON tooling written for ZooKeeper reads ours unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { CreateMode } from '../../../src/jute/index.js';
import { http, startStandaloneHttp, type HttpTarget } from './harness.js';

/** Primary name → aliases → the command's own keys (before `command` and `error`), as ZooKeeper 3.8.0 answers standalone. */
const ZOOKEEPER_3_8_SHAPES: [string, string[], string[]][] = [
  ['connection_stat_reset', ['crst'], []],
  ['configuration', ['conf', 'config'], ['client_port', 'data_dir', 'data_log_dir', 'tick_time', 'max_client_cnxns', 'min_session_timeout', 'max_session_timeout', 'server_id', 'client_port_listen_backlog']],
  ['connections', ['cons'], ['connections', 'secure_connections']],
  ['dirs', [], ['datadir_size', 'logdir_size']],
  ['dump', [], ['expiry_time_to_session_ids', 'session_id_to_ephemeral_paths']],
  ['initial_configuration', ['icfg'], ['initial_configuration']],
  ['is_read_only', ['isro'], ['read_only']],
  ['last_snapshot', ['lsnp'], ['zxid', 'timestamp']],
  ['ruok', [], []],
  ['server_stats', ['srvr'], ['version', 'read_only', 'server_stats', 'client_response', 'node_count']],
  ['stats', ['stat'], ['version', 'read_only', 'server_stats', 'client_response', 'node_count', 'connections', 'secure_connections']],
  ['stat_reset', ['srst'], []],
  ['voting_view', [], ['current_config']],
  ['watches', ['wchc'], ['session_id_to_watched_paths']],
  ['watches_by_path', ['wchp'], ['path_to_session_ids']],
  ['watch_summary', ['wchs'], ['num_connections', 'num_paths', 'num_total_watches']],
  ['zabstate', [], ['voting', 'zabstate']],
];

/** ZooKeeper 3.8.0's ServerStats as the AdminServer writes it (srvr's server_stats). */
const SERVER_STATS_KEYS = [
  'packets_sent', 'packets_received', 'fsync_threshold_exceed_count', 'client_response_stats', 'data_dir_size', 'log_dir_size',
  'provider_null', 'server_state', 'last_processed_zxid', 'outstanding_requests', 'avg_latency', 'max_latency', 'min_latency',
  'num_alive_client_connections', 'uptime', 'auth_failed_count', 'non_mtlsremote_conn_count', 'non_mtlslocal_conn_count',
];
/** ServerCnxn.getConnectionInfo(false) in ZooKeeper 3.8.0. */
const CONNECTION_KEYS = [
  'remote_socket_address', 'interest_ops', 'outstanding_requests', 'packets_received', 'packets_sent', 'session_id', 'last_operation',
  'established', 'session_timeout', 'last_cxid', 'last_zxid', 'last_response_time', 'last_latency', 'min_latency', 'avg_latency', 'max_latency',
];
/** The non-metric keys of ZooKeeper 3.8.0's monitor on a standalone server (metrics come from telemetry). */
const MONITOR_KEYS = [
  'version', 'server_state', 'avg_latency', 'max_latency', 'min_latency', 'packets_received', 'packets_sent', 'num_alive_connections',
  'outstanding_requests', 'znode_count', 'watch_count', 'ephemerals_count', 'approximate_data_size', 'open_file_descriptor_count',
  'max_file_descriptor_count', 'uptime', 'global_sessions', 'local_sessions', 'last_client_response_size', 'max_client_response_size',
  'min_client_response_size',
];

async function command(t: HttpTarget, name: string): Promise<{ json: Record<string, unknown>; text: string }> {
  const r = await http(t.base, 'GET', `/commands/${name}`);
  expect(r.status).toBe(200);
  expect(r.contentType).toMatch(/^application\/json/);
  return { json: r.body as Record<string, unknown>, text: r.text };
}

describe('AdminServer commands (standalone, in-process)', () => {
  let t: HttpTarget;
  let client: ZkClient;
  beforeAll(async () => {
    t = await startStandaloneHttp();
    client = await ZkClient.connect({ connectString: `127.0.0.1:${t.clientPort}` });
  });
  afterAll(async () => {
    await client?.close();
    await t?.stop();
  });

  it('answers every command and alias with ZooKeeper 3.8 keys, then `command` (primary name) and `error: null`', async () => {
    for (const [primary, aliases, keys] of ZOOKEEPER_3_8_SHAPES) {
      for (const name of [primary, ...aliases]) {
        const { json } = await command(t, name);
        expect(Object.keys(json), name).toEqual([...keys, 'command', 'error']);
        expect(json['command'], name).toBe(primary);
        expect(json['error'], name).toBeNull();
      }
    }
  });

  it('environment, monitor and server stats carry the fields ZooKeeper tooling reads', async () => {
    for (const name of ['environment', 'env', 'envi']) {
      const { json } = await command(t, name);
      expect(json).toMatchObject({ command: 'environment', error: null, 'zookeeper.version': expect.stringMatching(/^3\.8\.0-zablab/) });
      expect(Object.keys(json)).toEqual(expect.arrayContaining(['host.name', 'os.name', 'os.arch', 'user.name', 'user.dir']));
    }
    for (const name of ['monitor', 'mntr']) {
      const { json } = await command(t, name);
      expect(json['command']).toBe('monitor');
      expect(Object.keys(json)).toEqual(expect.arrayContaining(MONITOR_KEYS));
      expect(json['server_state']).toBe('standalone');
      expect(typeof json['znode_count']).toBe('number');
    }
    const { json } = await command(t, 'srvr');
    expect(Object.keys(json['server_stats'] as object)).toEqual(SERVER_STATS_KEYS);
    expect(json['server_stats']).toMatchObject({ server_state: 'standalone', provider_null: false });
  });

  it('monitor and /metrics carry the process: memory, and the event loop held by a long task', async () => {
    const until = performance.now() + 120;
    while (performance.now() < until) {
      // a synchronous task holds the event loop, as a big snapshot encode would
    }
    await new Promise((r) => setTimeout(r, 2_100)); // the window it fell in, then a full window after
    const { json } = await command(t, 'mntr');
    expect(json['process_resident_memory_bytes']).toBeGreaterThan(10 * 2 ** 20);
    expect(json['nodejs_heap_size_used_bytes']).toBeGreaterThan(2 ** 20);
    expect(json['max_zab_event_loop_delay']).toBeGreaterThanOrEqual(100);
    expect(typeof json['zab_event_loop_delay_recent_p99']).toBe('number');
    const metrics = await http(t.base, 'GET', '/metrics');
    expect(metrics.text).toMatch(/^zab_event_loop_delay_bucket\{le="\+Inf"\} [1-9]/m);
    expect(metrics.text).toMatch(/^process_resident_memory_bytes [1-9]/m);
  });

  it('shows sessions, ephemerals and watches with exact 64-bit session ids', async () => {
    await client.create('/eph', Buffer.from('x'), { mode: CreateMode.EPHEMERAL });
    await client.create('/watched', Buffer.from('y'));
    await client.getData('/watched', true);
    await client.exists('/not-yet', true);
    const sid = client.sessionId.toString();

    const cons = await command(t, 'cons');
    const conns = cons.json['connections'] as Record<string, unknown>[];
    expect(conns).toHaveLength(1);
    expect(Object.keys(conns[0]!)).toEqual(CONNECTION_KEYS);
    expect(cons.text).toContain(`"session_id":${sid}`); // exact digits, not a rounded double

    const stat = await command(t, 'stat');
    expect(Object.keys((stat.json['connections'] as object[])[0]!)).toEqual(CONNECTION_KEYS.slice(0, 5));

    const dump = await command(t, 'dump');
    expect(dump.text).toContain(`"session_id_to_ephemeral_paths":{"${sid}":["/eph"]}`);
    expect(dump.text).toMatch(new RegExp(`"expiry_time_to_session_ids":\\{.*\\b${sid}\\b`));

    const wchc = await command(t, 'wchc');
    expect(wchc.text).toContain(`"session_id_to_watched_paths":{"${sid}":[`);
    expect(((wchc.json['session_id_to_watched_paths'] as Record<string, string[]>)[sid] ?? []).sort()).toEqual(['/not-yet', '/watched']);

    const wchp = await command(t, 'wchp');
    expect(wchp.text).toContain(`"/watched":[${sid}]`);

    const wchs = await command(t, 'wchs');
    expect(wchs.json).toMatchObject({ num_connections: 1, num_paths: 2, num_total_watches: 2 });
  });

  it('answers lsnp, isro, conf and icfg from the server as configured', async () => {
    const lsnp = (await command(t, 'lsnp')).json;
    expect(lsnp['zxid']).toMatch(/^[0-9a-f]+$/); // Long.toHexString: no 0x
    expect(lsnp['timestamp']).toBeGreaterThan(1_600_000_000); // seconds
    expect(lsnp['timestamp']).toBeLessThan(Date.now() / 1000 + 60);
    expect((await command(t, 'isro')).json['read_only']).toBe(false);
    expect((await command(t, 'conf')).json).toMatchObject({ client_port: t.clientPort, tick_time: 200, server_id: 0 });
    expect((await command(t, 'icfg')).json['initial_configuration']).toContain(`admin.serverPort=${t.adminPort}`);
  });

  it('answers the quorum-only commands as a standalone ZooKeeper does', async () => {
    expect((await command(t, 'leader')).json).toEqual({ error: 'server is not initialized', command: 'leader' });
    expect((await command(t, 'lead')).json).toEqual({ error: 'server is not initialized', command: 'leader' });
    expect((await command(t, 'voting_view')).json).toEqual({ current_config: {}, command: 'voting_view', error: null });
    expect((await command(t, 'zabstate')).json).toEqual({ voting: false, zabstate: '', command: 'zabstate', error: null });
  });

  it('reports an unknown command in `error` with status 200, as ZooKeeper does', async () => {
    expect((await command(t, 'nosuch')).json).toEqual({ command: 'nosuch', error: 'Unknown command: nosuch' });
  });

  it('lists the commands as ZooKeeper does (HTML links), or as JSON when asked', async () => {
    const html = await http(t.base, 'GET', '/commands');
    expect(html.status).toBe(200);
    for (const [primary] of ZOOKEEPER_3_8_SHAPES) expect(html.text).toContain(`<a href="/commands/${primary}">${primary}</a>`);
    const json = await http(t.base, 'GET', '/commands', undefined, { accept: 'application/json' });
    expect((json.body as { commands: string[] }).commands).toEqual(expect.arrayContaining(['monitor', 'server_stats', 'zabstate']));
  });

  it('srst and crst reset the counters they name', async () => {
    await client.getData('/watched');
    expect(((await command(t, 'srvr')).json['server_stats'] as { packets_received: number }).packets_received).toBeGreaterThan(0);
    await command(t, 'srst');
    expect(((await command(t, 'srvr')).json['server_stats'] as { packets_received: number }).packets_received).toBe(0);
    await command(t, 'crst');
    const conn = ((await command(t, 'cons')).json['connections'] as { packets_received: number }[])[0]!;
    expect(conn.packets_received).toBe(0);
  });
});

describe('health, readiness, metrics and unknown routes (standalone)', () => {
  let t: HttpTarget;
  beforeAll(async () => {
    t = await startStandaloneHttp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('/healthz is ok and /readyz is ready while the server serves', async () => {
    expect(await http(t.base, 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await http(t.base, 'GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready', state: 'standalone' } });
  });

  it('/metrics answers Prometheus text with ZooKeeper metric names', async () => {
    const r = await http(t.base, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.contentType).toMatch(/^text\/plain/);
    expect(r.text).toMatch(/^# TYPE outstanding_requests gauge$/m);
  });

  it('/v1/faults needs an ensemble: 404 with a clear error on a standalone server', async () => {
    for (const [method, body] of [['GET', undefined], ['POST', '{"cut":[1]}']] as const) {
      const r = await http(t.base, method, '/v1/faults', body, { 'content-type': 'application/json' });
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: { code: 'ZABLAB_HTTP_NOT_QUORUM', zkCode: null, message: expect.stringContaining('standalone') } });
    }
  });

  it('an unknown route or a malformed URL gets a JSON error, never an HTML page or a stack trace', async () => {
    const nf = await http(t.base, 'GET', '/nothing/here');
    expect(nf.status).toBe(404);
    expect(nf.body).toMatchObject({ error: { code: 'ZABLAB_HTTP_NOT_FOUND', zkCode: null } });
    const bad = await http(t.base, 'GET', '/v1/znodes/a%zz');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'ZABLAB_HTTP_BAD_REQUEST' } });
    const notJson = await http(t.base, 'POST', '/v1/faults', '{"cut":', { 'content-type': 'application/json' });
    expect(notJson.status).toBe(400);
    expect(notJson.text).not.toMatch(/at .*\.(js|ts):\d+/);
  });
});
