/**
 * zablab's txn log stays readable by Apache ZooKeeper: ZooKeeper's own TxnLogToolkit dumps
 * the files zablab writes — across batches, each ending with zablab's end marker (a
 * zero-length record, which ZooKeeper reads as the end of the file), and across files.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findZooKeeper, javaAvailable } from '../../src/harness/drivers/zookeeper.js';
import { FileTxnLog } from '../../src/storage/index.js';
import { makeTxn, range } from '../unit/storage/fixtures.js';

const install = findZooKeeper();
const available = install.ok && javaAvailable();

describe.skipIf(!available && process.env['CI'] === undefined)("ZooKeeper's TxnLogToolkit reads zablab's txn log", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-zkfmt-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function dump(file: string): string {
    const classpath = (install as { classpath: string[] }).classpath.join(path.delimiter);
    return execFileSync('java', ['-cp', classpath, 'org.apache.zookeeper.server.persistence.TxnLogToolkit', '--dump', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  }

  it('every txn of every batch, through the end markers, in each file', async () => {
    expect(available, 'CI installs Java and Debian\'s zookeeper package').toBe(true);
    const log = await FileTxnLog.open({ dir, preAllocSize: 64 * 1024, log: () => undefined });
    for (const batch of [range(1n, 3n), range(4n, 9n), range(10n, 10n)]) {
      for (const z of batch) log.append(makeTxn(z));
      await log.commit();
    }
    log.rollLog();
    for (const z of range(11n, 14n)) log.append(makeTxn(z));
    await log.commit();
    await log.close();
    const first = dump(path.join(dir, 'log.1'));
    expect(first).toContain('EOF reached after 10 txns');
    for (const z of range(1n, 10n)) expect(first).toContain(`zxid 0x${z.toString(16)} `);
    expect(dump(path.join(dir, 'log.b'))).toContain('EOF reached after 4 txns');
  });
});
