/**
 * Issue #12's attacker probes against one zablab checkout, so that the issue's before/after
 * table is one command per checkout:
 *
 *   npx tsx bench/security-probes.ts [--root DIR] [--json FILE]
 *
 * --root is a built zablab checkout (default: this one). The script starts a 3-voter ensemble
 * with that checkout's own `zablab ensemble up` and its defaults, runs each probe against it,
 * prints a Markdown table (probe, what was measured, result), writes the rows as JSON with
 * --json, and tears the ensemble down (`ensemble down --purge`). Probe 5 starts standalone
 * servers of the checkout on zoo.cfg files of its own. Every connection goes to 127.0.0.1.
 *
 * It works against checkouts from before the security work (no admin token, no limits, an
 * older peer protocol): the fake peers speak the checkout's own wire format (peerWireOf), and
 * a probe that cannot apply says so in its row. Nothing is left behind: the servers are
 * stopped and the temp dir removed on every exit path, SIGINT included.
 */
import { spawnSync, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ZkClient, ZkError, digestId } from '../src/client/index.js';
import { DeleteRequest, OpCode, Perms, SetDataRequest } from '../src/jute/index.js';
import { fourLetterWord, mntr } from '../test/compat/four-letter-word.js';
import { AckedWriter } from '../test/helpers/acked-writer.js';
import { freePorts } from '../test/helpers/ports.js';
import { fakeLearner, floodPeerPorts, forgedSuperRequest, peerWireOf, type FakePeer, type PeerWire } from '../test/helpers/fake-peer.js';
import { createFrame, pipelineWithRepeatedXid, rawConnect, rawSession, type RawConnection } from '../test/helpers/raw-session.js';
import { launch, writeStandaloneConfig, type ServerHandle } from '../test/helpers/server-process.js';
import { UsageError } from '../src/cli/registry.js';
import { childPids, processCpuSeconds } from '../src/harness/measure/proc-stats.js';
import { InterruptedError, Shutdown, killPids } from '../test/helpers/shutdown.js';

const SCHEMA = 'zablab.bench.security-probes/v1';
const THIS_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
/** After a signal the run unwinds (servers stopped, temp dir removed) within this, or is cut short. */
const shutdown = new Shutdown(30_000);

const ALICE = { user: 'alice', password: `alice-${crypto.randomBytes(6).toString('hex')}` };
const ALICE_ID = digestId(ALICE.user, ALICE.password);
/** The payload of the ACL'd znode: found in a fake's bytes means the data leaked. */
const SECRET = `vault-${crypto.randomBytes(8).toString('hex')}`;

const UP_TIMEOUT_MS = 90_000;
const CLI_TIMEOUT_MS = 90_000;
const SERVING_TIMEOUT_MS = 40_000;
const FLOOD_MS = 15_000;
/** How long after a flood writes may take to resume before the gap is reported as open. */
const RESUME_WAIT_MS = 30_000;
const SESSIONLESS_CONNECTIONS = 2_000;
/** Connections per source address: under maxClientCnxns' default of 60 in every zablab. */
const SESSIONLESS_PER_ADDRESS = 50;
/** A connection closed this soon after it opened was refused, not timed out. */
const REFUSED_WITHIN_MS = 1_000;
const SEGMENT_BYTES = 64;
const SEGMENT_INTERVAL_MS = 1;
/** A create of this much data is a frame just under 1 MB, under jute.maxbuffer's 1048575. */
const BIG_DATA_BYTES = 1_000_000 - 100;
const HTTP_TIMEOUT_MS = 5_000;
const OUTPUT_MAX_CHARS = 160;

// ---------------------------------------------------------------------------------------
// The checkout and its ensemble

interface Checkout {
  root: string;
  /** The built CLI: package.json's bin. */
  cli: string;
  commit: string | null;
  /** The checkout's peer wire format, or why it could not be loaded. */
  wire: PeerWire | string;
}

async function checkoutAt(root: string): Promise<Checkout> {
  const pkgFile = path.join(root, 'package.json');
  if (!fs.existsSync(pkgFile)) throw new UsageError(`--root ${root}: no package.json; give a zablab checkout`);
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : (pkg.bin?.['zablab'] ?? Object.values(pkg.bin ?? {})[0]);
  if (bin === undefined) throw new UsageError(`--root ${root}: package.json has no "bin"; is it a zablab checkout?`);
  const cli = path.join(root, bin);
  if (!fs.existsSync(cli)) throw new UsageError(`--root ${root}: ${bin} is missing; build the checkout first (npm run build)`);
  const git = spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', timeout: 5_000 });
  const commit = git.status === 0 ? git.stdout.trim() : null;
  const wire = await peerWireOf(root).catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
  return { root, cli, commit, wire };
}

