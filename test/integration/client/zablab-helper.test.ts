import fs from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { startZablab, zablabBuilt } from '../../helpers/zablab.js';

if (!zablabBuilt()) console.warn('SKIPPED zablab helper test: run `npm run build` first');

describe.skipIf(!zablabBuilt())('zablab helper', () => {
  test('starts `zablab server` as a process that grants sessions, logs to server.log, and stops', async () => {
    const server = await startZablab();
    try {
      expect(fs.readFileSync(`${server.dataDir}/zoo.cfg`, 'utf8')).toContain(`clientPort=${server.port}`);
      expect(fs.existsSync(`${server.dataDir}/server.log`)).toBe(true);
      const c = await ZkClient.connect({ connectString: server.connectString });
      const made = await c.create('/hello', Buffer.from('zablab'));
      expect(made.path).toBe('/hello');
      expect((await c.getData('/hello')).data).toEqual(Buffer.from('zablab'));
      await c.close();
    } finally {
      await server.stop();
    }
    expect(fs.existsSync(server.dataDir)).toBe(false);
  });
});
