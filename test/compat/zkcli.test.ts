/**
 * Apache's own command-line client, zkCli.sh (the Java client), against Apache ZooKeeper and
 * against zablab: create/get/set/ls/stat/delete/deleteall, parsed from what it prints.
 * Java starts slowly, so each server gets five invocations, most of them scripts on stdin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zookeeperAvailable } from '../helpers/zookeeper.js';
import { compatLegs, type ServerHandle } from './legs.js';
import { zkCli, zkCliPath } from './zkcli.js';

/** The stat blocks zkCli prints (`cZxid = 0x..` ... `numChildren = N`), in order. */
function statBlocks(lines: string[]): Record<string, string>[] {
  const blocks: Record<string, string>[] = [];
  for (const line of lines) {
    const m = /^(\w+) = (.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'cZxid') blocks.push({});
    const block = blocks[blocks.length - 1];
    if (block) block[m[1]!] = m[2]!;
  }
  return blocks;
}

const STAT_KEYS = [
  'cZxid',
  'ctime',
  'mZxid',
  'mtime',
  'pZxid',
  'cversion',
  'dataVersion',
  'aclVersion',
  'ephemeralOwner',
  'dataLength',
  'numChildren',
];

function expectWellFormedStat(stat: Record<string, string> | undefined): Record<string, string> {
  expect(stat).toBeDefined();
  const s = stat!;
  expect(Object.keys(s)).toEqual(STAT_KEYS);
  for (const k of ['cZxid', 'mZxid', 'pZxid', 'ephemeralOwner']) expect(s[k]).toMatch(/^0x[0-9a-f]+$/);
  for (const k of ['cversion', 'dataVersion', 'aclVersion', 'dataLength', 'numChildren']) expect(s[k]).toMatch(/^-?\d+$/);
  for (const k of ['ctime', 'mtime']) {
    // Java's Date.toString(): the server's ms-since-epoch shown as a date; it must be about now.
    const t = Date.parse(s[k]!);
    expect(Number.isNaN(t)).toBe(false);
    expect(Math.abs(t - Date.now())).toBeLessThan(24 * 3600 * 1000);
  }
  return s;
}

const hex = (s: string | undefined): bigint => BigInt(s ?? 'x');

function zkCliSuite(cli: string, start: () => Promise<ServerHandle>): void {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('runs create/ls/set/get -s/stat/delete from a script and prints what ZooKeeper prints', async () => {
    const run = await zkCli(
      cli,
      server.connectString,
      [],
      [
        'create /cli',
        'create /cli/a alpha',
        'create -s /cli/s- seqdata',
        'create -e /cli/e eph',
        'ls /cli',
        'set /cli/a beta',
        'get -s /cli/a',
        'stat /cli',
        'delete /cli',
        'set -v 7 /cli/a gamma',
        'delete -v 9 /cli/a',
        'create /cli/a again',
        'ls -R /cli',
        'get /cli/none',
      ].join('\n'),
    );
    const lines = run.lines;
    expect(lines.slice(0, 5)).toEqual(['Created /cli', 'Created /cli/a', 'Created /cli/s-0000000001', 'Created /cli/e', '[a, e, s-0000000001]']);
    expect(lines[5]).toBe('beta');
    const [a, cliStat] = statBlocks(lines);
    const aStat = expectWellFormedStat(a);
    expect(aStat).toMatchObject({ dataVersion: '1', dataLength: '4', numChildren: '0', ephemeralOwner: '0x0', cversion: '0' });
    expect(hex(aStat['mZxid'])).toBeGreaterThan(hex(aStat['cZxid']));
    expect(Date.parse(aStat['mtime']!)).toBeGreaterThanOrEqual(Date.parse(aStat['ctime']!));
    const dirStat = expectWellFormedStat(cliStat);
    expect(dirStat).toMatchObject({ dataVersion: '0', dataLength: '0', numChildren: '3', cversion: '3' });
    expect(hex(dirStat['pZxid'])).toBeGreaterThan(hex(aStat['cZxid']));
    expect(hex(dirStat['cZxid'])).toBeLessThan(hex(aStat['cZxid']));
    const rest = lines.slice(5 + 1 + 2 * STAT_KEYS.length);
    expect(rest).toEqual([
      'Node not empty: /cli',
      'version No is not valid : /cli/a',
      'version No is not valid : /cli/a',
      'Node already exists: /cli/a',
      '/cli',
      '/cli/a',
      '/cli/e',
      '/cli/s-0000000001',
      'Node does not exist: /cli/none',
    ]);
    // The last command failed: the script's exit code says so.
    expect(run.code).toBe(1);
  });

  it("shows the script session's ephemeral gone and the data it set", async () => {
    const run = await zkCli(cli, server.connectString, [], ['ls /cli', 'get /cli/a', 'get -s /cli/s-0000000001'].join('\n'));
    expect(run.lines.slice(0, 3)).toEqual(['[a, s-0000000001]', 'beta', 'seqdata']);
    expect(expectWellFormedStat(statBlocks(run.lines)[0])).toMatchObject({ dataLength: '7', dataVersion: '0' });
    expect(run.code).toBe(0);
  });

  it('exits non-zero with a message for a missing node', async () => {
    const run = await zkCli(cli, server.connectString, ['get', '/cli/none']);
    expect(run.lines).toEqual(['Node does not exist: /cli/none']);
    expect(run.code).toBe(1);
  });

  it('deletes a subtree with deleteall', async () => {
    const del = await zkCli(cli, server.connectString, ['deleteall', '/cli']);
    expect(del.lines).toEqual([]);
    expect(del.code).toBe(0);
    const after = await zkCli(cli, server.connectString, [], ['ls /', 'stat /cli'].join('\n'));
    expect(after.lines[0]).toMatch(/^\[.*\]$/);
    expect(after.lines[0]).not.toContain('cli');
    expect(after.lines[0]).toContain('zookeeper');
    expect(after.lines.slice(1)).toEqual(['Node does not exist: /cli']);
  });
}

// zkCli.sh is Apache ZooKeeper's: it needs the same install (and Java) as the zookeeper leg.
const cli = zookeeperAvailable() ? zkCliPath() : null;
describe.each(compatLegs({}).map((leg) => [leg.name, leg] as const))('zkCli.sh against %s', (name, { available, start }) => {
  if (cli === null || !available) {
    it.skip(`${cli === null ? 'zkCli.sh (Apache ZooKeeper)' : name} is not installed on this machine`, () => undefined);
    return;
  }
  zkCliSuite(cli, start);
});