interface Member {
  id: number;
  host: string;
  clientPort: number;
  httpPort: number;
  quorumPort: number;
  electionPort: number;
  pid: number;
  logFile: string;
}

interface Srvr {
  mode: string;
  zxid: bigint;
}

/** An ensemble started with the checkout's own CLI, seen through its ensemble.json. */
class CliEnsemble {
  servers: Member[] = [];
  adminToken: string | null = null;

  private constructor(
    private readonly checkout: Checkout,
    readonly dir: string,
  ) {}

  static async up(checkout: Checkout, dir: string): Promise<CliEnsemble> {
    const e = new CliEnsemble(checkout, dir);
    await e.cli(['ensemble', 'up', '--voters', '3', '--dir', dir, '--json'], UP_TIMEOUT_MS);
    e.refresh();
    return e;
  }

  private async cli(args: string[], timeoutMs = CLI_TIMEOUT_MS): Promise<string> {
    try {
      const { stdout } = await run(process.execPath, [this.checkout.cli, ...args], { timeout: timeoutMs, maxBuffer: 4 << 20 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`zablab ${args.slice(0, 2).join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`);
    }
  }

  /** Re-reads ensemble.json (pids change on restart). */
  refresh(): void {
    const state = JSON.parse(fs.readFileSync(path.join(this.dir, 'ensemble.json'), 'utf8')) as { servers: Member[]; adminTokenFile?: string | null };
    this.servers = state.servers.map((s) => ({ ...s }));
    const tokenFile = state.adminTokenFile ?? null;
    this.adminToken = tokenFile === null ? null : fs.readFileSync(tokenFile, 'utf8').trim();
  }

  /** The pids in ensemble.json, read now (for the exit hook); [] once it is gone. */
  static pidsIn(dir: string): number[] {
    try {
      return (JSON.parse(fs.readFileSync(path.join(dir, 'ensemble.json'), 'utf8')) as { servers: { pid: number }[] }).servers.map((s) => s.pid);
    } catch {
      return [];
    }
  }

  server(id: number): Member {
    const s = this.servers.find((x) => x.id === id);
    if (s === undefined) throw new Error(`no server ${id}`);
    return s;
  }

  connectString(servers: readonly Member[] = this.servers): string {
    return servers.map((s) => `${s.host}:${s.clientPort}`).join(',');
  }

  async srvr(s: Member): Promise<Srvr | null> {
    const text = await fourLetterWord(s.host, s.clientPort, 'srvr', 2_000).catch(() => '');
    const mode = /^Mode: (\S+)/m.exec(text)?.[1];
    const zxid = /^Zxid: (0x[0-9a-f]+)/m.exec(text)?.[1];
    return mode === undefined || zxid === undefined ? null : { mode, zxid: BigInt(zxid) };
  }

  /** Waits until one of `ids` leads and the others follow; returns the leader and its epoch. */
  async waitServing(ids: readonly number[] = this.servers.map((s) => s.id), timeoutMs = SERVING_TIMEOUT_MS): Promise<{ leader: Member; epoch: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const members = ids.map((id) => this.server(id));
      const states = await Promise.all(members.map((s) => this.srvr(s)));
      const leaders = members.filter((_, i) => states[i]?.mode === 'leader');
      if (leaders.length === 1 && states.every((st) => st?.mode === 'leader' || st?.mode === 'follower')) {
        const i = members.indexOf(leaders[0]!);
        return { leader: leaders[0]!, epoch: Number(states[i]!.zxid >> 32n) };
      }
      if (Date.now() > deadline) throw new Error(`servers ${ids.join(',')} did not serve with one leader within ${timeoutMs} ms`);
      await sleep(200);
    }
  }

  async kill(id: number): Promise<void> {
    await this.cli(['ensemble', 'kill', '--dir', this.dir, '--id', String(id), '--signal', 'KILL']);
  }

  async start(id: number): Promise<void> {
    await this.cli(['ensemble', 'start', '--dir', this.dir, '--id', String(id)]);
    this.refresh();
  }

  async down(): Promise<void> {
    const pids = CliEnsemble.pidsIn(this.dir);
    await this.cli(['ensemble', 'down', '--dir', this.dir, '--purge']).catch(() => undefined);
    killPids(pids);
  }

  /** Lines in every server's log right now. */
  logLines(): number {
    let n = 0;
    for (const s of this.servers) {
      try {
        const text = fs.readFileSync(s.logFile);
        for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) n++;
      } catch {
        // No log yet.
      }
    }
    return n;
  }
}

