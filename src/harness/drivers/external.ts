/**
 * The `external` ensemble driver: an ensemble that already runs somewhere else. The harness
 * only loads and observes it: no faults, nothing to start or stop, no pids.
 *
 * Member ids are what each server reports in `conf` (serverId=) when every one does and
 * they differ; otherwise 1..n in the order given. Roles come from `conf`'s peerType, else
 * from the mode `srvr` reports once the ensemble serves.
 */
import { HarnessError } from '../errors.js';
import { DEFAULT_UP_TIMEOUT_MS, fourLetterWord, readAdminToken } from '../ensemble/index.js';
import type { ExternalServer, FaultAction } from '../scenario/types.js';
import { unsupportedFault } from './local.js';
import { connectStringOf, hostPort, httpUrlsOf, memberMetrics, probeConf, probeSrvr, programFromVersion, soleLeader, waitMembersServing, type SrvrProbe } from './probe.js';
import type { EnsembleDriver, EnsembleHandle, Member, MemberMetrics, MemberStatus, UpOptions } from './types.js';

export const EXTERNAL_SERVERS_MAX = 64;
/** How long one server gets to answer the first `srvr`. */
const REACH_TIMEOUT_MS = 5_000;

export function externalDriver(): EnsembleDriver {
  return {
    name: 'external',
    faults: new Set<FaultAction>(),
    up: upExternal,
  };
}

async function upExternal(opts: UpOptions): Promise<EnsembleHandle> {
  if (opts.tls === true) throw new HarnessError('ZABLAB_BENCH_DRIVER', 'driver external: ensemble.tls is for drivers local and zookeeper, which make their own certificates');
  if (opts.peerSecurity !== undefined) throw new HarnessError('ZABLAB_BENCH_DRIVER', 'driver external: ensemble.peerSecurity is for drivers local and zookeeper; an external ensemble authenticates its peers as it was set up to');
  const servers = checkServers(opts.external);
  const adminToken = opts.adminTokenFile === undefined ? null : tokenOf(opts.adminTokenFile);
  await Promise.all(servers.map(reach));
  // Ids in the order given and roles unknown until the servers serve and say.
  const provisional: Member[] = servers.map((s, i) => ({ id: i + 1, role: 'voter', host: s.host, clientPort: s.clientPort, httpPort: s.httpPort ?? null }));
  const probes = await waitUntilServing(provisional, opts.timeoutMs ?? DEFAULT_UP_TIMEOUT_MS);
  const confs = await Promise.all(provisional.map((m) => probeConf(m)));
  const confIds = confs.map((c) => c?.id ?? null);
  const useConf = confIds.every((id) => id !== null && id > 0) && new Set(confIds).size === confIds.length;
  const members: Member[] = provisional
    .map((m, i) => {
      const observer = confs[i]?.observer ?? probes[i]?.mode === 'observer';
      return { ...m, id: useConf ? confIds[i]! : m.id, role: observer ? ('observer' as const) : ('voter' as const) };
    })
    .sort((a, b) => a.id - b.id);
  const programs = probes.map((p) => programFromVersion(p.version));
  const program = programs.every((v) => v === programs[0]) ? (programs[0] ?? 'unknown') : 'unknown';
  return new ExternalHandle(members, program, adminToken);
}

function tokenOf(file: string): string {
  try {
    return readAdminToken(file);
  } catch (err) {
    throw new HarnessError('ZABLAB_BENCH_DRIVER', `ensemble.adminTokenFile: ${err instanceof Error ? err.message : String(err)}; name the file the servers' admin.tokenFile names`);
  }
}

/**
 * Waits until exactly one server leads and every server serves; returns the last srvr
 * answers, in input order. Each member's role follows the mode it reports meanwhile.
 */
async function waitUntilServing(members: Member[], timeoutMs: number): Promise<SrvrProbe[]> {
  let last: SrvrProbe[] = [];
  const status = async (): Promise<MemberStatus[]> => {
    last = await Promise.all(members.map((m) => probeSrvr(m)));
    last.forEach((p, i) => (members[i]!.role = p.mode === 'observer' ? 'observer' : 'voter'));
    return last.map((p, i) => ({ id: members[i]!.id, mode: p.mode, zxid: p.zxid, paused: false, stopped: false }));
  };
  await waitMembersServing(
    members,
    status,
    members.map((m) => m.id),
    timeoutMs,
  );
  return last;
}

