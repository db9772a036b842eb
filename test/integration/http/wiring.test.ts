/** How the HTTP face is started with a server: only when enabled, and never silently missing. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionRefused, freePorts } from '../../helpers/ports.js';
import { runZablabServer, ZABLAB_CLI, zablabBuilt } from '../../helpers/zablab.js';
import { writeRandomSecret } from '../../../src/harness/ensemble/secret-file.js';
import { startStandaloneHttp } from './harness.js';


describe('HTTP face wiring', () => {
  it('does not listen when admin.enableServer=false', async () => {
    const t = await startStandaloneHttp({ 'admin.enableServer': 'false' });
    try {
      expect(await connectionRefused(t.adminPort)).toBe(true);
    } finally {
      await t.stop();
    }
  });

  it('stops listening when the server closes', async () => {
    const t = await startStandaloneHttp();
    expect((await fetch(`${t.base}/healthz`)).status).toBe(200);
    await t.stop();
    expect(await connectionRefused(t.adminPort)).toBe(true);
  });

  it.skipIf(!zablabBuilt())('`zablab server` exits with a clear error when admin.serverPort is taken', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-http-port-'));
    const [clientPort, adminPort] = (await freePorts(2)) as [number, number];
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(adminPort, '127.0.0.1', resolve));
    try {
      const cfg = path.join(dir, 'zoo.cfg');
      fs.writeFileSync(cfg, `tickTime=2000\ndataDir=${dir}\nclientPort=${clientPort}\nclientPortAddress=127.0.0.1\nadmin.serverPort=${adminPort}\n`);
      const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile(process.execPath, [ZABLAB_CLI, 'server', '--config', cfg], { timeout: 30_000 }, (err, _out, stderr) =>
          resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stderr }),
        );
      });
      expect(code).toBe(1);
      expect(stderr).toContain(`cannot listen on 127.0.0.1:${adminPort} (EADDRINUSE); choose another admin.serverPort or set admin.enableServer=false`);
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // A quorum server starts electing while its HTTP face starts; when that fails it must still stop.
  it.skipIf(!zablabBuilt())('a quorum `zablab server` exits with the same clear error when admin.serverPort is taken', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-http-port-q-'));
    const [clientPort, adminPort, q1, e1, q2, e2, c2] = (await freePorts(7)) as [number, number, number, number, number, number, number];
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(adminPort, '127.0.0.1', resolve));
    try {
      const secret = path.join(dir, 'quorum-secret');
      writeRandomSecret(secret);
      fs.writeFileSync(path.join(dir, 'myid'), '1\n');
      const cfg = path.join(dir, 'zoo.cfg');
      fs.writeFileSync(
        cfg,
        [
          'tickTime=2000',
          'initLimit=10',
          'syncLimit=5',
          `dataDir=${dir}`,
          `clientPort=${clientPort}`,
          'clientPortAddress=127.0.0.1',
          `admin.serverPort=${adminPort}`,
          'admin.serverAddress=127.0.0.1',
          'quorum.auth.enableSasl=true',
          'quorum.auth.learnerRequireSasl=true',
          'quorum.auth.serverRequireSasl=true',
          `quorum.auth.secretFile=${secret}`,
          `server.1=127.0.0.1:${q1}:${e1};127.0.0.1:${clientPort}`,
          `server.2=127.0.0.1:${q2}:${e2};127.0.0.1:${c2}`,
          '',
        ].join('\n'),
      );
      const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile(process.execPath, [ZABLAB_CLI, 'server', '--config', cfg], { timeout: 30_000 }, (err, _out, stderr) =>
          resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stderr }),
        );
      });
      expect(code).toBe(1);
      expect(stderr).toContain(`cannot listen on 127.0.0.1:${adminPort} (EADDRINUSE); choose another admin.serverPort or set admin.enableServer=false`);
      expect(await connectionRefused(clientPort)).toBe(true);
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
