/**
 * A member of an ensemble fails closed on its peer credentials (real `zablab server`
 * processes): a switch without what it needs, a secret or key file that is missing, short or
 * readable by every user, or a quorum security key zablab does not implement stops it before
 * it binds a peer port, with one line that names the zoo.cfg line and key.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, writeStores } from '../../src/harness/tls/index.js';
import { connectionRefused, freePorts } from '../helpers/ports.js';
import { runZablabServer, ZABLAB_CLI, zablabBuilt } from '../helpers/zablab.js';

describe.skipIf(!zablabBuilt())('`zablab server` refuses to start on bad peer credentials', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-peercred-'));
  const secret = path.join(dir, 'quorum-secret');
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs member 1 of a 3-voter ensemble whose zoo.cfg ends with `lines` (from line 8); resolves when it exits. */
  async function serve(lines: string[]): Promise<{ code: number | null; stderr: string; quorumPort: number }> {
    const [clientPort, adminPort, q1, e1, q2, e2, q3, e3] = (await freePorts(8)) as number[];
    const data = path.join(dir, 'data');
    fs.mkdirSync(data, { recursive: true });
    fs.writeFileSync(path.join(data, 'myid'), '1\n');
    const cfg = path.join(dir, 'zoo.cfg');
    const base = [
      `dataDir=${data}`,
      'initLimit=10',
      'syncLimit=5',
      `server.1=127.0.0.1:${q1}:${e1};127.0.0.1:${clientPort}`,
      `server.2=127.0.0.1:${q2}:${e2}`,
      `server.3=127.0.0.1:${q3}:${e3}`,
      `admin.serverPort=${adminPort}`,
    ];
    fs.writeFileSync(cfg, [...base, ...lines].join('\n') + '\n');
    return { ...(await runZablabServer(cfg)), quorumPort: q1! };
  }


  function writeSecret(text: string, mode: number): void {
    fs.rmSync(secret, { force: true, recursive: true });
    fs.writeFileSync(secret, text, { mode });
    fs.chmodSync(secret, mode);
  }

  it('quorum.auth: no secret file, a missing, world-readable or short one: exit 1 naming the line and key', async () => {
    const auth = ['quorum.auth.enableSasl=true', 'quorum.auth.learnerRequireSasl=true', 'quorum.auth.serverRequireSasl=true'];
    const cases: [() => string[], string][] = [
      [() => auth, 'zoo.cfg line 8: quorum.auth.enableSasl is true, but quorum.auth.secretFile is not set'],
      [
        () => {
          fs.rmSync(secret, { force: true });
          return [...auth, `quorum.auth.secretFile=${secret}`];
        },
        `zoo.cfg line 11: quorum.auth.secretFile names ${secret}, which does not exist; create it (mode 600)`,
      ],
      [
        () => {
          writeSecret('a long enough ensemble secret\n', 0o644);
          return [...auth, `quorum.auth.secretFile=${secret}`];
        },
        `zoo.cfg line 11: quorum.auth.secretFile names ${secret}, which every user can read (mode 644); chmod 600 ${secret}`,
      ],
      [
        () => {
          writeSecret('short\n', 0o600);
          return [...auth, `quorum.auth.secretFile=${secret}`];
        },
        `zoo.cfg line 11: quorum.auth.secretFile names ${secret}, whose secret has 5 characters; use at least 16`,
      ],
    ];
    for (const [prepare, message] of cases) {
      const r = await serve(prepare());
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toContain('a long enough ensemble secret');
      expect(await connectionRefused(r.quorumPort)).toBe(true);
    }
  }, 120_000);

  it('sslQuorum: no stores, an unreadable trust store, or an unimplemented ssl.quorum key: exit 1 naming the line and key', async () => {
    const ca = await createCertificateAuthority();
    const stores = writeStores(dir, 's1', await ca.issueServer({ hosts: ['127.0.0.1'] }), ca);
    const emptyCa = path.join(dir, 'empty-ca.pem');
    fs.writeFileSync(emptyCa, '');
    const cases: [string[], string][] = [
      [['sslQuorum=true'], 'zoo.cfg line 8: sslQuorum is true, but ssl.quorum.keyStore.location is not set'],
      [['sslQuorum=true', `ssl.quorum.keyStore.location=${stores.keyStore}`], 'zoo.cfg line 8: sslQuorum is true, but ssl.quorum.trustStore.location is not set'],
      [
        ['sslQuorum=true', `ssl.quorum.keyStore.location=${stores.keyStore}`, `ssl.quorum.trustStore.location=${emptyCa}`],
        `zoo.cfg line 10: ssl.quorum.trustStore.location names ${emptyCa}, which holds no PEM certificate`,
      ],
      [['ssl.quorum.ciphersuites=TLS_AES_128_GCM_SHA256'], 'zoo.cfg line 8: ssl.quorum.ciphersuites is not supported'],
      [['quorum.auth.server.saslLoginContext=QuorumServer'], 'zoo.cfg line 8: quorum.auth.server.saslLoginContext is not supported'],
    ];
    for (const [lines, message] of cases) {
      const r = await serve(lines);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(message);
      expect(await connectionRefused(r.quorumPort)).toBe(true);
    }
  }, 120_000);
});