function checkServers(external: ExternalServer[] | undefined): ExternalServer[] {
  if (external === undefined || external.length === 0) {
    throw new HarnessError('ZABLAB_BENCH_DRIVER', 'driver external needs the servers of the running ensemble: list them under ensemble.external as {host, clientPort, httpPort?}');
  }
  if (external.length > EXTERNAL_SERVERS_MAX) throw new HarnessError('ZABLAB_BENCH_DRIVER', `driver external takes at most ${EXTERNAL_SERVERS_MAX} servers, got ${external.length}`);
  const port = (p: number | undefined): boolean => p !== undefined && Number.isInteger(p) && p >= 1 && p <= 65_535;
  const seen = new Set<string>();
  for (const [i, s] of external.entries()) {
    if (typeof s.host !== 'string' || s.host.trim() === '') throw new HarnessError('ZABLAB_BENCH_DRIVER', `ensemble.external[${i}].host must name a host`);
    if (!port(s.clientPort)) throw new HarnessError('ZABLAB_BENCH_DRIVER', `ensemble.external[${i}].clientPort must be a port from 1 to 65535, got ${String(s.clientPort)}`);
    if (s.httpPort !== undefined && !port(s.httpPort)) {
      throw new HarnessError('ZABLAB_BENCH_DRIVER', `ensemble.external[${i}].httpPort must be a port from 1 to 65535, got ${String(s.httpPort)}`);
    }
    const key = hostPort(s.host, s.clientPort);
    if (seen.has(key)) throw new HarnessError('ZABLAB_BENCH_DRIVER', `ensemble.external lists ${key} twice`);
    seen.add(key);
  }
  return external;
}

/** The server answers srvr at all (serving or not); else an error naming its address. */
async function reach(s: ExternalServer): Promise<void> {
  const where = hostPort(s.host, s.clientPort);
  let text: string;
  try {
    text = await fourLetterWord(s.host, s.clientPort, 'srvr', REACH_TIMEOUT_MS);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new HarnessError('ZABLAB_BENCH_DRIVER', `external server ${where} does not answer srvr (${why}); check the address and that the server runs`);
  }
  if (/not in the whitelist/i.test(text) || text.trim() === '') {
    throw new HarnessError(
      'ZABLAB_BENCH_DRIVER',
      `external server ${where} refuses the four-letter word srvr; add srvr, mntr and conf to its 4lw.commands.whitelist (or set it to *)`,
    );
  }
}

class ExternalHandle implements EnsembleHandle {
  readonly driver = 'external' as const;
  readonly spansDir = null;
  readonly clientTls = null;

  constructor(
    readonly members: readonly Member[],
    readonly program: EnsembleHandle['program'],
    readonly adminToken: string | null,
  ) {}

  connectString(): string {
    return connectStringOf(this.members);
  }

  httpUrls(): string[] {
    return httpUrlsOf(this.members);
  }

  async status(among?: readonly number[]): Promise<MemberStatus[]> {
    return Promise.all(
      this.members.filter((m) => among === undefined || among.includes(m.id)).map(async (m) => {
        const p = await probeSrvr(m);
        return { id: m.id, mode: p.mode, zxid: p.zxid, paused: false, stopped: false };
      }),
    );
  }

  async leader(among?: readonly number[]): Promise<number | null> {
    return soleLeader(await this.status(among));
  }

  metrics(id: number): Promise<MemberMetrics> {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) return Promise.reject(new HarnessError('ZABLAB_BENCH_DRIVER', `server ${id} is not a member (ids: ${this.members.map((x) => x.id).join(', ')})`));
    return memberMetrics(m);
  }

  kill(): Promise<void> {
    return Promise.reject(unsupportedFault(this.driver, 'kill'));
  }

  pause(): Promise<void> {
    return Promise.reject(unsupportedFault(this.driver, 'pause'));
  }

  resume(): Promise<void> {
    return Promise.reject(unsupportedFault(this.driver, 'resume'));
  }

  restart(): Promise<void> {
    return Promise.reject(unsupportedFault(this.driver, 'restart'));
  }

  addObserver(): Promise<number> {
    return Promise.reject(unsupportedFault(this.driver, 'add-observer'));
  }

  spareObservers(): number[] {
    return [];
  }

  memberFiles(): null {
    return null;
  }

  partition(): Promise<void> {
    return Promise.reject(unsupportedFault(this.driver, 'partition'));
  }

  heal(): Promise<void> {
    return Promise.reject(unsupportedFault(this.driver, 'heal'));
  }

  partitionSides(): Promise<void> {
    return Promise.reject(unsupportedFault(this.driver, 'partition'));
  }

  healSides(): Promise<void> {
    return Promise.reject(unsupportedFault(this.driver, 'heal'));
  }

  healAll(): Promise<void> {
    return Promise.reject(unsupportedFault(this.driver, 'heal'));
  }

  /** Every member that answers must serve; one that does not answer at all is left out. */
  async waitServing(timeoutMs: number): Promise<void> {
    const up = (await this.status()).filter((s) => s.mode !== 'down').map((s) => s.id);
    await waitMembersServing(this.members, () => this.status(), up, timeoutMs);
  }

  pids(): number[] {
    return [];
  }

  /** Nothing to stop: the ensemble runs without us. */
  async down(): Promise<void> {}
}
