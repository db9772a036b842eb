/**
 * The runner's lost-acknowledged-writes check on a real 3-voter zablab ensemble (and a one-server one): acknowledged
 * creates survive a leader kill and restart and are found on every server; a znode removed
 * behind the writers' back is reported lost (the check can fail).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../../src/client/index.js';
import { localDriver, type EnsembleHandle } from '../../../src/harness/drivers/index.js';
import { zablabCliPath } from '../../../src/harness/ensemble/index.js';
import { ACKED_ROOT, AckedWriters, waitInSync } from '../../../src/harness/measure/acked-writes.js';

const built = fs.existsSync(zablabCliPath());

describe.skipIf(!built)('acknowledged writes (real processes)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-acked-'));
  let h: EnsembleHandle | null = null;
  afterAll(async () => {
    await h?.down().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds every acknowledged create on every server after a leader kill, and reports one that is gone', async () => {
    h = await localDriver().up({ voters: 3, observers: 0, config: { tickTime: '500' }, dir: path.join(dir, 'ensemble') });
    const writers = new AckedWriters(h, `${ACKED_ROOT}/t`);
    await writers.open();
    writers.start();
    await sleep(500);
    const leader = (await h.leader())!;
    await h.kill(leader);
    await sleep(500);
    await h.restart(leader);
    await sleep(300);
    await writers.stop();
    const ok = await writers.check(30_000);
    expect(ok.error).toBeNull();
    expect(ok.writes).toBeGreaterThan(20);
    expect(ok.lost).toBe(0);
    expect(ok.servers.map((s) => s.serverId).sort()).toEqual([1, 2, 3]);
    expect(ok.servers.every((s) => s.checked === ok.writes)).toBe(true);

    // Remove one acknowledged znode: every server must now miss it.
    const c = await ZkClient.connect({ connectString: h.connectString() });
    const [first] = (await c.getChildren(`${ACKED_ROOT}/t/w0`)).children.sort();
    await c.delete(`${ACKED_ROOT}/t/w0/${first!}`);
    await c.close();
    const lost = await writers.check(30_000);
    expect(lost.lost).toBe(1);
    expect(lost.servers.every((s) => s.missingSamples[0] === `${ACKED_ROOT}/t/w0/${first!}`)).toBe(true);
  }, 90_000);

  it('checks a one-server ensemble (it leads as standalone) at once, after its restart', async () => {
    await h?.down();
    h = await localDriver().up({ voters: 1, observers: 0, config: {}, dir: path.join(dir, 'one') });
    const writers = new AckedWriters(h, `${ACKED_ROOT}/one`);
    await writers.open();
    writers.start();
    await sleep(300);
    await h.kill(1);
    await h.restart(1);
    await sleep(300);
    await writers.stop();
    // It used to wait for a 'leader' that a standalone server never reports, until the timeout.
    expect((await waitInSync(h, 10_000)).map((m) => m.id)).toEqual([1]);
    const ok = await writers.check(10_000);
    expect(ok.error).toBeNull();
    expect(ok.lost).toBe(0);
    expect(ok.writes).toBeGreaterThan(5);
  }, 60_000);
});
