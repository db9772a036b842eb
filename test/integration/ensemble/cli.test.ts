/**
 * `zablab ensemble` as users run it: the built CLI as a real process starting real,
 * detached zablab servers (run `npm run build` first).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pidRuns, poll, recordedPids, teardown, tempDir, zablab, zablabBuilt } from './support.js';

interface StatusJson {
  servers: { id: number; role: string; mode: string; zxid: string | null; epoch: number | null; pid: number | null; alive: boolean; clientPort: number }[];
}

interface EnsembleJson {
  adminTokenFile: string | null;
  peerSecurity: string;
  quorumSecretFile: string | null;
  servers: { id: number; role: string; host: string; clientPort: number; httpPort: number; quorumPort: number; electionPort: number; pid: number | null }[];
}

async function status(dir: string): Promise<StatusJson> {
  const r = await zablab(['ensemble', 'status', '--dir', dir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusJson;
}

function ensembleJson(dir: string): EnsembleJson {
  return JSON.parse(fs.readFileSync(path.join(dir, 'ensemble.json'), 'utf8')) as EnsembleJson;
}

function tempEnsembleDirs(): Set<string> {
  return new Set(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('zablab-ensemble-')));
}

describe.skipIf(!zablabBuilt())('zablab ensemble', () => {
  it('answers --help on every subcommand', async () => {
    for (const sub of ['up', 'status', 'down', 'kill', 'start']) {
      const r = await zablab(['ensemble', sub, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: zablab ensemble ${sub} `));
    }
    const r = await zablab(['ensemble', '--help']);
    expect(r.stdout).toContain('up ');
  });

  it('rejects bad arguments with exit code 2, naming what to fix, and leaves no temp directory', async () => {
    const before = tempEnsembleDirs();
    const cases: [string[], string][] = [
      [['up', '--voters', '0'], '--voters must be an integer from 1 to 32, got "0"'],
      [['up', '--voters', 'three'], '--voters must be an integer'],
      [['up', '--voters', '40'], '--voters must be an integer from 1 to 32'],
      [['up'], 'needs --voters'],
      [['up', '--voters', '3', '--observers', '-1'], '--observers'],
      [['up', '--voters', '3', '--set', 'clientPort=2181'], 'clientPort is set by the ensemble layout'],
      [['up', '--voters', '3', '--set', 'snapCount'], '"snapCount" is not key=value'],
      [['kill', '--dir', 'x'], 'exactly one of --leader or --id N'],
      [['kill', '--dir', 'x', '--leader', '--id', '1'], 'exactly one of --leader or --id N'],
      [['kill', '--dir', 'x', '--id', '1', '--signal', 'HUP'], 'signal must be one of KILL, TERM, STOP, CONT'],
      [['start', '--dir', 'x'], 'needs --id'],
      [['up', '--voters', '3', '--peer-security', 'open'], 'peer security must be one of secret, tls, none, got "open"'],
      [['up', '--voters', '3', '--set', 'quorum.auth.secretFile=/s'], 'quorum.auth.secretFile is set by the ensemble layout'],
      [['up', '--voters', '3', '--peer-security', 'tls', '--set', 'ssl.quorum.keyStore.location=/k.pem'], 'ssl.quorum.keyStore.location is set by the ensemble layout'],
      [['up', '--voters', '3', '--peer-security', 'secret', '--set', 'quorum.auth.enableSasl=false'], 'contradict each other'],
    ];
    for (const [args, message] of cases) {
      const r = await zablab(['ensemble', ...args]);
      expect(r.code, `zablab ensemble ${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect([...tempEnsembleDirs()].filter((d) => !before.has(d))).toEqual([]);
  }, 60_000);

  it('says to run `ensemble up` when DIR holds no ensemble', async () => {
    const dir = path.join(os.tmpdir(), `zablab-no-ensemble-${process.pid}`);
    for (const args of [['status'], ['down'], ['kill', '--leader'], ['start', '--id', '1']]) {
      const r = await zablab(['ensemble', ...args, '--dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${path.join(dir, 'ensemble.json')} not found: run \`zablab ensemble up --dir ${dir}\` first`);
    }
    expect(fs.existsSync(dir)).toBe(false);
  }, 30_000);

  describe('when a server cannot start', () => {
    let dir: string | undefined;
    afterAll(() => teardown(dir), 30_000);

    it('up prints which servers failed with their log, stops the rest and exits 1', async () => {
      dir = tempDir('zablab-ens-fail-');
      const r = await zablab(['ensemble', 'up', '--voters', '3', '--dir', dir, '--set', 'tickTime=abc', '--timeout-ms', '30000']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/servers? [\d, ]+ exited before serving/);
      expect(r.stderr).toContain('tickTime must be a positive integer');
      // Whichever server exits first ends the wait; its log tail is shown.
      expect(r.stderr).toMatch(new RegExp(`last lines of ${path.join(dir, 's[123]', 'server\\.log').replace(/\//g, '\\/')}`));
      expect(r.stderr).toContain('stopped the servers it started');
      expect(recordedPids(dir)).toEqual([]);
    }, 60_000);
  });

  describe('--peer-security tls', () => {
    let dir: string | undefined;
    afterAll(() => teardown(dir), 30_000);

    it('gives every server its certificate from a CA made for the ensemble; they serve; down --purge removes them', async () => {
      dir = tempDir('zablab-ens-tls-');
      const up = await zablab(['ensemble', 'up', '--voters', '3', '--dir', dir, '--peer-security', 'tls']);
      expect(up.code, up.stderr).toBe(0);
      expect(up.stdout).toContain(`peers:          mutual TLS with certificates in ${path.join(dir, 'peer-tls')}`);
      const j = ensembleJson(dir);
      expect([j.peerSecurity, j.quorumSecretFile]).toEqual(['tls', null]);
      const cfg = fs.readFileSync(path.join(dir, 's2', 'zoo.cfg'), 'utf8').split('\n');
      const keyStore = path.join(dir, 'peer-tls', 's2.pem');
      expect(cfg).toEqual(expect.arrayContaining(['sslQuorum=true', `ssl.quorum.keyStore.location=${keyStore}`, `ssl.quorum.trustStore.location=${path.join(dir, 'peer-tls', 's2-ca.pem')}`]));
      expect(cfg.some((l) => l.startsWith('quorum.auth.'))).toBe(false);
      expect(fs.statSync(keyStore).mode & 0o777).toBe(0o600);
      expect((await status(dir)).servers.map((s) => s.mode).sort()).toEqual(['follower', 'follower', 'leader']);
      expect(fs.readFileSync(path.join(dir, 's1', 'server.log'), 'utf8')).toMatch(/peer transport listening .*tls=true auth=off/);
      const r = await zablab(['ensemble', 'down', '--dir', dir, '--purge']);
      expect(r.code, r.stderr).toBe(0);
      expect(fs.existsSync(dir)).toBe(false);
    }, 90_000);
  });

  describe('a 3-voter, 1-observer ensemble', () => {
    let dir: string | undefined;
    const everyPid = new Set<number>();
    const remember = (): void => recordedPids(dir!).forEach((p) => everyPid.add(p));
    let up: Awaited<ReturnType<typeof zablab>>;
    const mark = `mark-${process.pid}-${Date.now()}`;

    beforeAll(async () => {
      dir = tempDir('zablab-ens-cli-');
      up = await zablab(['ensemble', 'up', '--voters', '3', '--observers', '1', '--dir', dir, '--set', 'snapCount=1000'], {
        ZABLAB_ENSEMBLE_TEST_MARK: mark,
      });
      remember();
    }, 90_000);

    afterAll(async () => {
      await teardown(dir);
      for (const pid of everyPid) expect(pidRuns(pid), `pid ${pid} survived teardown`).toBe(false);
    }, 60_000);

    it('up exits 0 and writes ensemble.json, zoo.cfg and myid for every server', () => {
      expect(up.code, up.stderr).toBe(0);
      const j = ensembleJson(dir!);
      expect(j.servers.map((s) => [s.id, s.role, s.host])).toEqual([
        [1, 'voter', '127.0.0.1'],
        [2, 'voter', '127.0.0.1'],
        [3, 'voter', '127.0.0.1'],
        [4, 'observer', '127.0.0.1'],
      ]);
      const ports = j.servers.flatMap((s) => [s.clientPort, s.httpPort, s.quorumPort, s.electionPort]);
      expect(new Set(ports).size).toBe(16);
      for (const s of j.servers) expect(pidRuns(s.pid!)).toBe(true);
      expect(up.stdout).toContain(`connect string: ${j.servers.map((s) => `127.0.0.1:${s.clientPort}`).join(',')}`);

      const obs = j.servers[3]!;
      const cfg = fs.readFileSync(path.join(dir!, 's4', 'zoo.cfg'), 'utf8').split('\n');
      expect(cfg).toContain(`dataDir=${path.join(dir!, 's4', 'data')}`);
      expect(cfg).toContain(`clientPort=${obs.clientPort}`);
      expect(cfg).toContain('clientPortAddress=127.0.0.1');
      expect(cfg).toContain(`admin.serverPort=${obs.httpPort}`);
      expect(cfg).toContain('4lw.commands.whitelist=srvr,mntr,conf,ruok,isro,envi,dirs,wchs');
      expect(cfg).toContain('peerType=observer');
      expect(cfg).toContain('snapCount=1000');
      expect(cfg).toContain(`server.4=127.0.0.1:${obs.quorumPort}:${obs.electionPort}:observer;127.0.0.1:${obs.clientPort}`);
      const s1 = j.servers[0]!;
      expect(cfg).toContain(`server.1=127.0.0.1:${s1.quorumPort}:${s1.electionPort};127.0.0.1:${s1.clientPort}`);
      expect(fs.readFileSync(path.join(dir!, 's4', 'data', 'myid'), 'utf8').trim()).toBe('4');

      // The HTTP face's token: one file for the ensemble, private, named in every zoo.cfg and in ensemble.json.
      const tokenFile = path.join(dir!, 'admin-token');
      expect(j.adminTokenFile).toBe(tokenFile);
      expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
      expect(cfg).toContain(`admin.tokenFile=${tokenFile}`);
      expect(up.stdout).toContain(`HTTP token:     ${tokenFile}`);

      // The peers' secret: one file for the ensemble, private, required both ways in every zoo.cfg.
      const secretFile = path.join(dir!, 'quorum-secret');
      expect([j.peerSecurity, j.quorumSecretFile]).toEqual(['secret', secretFile]);
      expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);
      for (const line of ['quorum.auth.enableSasl=true', 'quorum.auth.learnerRequireSasl=true', 'quorum.auth.serverRequireSasl=true', `quorum.auth.secretFile=${secretFile}`]) {
        expect(cfg).toContain(line);
      }
      expect(up.stdout).toContain(`peers:          authenticated with the secret in ${secretFile}`);
      const secret = fs.readFileSync(secretFile, 'utf8').trim();
      for (const s of j.servers) expect(fs.readFileSync(path.join(dir!, `s${s.id}`, 'server.log'), 'utf8')).not.toContain(secret);
    });

    it('the servers take the token in DIR/admin-token and refuse requests without it', async () => {
      const s = ensembleJson(dir!).servers[0]!;
      const token = fs.readFileSync(path.join(dir!, 'admin-token'), 'utf8').trim();
      const url = `http://127.0.0.1:${s.httpPort}/v1/children/`;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    });

    it.skipIf(process.platform !== 'linux')("passes up's environment to every server", () => {
      for (const pid of recordedPids(dir!)) {
        const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        expect(environ).toContain(`ZABLAB_ENSEMBLE_TEST_MARK=${mark}`);
      }
    });

    it('status shows one leader, two followers and one observer, the learners at one zxid', async () => {
      const st = await status(dir!);
      expect(st.servers.map((s) => s.mode).sort()).toEqual(['follower', 'follower', 'leader', 'observer']);
      // As in ZooKeeper, a leader reports <epoch, 0> before the epoch's first txn; learners report their last txn.
      const learners = st.servers.filter((s) => s.mode !== 'leader');
      expect(new Set(learners.map((s) => s.zxid)).size).toBe(1);
      const leader = st.servers.find((s) => s.mode === 'leader')!;
      expect(BigInt(leader.zxid!)).toBeGreaterThanOrEqual(BigInt(learners[0]!.zxid!));
      for (const s of st.servers) {
        expect(s.alive).toBe(true);
        expect(s.epoch).toBe(Number(BigInt(s.zxid!) >> 32n));
      }
      const table = await zablab(['ensemble', 'status', '--dir', dir!]);
      expect(table.stdout).toMatch(/^id +role +mode +zxid +epoch +pid +alive/);
      expect(table.stdout).toMatch(/\n4 +observer +observer /);
    }, 30_000);

    it('refuses a second up on the same directory, a server id that is not in the ensemble, and starting a running server', async () => {
      let r = await zablab(['ensemble', 'up', '--voters', '1', '--dir', dir!]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${dir} already holds an ensemble: \`zablab ensemble down --dir ${dir} --purge\` removes it`);
      r = await zablab(['ensemble', 'kill', '--dir', dir!, '--id', '9']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('server 9 is not a member of the ensemble');
      expect(r.stderr).toContain('ids: 1, 2, 3, 4');
      r = await zablab(['ensemble', 'start', '--dir', dir!, '--id', '9']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('server 9 is not a member of the ensemble');
      r = await zablab(['ensemble', 'start', '--dir', dir!, '--id', '1']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('server 1 already runs');
    }, 30_000);

    let killed: { id: number; pid: number };
    it('kill --leader kills the leader; status shows it down and a new leader appears', async () => {
      const leader = (await status(dir!)).servers.find((s) => s.mode === 'leader')!;
      const r = await zablab(['ensemble', 'kill', '--dir', dir!, '--leader']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`sent SIGKILL to server ${leader.id} (leader, pid ${leader.pid}); it has exited`);
      killed = { id: leader.id, pid: leader.pid! };
      expect(pidRuns(killed.pid)).toBe(false);
      const after = await poll('a new leader', async () => {
        const st = await status(dir!);
        return st.servers.some((s) => s.mode === 'leader') ? st : undefined;
      });
      expect(after.servers.find((s) => s.id === killed.id)).toMatchObject({ mode: 'down', pid: null, alive: false });
      expect(after.servers.find((s) => s.mode === 'leader')!.id).not.toBe(killed.id);
    }, 60_000);

    it('start --id brings the killed server back; it serves as a follower', async () => {
      const r = await zablab(['ensemble', 'start', '--dir', dir!, '--id', String(killed.id)]);
      remember();
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^server ${killed.id} \\(pid \\d+\\) serves again after [\\d.]+ s as follower`));
      const st = await status(dir!);
      const back = st.servers.find((s) => s.id === killed.id)!;
      expect(back).toMatchObject({ mode: 'follower', alive: true });
      expect(back.pid).not.toBe(killed.pid);
    }, 90_000);

    it('down stops every server and keeps the data; down --purge removes the directory', async () => {
      const pids = recordedPids(dir!);
      expect(pids).toHaveLength(4);
      let r = await zablab(['ensemble', 'down', '--dir', dir!]);
      expect(r.code, r.stderr).toBe(0);
      for (const pid of pids) expect(pidRuns(pid), `pid ${pid}`).toBe(false);
      expect(recordedPids(dir!)).toEqual([]);
      expect(fs.existsSync(path.join(dir!, 's2', 'data', 'myid'))).toBe(true);
      expect((await status(dir!)).servers.every((s) => s.mode === 'down')).toBe(true);
      r = await zablab(['ensemble', 'down', '--dir', dir!, '--purge']);
      expect(r.code, r.stderr).toBe(0);
      // The token goes too: nothing is left.
      expect(fs.existsSync(dir!)).toBe(false);
    }, 60_000);
  });
});
