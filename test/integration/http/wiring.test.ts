/** How the HTTP face is started with a server: only when enabled, and never silently missing. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionRefused, freePorts } from '../../helpers/ports.js';
import { runZablabServer, ZABLAB_CLI, zablabBuilt } from '../../helpers/zablab.js';
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
});