// ---------------------------------------------------------------------------------------
// Small tools

interface HttpAnswer {
  status: number;
  body: string;
}

function httpRequest(port: number, method: string, urlPath: string, headers: Record<string, string> = {}, body?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, timeout: HTTP_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from port ${port} within ${HTTP_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function bearer(token: string | null): Record<string, string> {
  return token === null ? {} : { authorization: `Bearer ${token}` };
}

/** The peers server `s` has cut (GET /v1/faults with the token, when there is one). */
async function cutPeers(e: CliEnsemble, s: Member): Promise<number[]> {
  const got = await httpRequest(s.httpPort, 'GET', '/v1/faults', bearer(e.adminToken));
  if (got.status !== 200) throw new Error(`GET /v1/faults answered ${got.status}`);
  return (JSON.parse(got.body) as { cut: number[] }).cut;
}

async function healAll(e: CliEnsemble, s: Member): Promise<void> {
  await httpRequest(s.httpPort, 'POST', '/v1/faults', { 'content-type': 'application/json', ...bearer(e.adminToken) }, '{"heal":"all"}');
}

async function withClient<T>(connectString: string, fn: (c: ZkClient) => Promise<T>): Promise<T> {
  const c = await ZkClient.connect({ connectString, connectTimeoutMs: 15_000 });
  try {
    return await fn(c);
  } finally {
    await c.close().catch(() => undefined);
  }
}

async function asAlice<T>(connectString: string, fn: (c: ZkClient) => Promise<T>): Promise<T> {
  return withClient(connectString, async (c) => {
    await c.addAuth('digest', Buffer.from(`${ALICE.user}:${ALICE.password}`));
    return fn(c);
  });
}

function errorText(err: unknown): string {
  if (err instanceof ZkError) return err.codeName;
  return err instanceof Error ? err.message : String(err);
}

/** One line of output, without a log line's timestamp, at most OUTPUT_MAX_CHARS long. */
function clip(s: string): string {
  const one = s.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\s+/, '').replace(/\s+/g, ' ').trim();
  return one.length > OUTPUT_MAX_CHARS ? `${one.slice(0, OUTPUT_MAX_CHARS - 1)}…` : one;
}

const count = (n: number): string => n.toLocaleString('en-US');

/** A probe that does not apply to this checkout; its row says why. */
class NotApplicable extends Error {}

function wireOf(c: Checkout): PeerWire {
  if (typeof c.wire === 'string') throw new NotApplicable(`no peer codec to speak: ${c.wire}`);
  return c.wire;
}

// ---------------------------------------------------------------------------------------
// The probes

interface Outcome {
  result: string;
  data: Record<string, unknown>;
}

/** What a row says a probe is, before it has run. */
interface ProbeInfo {
  id: string;
  probe: string;
  measured: string;
}

interface EnsembleProbe extends ProbeInfo {
  run: (c: Checkout, e: CliEnsemble) => Promise<Outcome>;
}

interface Row {
  id: string;
  probe: string;
  measured: string;
  result: string;
  applies: boolean;
  data: Record<string, unknown>;
}

/** The leader, after making sure some member has a higher id (a higher id's connection is the one a leader accepts). */
async function leaderBelowTop(e: CliEnsemble): Promise<{ leader: Member; claimed: number }> {
  const ids = e.servers.map((s) => s.id);
  const top = Math.max(...ids);
  for (let attempt = 0; attempt < 3; attempt++) {
    const { leader } = await e.waitServing();
    if (leader.id < top) return { leader, claimed: top };
    await e.kill(leader.id);
    await e.waitServing(ids.filter((id) => id !== leader.id));
    await e.start(leader.id);
  }
  throw new Error('no leader below the top id after 3 restarts');
}

function frameKinds(fake: FakePeer): string[] {
  return fake.frames.map((f) => (f.type === 'message' ? f.msg.kind : f.type));
}

async function probeFakeLearner(c: Checkout, e: CliEnsemble): Promise<Outcome> {
  const wire = wireOf(c);
  const { leader, claimed } = await leaderBelowTop(e);
  const fake = await fakeLearner(leader.quorumPort, claimed, { wire });
  if (fake === null) return { result: 'could not connect', data: { leader: leader.id, claimed } };
  await sleep(500);
  fake.close();
  const bytes = fake.received();
  const kinds = [...new Set(frameKinds(fake))];
  const payload = bytes.includes(SECRET);
  const hash = bytes.includes(ALICE_ID.id);
  return {
    result: `${count(bytes.length)} bytes (${kinds.join(', ') || 'nothing'}); secret payload ${payload ? 'LEAKED' : 'not in them'}; alice's password hash ${hash ? 'LEAKED' : 'not in them'}`,
    data: { leader: leader.id, claimedId: claimed, bytes: bytes.length, frames: frameKinds(fake), payloadLeaked: payload, hashLeaked: hash },
  };
}

async function probeForgedWrites(c: Checkout, e: CliEnsemble): Promise<Outcome> {
  const wire = wireOf(c);
  const { leader, claimed } = await leaderBelowTop(e);
  // Anyone may open a session; the forged requests name it.
  const attacker = await ZkClient.connect({ connectString: e.connectString() });
  try {
    const fake = await fakeLearner(leader.quorumPort, claimed, { wire });
    const sid = attacker.sessionId;
    fake?.send({ kind: 'app', payload: forgedSuperRequest(sid, 1, OpCode.setData, (w) => SetDataRequest.write(w, { path: '/vault', data: Buffer.from('forged'), version: -1 }), wire) });
    fake?.send({ kind: 'app', payload: forgedSuperRequest(sid, 2, OpCode.delete, (w) => DeleteRequest.write(w, { path: '/guarded', version: -1 }), wire) });
    await sleep(1_500);
    fake?.close();
  } finally {
    await attacker.close().catch(() => undefined);
  }
  await e.waitServing();
  const per: { id: number; vault: string | null; guarded: boolean }[] = [];
  for (const s of e.servers) {
    per.push(
      await asAlice(e.connectString([s]), async (zk) => {
        await zk.sync('/');
        const vault = (await zk.getData('/vault')).data?.toString() ?? null;
        return { id: s.id, vault, guarded: (await zk.exists('/guarded')) !== null };
      }),
    );
  }
  const overwritten = per.filter((p) => p.vault !== SECRET).length;
  const deleted = per.filter((p) => !p.guarded).length;
  return {
    result: `/vault overwritten on ${overwritten}/${per.length} servers, /guarded deleted on ${deleted}/${per.length}`,
    data: { leader: leader.id, claimedId: claimed, servers: per.map((p) => ({ id: p.id, vaultOverwritten: p.vault !== SECRET, guardedDeleted: !p.guarded })) },
  };
}

async function probeFlood(c: Checkout, e: CliEnsemble): Promise<Outcome> {
  const wire = wireOf(c);
  const before = await e.waitServing();
  const writer = await AckedWriter.start(e.connectString(), '/w', 'flood');
  let stopFlood = (): void => undefined;
  try {
    await sleep(500, undefined, { signal: shutdown.signal });
    const linesBefore = e.logLines();
    stopFlood = floodPeerPorts(e.servers, { wire });
    const start = Date.now();
    await sleep(FLOOD_MS, undefined, { signal: shutdown.signal });
    stopFlood();
    const end = Date.now();
    const logLines = e.logLines() - linesBefore;
    const resumed = await writer.firstAckAfter(end, RESUME_WAIT_MS).catch(() => null);
    const gapMs = writer.longestGapMs(start, resumed ?? Date.now());
    const acks = writer.acksBetween(start, end);
    const failures = writer.failures;
    await writer.stop();
    const after = await e.waitServing().catch(() => null);
    const epochs = after === null ? 'no leader after it' : `leader ${before.leader.id} → ${after.leader.id}, epoch ${before.epoch} → ${after.epoch}`;
    return {
      result: `longest gap ${count(gapMs)} ms${resumed === null ? ' (writes had not resumed 30 s after)' : ''}; ${count(acks)} writes acked, ${count(failures)} failed; ${epochs}; ${count(logLines)} log lines`,
      data: { floodMs: end - start, longestGapMs: gapMs, resumed: resumed !== null, acks, failures, leaderBefore: before.leader.id, epochBefore: before.epoch, leaderAfter: after?.leader.id ?? null, epochAfter: after?.epoch ?? null, logLines },
    };
  } finally {
    stopFlood();
    await writer.stop();
  }
}

/** Two followers of the current leader: the one to ask, and the peer it would cut. */
async function followers(e: CliEnsemble): Promise<[Member, Member]> {
  const { leader } = await e.waitServing();
  const f = e.servers.filter((s) => s.id !== leader.id);
  return [f[0]!, f[1]!];
}

async function probeFaultsWithoutToken(e: CliEnsemble): Promise<Outcome> {
  const [target, other] = await followers(e);
  const got = await httpRequest(target.httpPort, 'POST', '/v1/faults', { 'content-type': 'application/json' }, JSON.stringify({ cut: [other.id] }));
  const cut = (await cutPeers(e, target)).includes(other.id);
  await healAll(e, target);
  return { result: `HTTP ${got.status}; ${cut ? `cut applied (server ${target.id} cut off ${other.id})` : 'no cut'}`, data: { status: got.status, cut, server: target.id, peer: other.id } };
}

async function probeCrossSite(e: CliEnsemble): Promise<Outcome> {
  const [target, other] = await followers(e);
  const crossSite = { host: 'evil.example', origin: 'http://evil.example', 'content-type': 'text/plain' };
  const faults = await httpRequest(target.httpPort, 'POST', '/v1/faults', crossSite, JSON.stringify({ cut: [other.id] }));
  const cut = (await cutPeers(e, target)).includes(other.id);
  await healAll(e, target);
  // The same request a page can send to the REST face's create.
  const znodes = await httpRequest(target.httpPort, 'POST', '/v1/znodes/csrf', crossSite, 'from a web page');
  const created = await withClient(e.connectString(), async (zk) => {
    await zk.sync('/');
    return (await zk.exists('/csrf')) !== null;
  });
  return {
    result: `/v1/faults: HTTP ${faults.status}, ${cut ? 'cut applied' : 'no cut'} (same to /v1/znodes/csrf: HTTP ${znodes.status}, ${created ? 'znode created' : 'no znode'})`,
    data: { status: faults.status, cut, znodesStatus: znodes.status, znodeCreated: created },
  };
}

async function probeSessionless(e: CliEnsemble): Promise<Outcome> {
  const [target] = await followers(e);
  const addresses = Math.ceil(SESSIONLESS_CONNECTIONS / SESSIONLESS_PER_ADDRESS);
  const conns: { c: RawConnection; openedAt: number; closedAt: number | null }[] = [];
  let failed = 0;
  try {
    for (let a = 0; a < addresses; a++) {
      // 127.0.0.2, 127.0.0.3, ...: loopback source addresses, so that maxClientCnxns (per address) does not decide it.
      const local = `127.0.0.${a + 2}`;
      const batch = await Promise.allSettled(Array.from({ length: SESSIONLESS_PER_ADDRESS }, () => rawConnect(target.host, target.clientPort, local)));
      for (const r of batch) {
        if (r.status === 'rejected') {
          failed++;
          continue;
        }
        const entry = { c: r.value, openedAt: Date.now(), closedAt: r.value.closed ? Date.now() : null };
        r.value.socket.once('close', () => (entry.closedAt ??= Date.now()));
        conns.push(entry);
      }
    }
    const t0 = Date.now();
    const openAt = async (ms: number): Promise<number> => {
      await sleep(Math.max(0, t0 + ms - Date.now()), undefined, { signal: shutdown.signal });
      return conns.filter((x) => x.closedAt === null).length;
    };
    const open15 = await openAt(15_000);
    const open30 = await openAt(30_000);
    const refused = conns.filter((x) => x.closedAt !== null && x.closedAt - x.openedAt <= REFUSED_WITHIN_MS).length;
    const closedLater = conns.length - refused - open30;
    return {
      result: `open after 15 s: ${count(open15)}, after 30 s: ${count(open30)} (refused at once ${count(refused)}, closed later ${count(closedLater)}${failed > 0 ? `, ${count(failed)} could not connect` : ''})`,
      data: { server: target.id, connections: SESSIONLESS_CONNECTIONS, sourceAddresses: addresses, openAfter15s: open15, openAfter30s: open30, refusedAtOnce: refused, closedLater, connectFailed: failed },
    };
  } finally {
    for (const x of conns) x.c.socket.destroy();
  }
}

async function probeRepeatedXid(e: CliEnsemble): Promise<Outcome> {
  const { leader } = await e.waitServing();
  const { frames, xids } = pipelineWithRepeatedXid('/w/dup');
  const c = await rawSession(leader.host, leader.clientPort);
  c.socket.write(Buffer.concat(frames));
  // Until every request is answered, the connection closes, or nothing comes for 5 s (20 s at most).
  const deadline = Date.now() + 20_000;
  let seen = -1;
  let lastProgress = Date.now();
  while (c.replies.length < xids.length && !c.closed && Date.now() < deadline && Date.now() - lastProgress < 5_000) {
    if (c.replies.length !== seen) {
      seen = c.replies.length;
      lastProgress = Date.now();
    }
    await sleep(50);
  }
  const answered = c.replies.length;
  const inOrder = c.replies.every((r, i) => r.xid === xids[i]);
  c.socket.destroy();
  await sleep(3_000);
  const outstanding = await mntr(leader.host, leader.clientPort, 'zk_outstanding_requests');
  return {
    result: `${count(answered)}/${count(xids.length)} answered${inOrder ? ' in order' : ', out of order'}; outstanding_requests 3 s after disconnect: ${outstanding ?? 'n/a'}`,
    data: { server: leader.id, requests: xids.length, answered, inOrder, outstandingAfterDisconnect: outstanding === undefined ? null : Number(outstanding) },
  };
}

/**
 * Writes `frame` SEGMENT_BYTES at a time, one write a millisecond: slow enough that the server
 * reads each segment on its own (sent back to back, they arrive merged into large reads).
 */
async function sendInSegments(c: RawConnection, frame: Buffer): Promise<void> {
  for (let off = 0; off < frame.length && !c.closed; off += SEGMENT_BYTES) {
    c.socket.write(frame.subarray(off, off + SEGMENT_BYTES));
    await sleep(SEGMENT_INTERVAL_MS);
  }
}

/** CPU seconds server `pid` spent while `send` ran and its one create was answered. */
async function cpuOfCreate(pid: number, c: RawConnection, send: () => Promise<void>): Promise<{ cpuMs: number; wallMs: number; ok: boolean }> {
  const want = c.replies.length + 1;
  const cpu0 = processCpuSeconds(pid);
  const t0 = Date.now();
  await send();
  await c.waitForReplies(want, 60_000);
  const wallMs = Date.now() - t0;
  const cpu1 = processCpuSeconds(pid);
  if (cpu0 === null || cpu1 === null) throw new NotApplicable(`cannot read /proc/${pid}/stat`);
  return { cpuMs: Math.round((cpu1 - cpu0) * 1000), wallMs, ok: c.replies[want - 1]?.err === 0 };
}

async function probeSegmentedFrame(e: CliEnsemble): Promise<Outcome> {
  const [target] = await followers(e);
  const data = Buffer.alloc(BIG_DATA_BYTES, 0x61);
  const segmented = createFrame(1, '/w/big-segmented', data);
  const whole = createFrame(2, '/w/big-whole', data);
  const c = await rawSession(target.host, target.clientPort);
  try {
    const seg = await cpuOfCreate(target.pid, c, () => sendInSegments(c, segmented));
    const one = await cpuOfCreate(target.pid, c, async () => void c.socket.write(whole));
    shutdown.check();
    await withClient(e.connectString(), async (zk) => {
      for (const p of ['/w/big-segmented', '/w/big-whole']) await zk.delete(p).catch(() => undefined);
    });
    return {
      result: `${count(seg.cpuMs)} ms CPU (${count(seg.wallMs)} ms wall${seg.ok ? '' : ', create failed'}) in ${count(Math.ceil(segmented.length / SEGMENT_BYTES))} segments, one a ms; the same frame in one write: ${count(one.cpuMs)} ms`,
      data: { server: target.id, frameBytes: segmented.length, segmentBytes: SEGMENT_BYTES, segmentedCpuMs: seg.cpuMs, segmentedWallMs: seg.wallMs, segmentedOk: seg.ok, wholeCpuMs: one.cpuMs, wholeWallMs: one.wallMs, wholeOk: one.ok },
    };
  } finally {
    c.socket.destroy();
  }
}

/** How a probe-5 line shows in the table: no temp paths or port numbers. */
function label(key: string, value: string): string {
  if (key === 'secureClientPort') return '<free port>';
  return path.isAbsolute(value) ? '<missing file>' : value;
}

/** The zoo.cfg lines of probe 5: each asks for security without what it needs. */
function insecureConfigs(missing: string, securePort: number): [string, string][] {
  return [
    ['secureClientPort', String(securePort)],
    ['ssl.keyStore.location', missing],
    ['sslQuorum', 'true'],
    ['quorum.auth.enableSasl', 'true'],
    ['authProvider.1', 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider'],
    ['enforce.auth.enabled', 'true'],
    ['admin.forceHttps', 'true'],
  ];
}

/** Starts `zablab server` on a zoo.cfg with `key=value` added: does it serve anonymous plaintext, or exit naming the line? */
async function probeConfig(c: Checkout, dir: string, key: string, value: string, track: (h: ServerHandle | null) => void): Promise<Outcome> {
  const dataDir = path.join(dir, 'data');
  const { cfgFile, cfg } = await writeStandaloneConfig('', { dataDir, config: { 'admin.serverAddress': '127.0.0.1', [key]: value } }, true);
  const lineNo = Object.keys(cfg).indexOf(key) + 1;
  const logFile = path.join(dataDir, 'server.log');
  let server: ServerHandle;
  try {
    server = await launch({
      command: process.execPath,
      args: [c.cli, 'server', '--config', cfgFile],
      options: { cwd: dataDir, env: process.env },
      logFile,
      host: '127.0.0.1',
      port: Number(cfg['clientPort']),
      adminPort: Number(cfg['admin.serverPort']),
      dataDir,
      ownedDir: null,
      keepDir: true,
      what: 'zablab server',
    });
  } catch {
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
    const lines = log.split('\n').filter((l) => l.trim() !== '');
    const why = lines.find((l) => l.includes(`line ${lineNo}`)) ?? lines.find((l) => l.includes(key)) ?? lines.at(-1) ?? '(no output)';
    return { result: `exits: "${clip(why)}"`, data: { key, line: lineNo, started: false, namesLine: why.includes(`line ${lineNo}`), output: clip(why) } };
  }
  track(server);
  try {
    const anonymous = await withClient(server.connectString, async (zk) => {
      await zk.create('/anonymous', Buffer.from('x'));
      return 'an anonymous session created a znode';
    }).catch((err: unknown) => `an anonymous request failed (${errorText(err)})`);
    const warning = fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes(key) && /warn/i.test(l));
    return {
      result: `starts, serves plaintext: ${anonymous}${warning === undefined ? '' : `; warns: "${clip(warning)}"`}`,
      data: { key, line: lineNo, started: true, anonymous, warning: warning === undefined ? null : clip(warning) },
    };
  } finally {
    await server.stop();
    track(null);
  }
}

// ---------------------------------------------------------------------------------------
// Running them

/** In the order they run: cheap and quiet ones first; the flood, which may leave the ensemble electing, last. */
const ENSEMBLE_PROBES: EnsembleProbe[] = [
  { id: '4', probe: 'POST /v1/faults {"cut":[…]} without credentials', measured: 'HTTP status; cut applied?', run: (_, e) => probeFaultsWithoutToken(e) },
  { id: '9', probe: 'cross-site text/plain POST /v1/faults (Origin and Host evil.example)', measured: 'HTTP status; cut applied?', run: (_, e) => probeCrossSite(e) },
  { id: '1', probe: "fake learner (FOLLOWERINFO, ACKEPOCH) claiming an id above the leader's", measured: 'bytes received; secret payload / digest hash in them', run: probeFakeLearner },
  { id: '2', probe: 'the fake learner forwards setData /vault and delete /guarded with super auth', measured: "changed on every server? (read with alice's digest)", run: probeForgedWrites },
  { id: '7', probe: '1,500 pipelined creates on one session, xid 750 twice', measured: 'answered; outstanding_requests after disconnect', run: (_, e) => probeRepeatedXid(e) },
  { id: '8', probe: 'a 1 MB create frame sent in 64-byte segments', measured: 'server CPU time (/proc utime+stime)', run: (_, e) => probeSegmentedFrame(e) },
  { id: '6', probe: '2,000 connections that never send a ConnectRequest (40 source addresses × 50)', measured: 'still open after 15 s / 30 s', run: (_, e) => probeSessionless(e) },
  { id: '3', probe: 'fake handshakes at 20 Hz on every quorum and election port for 15 s, a writer writing', measured: 'longest gap between acked writes; leader/epoch before → after; log lines', run: probeFlood },
];

async function runProbe(p: ProbeInfo, run: () => Promise<Outcome>): Promise<Row> {
  shutdown.check();
  const started = Date.now();
  process.stderr.write(`probe ${p.id}: ${p.probe} ... `);
  let row: Row;
  try {
    const o = await run();
    row = { id: p.id, probe: p.probe, measured: p.measured, result: o.result, applies: true, data: o.data };
  } catch (err) {
    if (err instanceof InterruptedError || shutdown.interrupted !== null) throw err;
    const na = err instanceof NotApplicable;
    row = { id: p.id, probe: p.probe, measured: p.measured, result: `${na ? 'does not apply' : 'error'}: ${clip(errorText(err))}`, applies: !na, data: {} };
  }
  process.stderr.write(`${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return row;
}

async function setUp(e: CliEnsemble): Promise<void> {
  await withClient(e.connectString(), async (zk) => {
    await zk.addAuth('digest', Buffer.from(`${ALICE.user}:${ALICE.password}`));
    const acl = [{ perms: Perms.ALL, id: ALICE_ID }];
    await zk.create('/vault', Buffer.from(SECRET), { acl });
    await zk.create('/guarded', Buffer.from('keep me'), { acl });
    await zk.create('/w', null);
  });
}

function printTable(c: Checkout, rows: Row[]): void {
  const version = typeof c.wire === 'string' ? '?' : String(c.wire.PEER_PROTOCOL_VERSION);
  console.log(`\nzablab security probes (issue #12): checkout ${c.commit ?? '(not a git checkout)'}, peer protocol v${version}, 3 voters from its \`ensemble up\` defaults\n`);
  console.log('| # | probe | measured | result |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.id} | ${r.probe} | ${r.measured} | ${r.result.replace(/\|/g, '\\|')} |`);
}

/** Probes 1-4 and 6-9 on a 3-voter ensemble of the checkout, torn down afterwards. */
async function runEnsembleProbes(checkout: Checkout, dir: string): Promise<Row[]> {
  let ensemble: CliEnsemble | null = null;
  const untrack = shutdown.track({ stop: async () => ensemble?.down(), kill: () => killPids(CliEnsemble.pidsIn(dir)) });
  try {
    process.stderr.write(`starting a 3-voter ensemble of ${checkout.root} ...\n`);
    let e: CliEnsemble;
    try {
      e = ensemble = await CliEnsemble.up(checkout, dir);
      await setUp(e);
    } catch (err) {
      if (shutdown.interrupted !== null) throw err;
      const why = `error: ${clip(`the ensemble did not start: ${errorText(err)}`)}`;
      return ENSEMBLE_PROBES.map((p) => ({ id: p.id, probe: p.probe, measured: p.measured, result: why, applies: true, data: {} }));
    }
    const rows: Row[] = [];
    for (const p of ENSEMBLE_PROBES) rows.push(await runProbe(p, () => p.run(checkout, e)));
    return rows;
  } finally {
    // `up` stops what it started when it fails, but not when it is cut short.
    if (ensemble === null) killPids(CliEnsemble.pidsIn(dir));
    else await ensemble.down();
    untrack();
  }
}

/** Probe 5: one standalone server per zoo.cfg line, one after the other. */
async function runConfigProbes(checkout: Checkout, tmp: string): Promise<Row[]> {
  let server: ServerHandle | null = null;
  const untrack = shutdown.track({ stop: async () => server?.stop(), kill: () => server?.kill('SIGKILL') });
  try {
    const [securePort] = await freePorts(1);
    const rows: Row[] = [];
    for (const [i, [key, value]] of insecureConfigs(path.join(tmp, 'missing-keystore.pem'), securePort!).entries()) {
      const dir = path.join(tmp, `config-${i}`);
      const info = {
        id: `5${String.fromCharCode(97 + i)}`,
        probe: `standalone zoo.cfg with \`${key}=${label(key, value)}\` and nothing it needs`,
        measured: 'starts and serves anonymous plaintext, or exits naming the line?',
      };
      rows.push(await runProbe(info, () => probeConfig(checkout, dir, key, value, (h) => (server = h))));
    }
    return rows;
  } finally {
    untrack();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { root: { type: 'string', default: THIS_ROOT }, json: { type: 'string' }, help: { type: 'boolean', default: false } } });
  if (values.help) {
    console.log('Usage: npx tsx bench/security-probes.ts [--root DIR] [--json FILE]\n\nRuns issue #12\'s probes against the built zablab checkout at DIR (default: this one).');
    return 0;
  }
  const checkout = await checkoutAt(path.resolve(values.root));
  shutdown.install();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-security-probes-'));
  const ensDir = path.join(tmp, 'ensemble');
  // After Shutdown's own exit hook: whatever still runs is killed, then the temp dir goes.
  process.on('exit', () => {
    killPids([...CliEnsemble.pidsIn(ensDir), ...childPids()]);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const startedAt = new Date();
  const rows: Row[] = [];
  try {
    rows.push(...(await runEnsembleProbes(checkout, ensDir)));
    rows.push(...(await runConfigProbes(checkout, tmp)));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  rows.sort((a, b) => a.id.localeCompare(b.id));
  printTable(checkout, rows);
  if (values.json !== undefined) {
    const out = { schema: SCHEMA, checkout: { root: checkout.root, commit: checkout.commit, peerProtocolVersion: typeof checkout.wire === 'string' ? null : checkout.wire.PEER_PROTOCOL_VERSION }, startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime(), rows };
    fs.writeFileSync(values.json, JSON.stringify(out, null, 2) + '\n');
    console.log(`\nwrote ${values.json}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof InterruptedError || shutdown.interrupted !== null) process.exit(130);
    console.error(`security-probes: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
