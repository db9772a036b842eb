/** Every client operation against a real server: results, Stats and error codes. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  CREATOR_ALL_ACL,
  OPEN_ACL_UNSAFE,
  READ_ACL_UNSAFE,
  ZkError,
  ZkMultiError,
  digestId,
  type ZkClient,
} from '../../../src/client/index.js';
import { Code, CreateMode, Perms } from '../../../src/jute/index.js';
import type { ServerHandle } from '../../helpers/server-process.js';
import { ClientPool, startTarget, targetMissing, targetName, uniquePath, waitFor } from './target.js';

let server: ServerHandle;
const pool = new ClientPool();
let zk: ZkClient;

describe.skipIf(targetMissing() !== null)(`client operations against ${targetName}`, () => {
  beforeAll(async () => {
    server = await startTarget({ config: { extendedTypesEnabled: 'true' } });
    zk = await pool.open(server.connectString);
  });
  afterAll(async () => {
    await pool.closeAll();
    await server?.stop();
  });

  async function code(p: Promise<unknown>): Promise<number> {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err, 'the call should have failed').toBeInstanceOf(ZkError);
    return (err as ZkError).code;
  }

  describe('znodes', () => {
    test('create, getData, setData, exists and delete keep Stat as ZooKeeper defines it', async () => {
      const p = uniquePath('crud');
      const created = await zk.create(p, Buffer.from('v0'));
      expect(created.path).toBe(p);
      expect(created.stat).toMatchObject({ version: 0, dataLength: 2, numChildren: 0, ephemeralOwner: 0n });
      expect(created.stat.czxid).toBe(created.stat.mzxid);
      expect(zk.lastZxid).toBe(created.stat.czxid);

      const read = await zk.getData(p);
      expect(read.data).toEqual(Buffer.from('v0'));
      expect(read.stat).toEqual(created.stat);

      const set = await zk.setData(p, Buffer.from('value-1'), 0);
      expect(set).toMatchObject({ version: 1, dataLength: 7, czxid: created.stat.czxid });
      expect(set.mzxid > created.stat.mzxid).toBe(true);
      expect(await zk.exists(p)).toEqual(set);

      await zk.delete(p, 1);
      expect(await zk.exists(p)).toBeNull();
    });

    test('null data stays null, empty data stays empty', async () => {
      const a = uniquePath('null');
      const b = uniquePath('empty');
      await zk.create(a, null);
      await zk.create(b, Buffer.alloc(0));
      expect((await zk.getData(a)).data).toBeNull();
      expect((await zk.getData(b)).data).toEqual(Buffer.alloc(0));
    });

    test('sequential nodes get a 10-digit counter from the parent', async () => {
      const parent = uniquePath('seq');
      await zk.create(parent);
      const a = await zk.create(`${parent}/item-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      const b = await zk.create(`${parent}/item-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      expect(a.path).toBe(`${parent}/item-0000000000`);
      expect(b.path).toBe(`${parent}/item-0000000001`);
    });

    test('ephemeral nodes belong to the session and go when it closes', async () => {
      const other = await pool.open(server.connectString);
      const p = uniquePath('eph');
      const created = await other.create(p, null, { mode: CreateMode.EPHEMERAL });
      expect(created.stat.ephemeralOwner).toBe(other.sessionId);
      const seq = await other.create(`${p}-s-`, null, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
      expect((await other.getEphemerals()).sort()).toEqual([p, seq.path].sort());
      expect(await other.getEphemerals(`${p}-s`)).toEqual([seq.path]);
      expect(await code(other.create(`${p}/child`))).toBe(Code.NOCHILDRENFOREPHEMERALS);
      await other.close();
      expect(await zk.exists(p)).toBeNull();
      expect(await zk.exists(seq.path)).toBeNull();
    });

    test('container and TTL nodes are created with their own opcodes', async () => {
      const c = uniquePath('container');
      const container = await zk.create(c, null, { mode: CreateMode.CONTAINER });
      expect(container.path).toBe(c);
      expect(container.stat.ephemeralOwner).toBe(0n);
      const t = uniquePath('ttl');
      const ttl = await zk.create(t, Buffer.from('t'), { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 60_000n });
      expect(ttl.path).toBe(t);
      expect((await zk.getData(t)).data).toEqual(Buffer.from('t'));
      // A TTL mode without a TTL is refused before anything is sent.
      expect(await code(zk.create(uniquePath('nottl'), null, { mode: CreateMode.PERSISTENT_WITH_TTL }))).toBe(Code.BADARGUMENTS);
    });

    test('getChildren returns names and the parent Stat; getAllChildrenNumber counts all descendants', async () => {
      const p = uniquePath('kids');
      await zk.create(p);
      for (const k of ['a', 'b', 'c']) await zk.create(`${p}/${k}`);
      await zk.create(`${p}/a/deep`);
      const { children, stat } = await zk.getChildren(p);
      expect(children.sort()).toEqual(['a', 'b', 'c']);
      expect(stat.numChildren).toBe(3);
      expect(stat.cversion).toBe(3);
      expect(await zk.getAllChildrenNumber(p)).toBe(4);
    });

    test('sync completes for an existing path', async () => {
      const p = uniquePath('sync');
      await zk.create(p);
      await expect(zk.sync(p)).resolves.toBeUndefined();
    });
  });

  describe('error codes', () => {
    test('NONODE, NODEEXISTS, BADVERSION, NOTEMPTY carry the wire code and the path', async () => {
      const p = uniquePath('err');
      expect(await code(zk.getData(p))).toBe(Code.NONODE);
      expect(await code(zk.setData(p, null))).toBe(Code.NONODE);
      expect(await code(zk.delete(p))).toBe(Code.NONODE);
      expect(await code(zk.create(`${p}/orphan`))).toBe(Code.NONODE);
      await zk.create(p);
      const exists = await zk.create(p).catch((e: unknown) => e as ZkError);
      expect(exists).toMatchObject({ code: Code.NODEEXISTS, path: p });
      expect((exists as ZkError).message).toBe(`NODEEXISTS for ${p}`);
      expect(await code(zk.setData(p, null, 5))).toBe(Code.BADVERSION);
      expect(await code(zk.delete(p, 5))).toBe(Code.BADVERSION);
      await zk.create(`${p}/child`);
      expect(await code(zk.delete(p))).toBe(Code.NOTEMPTY);
    });

    test('malformed paths are BADARGUMENTS', async () => {
      expect(await code(zk.getData('relative'))).toBe(Code.BADARGUMENTS);
      expect(await code(zk.exists(''))).toBe(Code.BADARGUMENTS);
      // Refused by the server: a NUL character is never valid in a path.
      expect(await code(zk.create(`${uniquePath('nul')}\u0000x`))).toBe(Code.BADARGUMENTS);
    });
  });

  describe('ACLs and auth', () => {
    test('a digest ACL admits only the authenticated user; whoAmI reports the ids', async () => {
      const p = uniquePath('acl');
      const owner = await pool.open(server.connectString);
      await owner.addAuth('digest', Buffer.from('alice:secret'));
      expect(await owner.whoAmI()).toContainEqual({ authScheme: 'digest', user: 'alice' });
      await owner.create(p, Buffer.from('private'), { acl: CREATOR_ALL_ACL });
      const { acl, stat } = await owner.getACL(p);
      expect(acl).toEqual([{ perms: Perms.ALL, id: digestId('alice', 'secret') }]);
      expect(stat.aversion).toBe(0);

      const stranger = await pool.open(server.connectString);
      expect(await code(stranger.getData(p))).toBe(Code.NOAUTH);
      expect(await code(stranger.setData(p, null))).toBe(Code.NOAUTH);
      await stranger.addAuth('digest', Buffer.from('alice:wrong'));
      expect(await code(stranger.getData(p))).toBe(Code.NOAUTH);
      await stranger.addAuth('digest', Buffer.from('alice:secret'));
      expect((await stranger.getData(p)).data).toEqual(Buffer.from('private'));
    });

    test('setACL checks the ACL version and changes who may write', async () => {
      const p = uniquePath('setacl');
      await zk.create(p, null, { acl: OPEN_ACL_UNSAFE });
      expect(await code(zk.setACL(p, READ_ACL_UNSAFE, 3))).toBe(Code.BADVERSION);
      const stat = await zk.setACL(p, READ_ACL_UNSAFE, 0);
      expect(stat.aversion).toBe(1);
      expect((await zk.getACL(p)).acl).toEqual(READ_ACL_UNSAFE);
      expect(await code(zk.setData(p, Buffer.from('x')))).toBe(Code.NOAUTH);
      expect(await code(zk.create(uniquePath('badacl'), null, { acl: [] }))).toBe(Code.INVALIDACL);
    });

    test('an unknown auth scheme is refused with AUTHFAILED and the session survives', async () => {
      const c = await pool.open(server.connectString);
      const sessionId = c.sessionId;
      const states: string[] = [];
      c.on('state', (s) => states.push(s));
      expect(await code(c.addAuth('no-such-scheme', Buffer.from('x')))).toBe(Code.AUTHFAILED);
      // The server drops the connection after AUTHFAILED; the client comes back on the same session.
      await waitFor(() => states.join() === 'disconnected,connected', 'a reconnect');
      expect(c.sessionId).toBe(sessionId);
      const p = uniquePath('afterauthfail');
      await c.create(p, null, { mode: CreateMode.EPHEMERAL });
      expect((await zk.exists(p))?.ephemeralOwner).toBe(sessionId);
    });
  });

  describe('multi', () => {
    test('applies all ops and returns one result per op', async () => {
      const p = uniquePath('multi');
      await zk.create(p, Buffer.from('0'));
      const results = await zk.multi([
        { op: 'create', path: `${p}/a`, data: Buffer.from('a') },
        { op: 'create', path: `${p}/s-`, mode: CreateMode.PERSISTENT_SEQUENTIAL },
        { op: 'setData', path: p, data: Buffer.from('1'), version: 0 },
        { op: 'check', path: p, version: 1 },
        { op: 'delete', path: `${p}/a` },
      ]);
      expect(results.map((r) => r.op)).toEqual(['create', 'create', 'setData', 'check', 'delete']);
      expect(results[0]).toEqual({ op: 'create', path: `${p}/a`, stat: null });
      expect(results[1]).toMatchObject({ path: `${p}/s-0000000001` });
      expect(results[2]).toMatchObject({ op: 'setData', stat: { version: 1 } });
      expect((await zk.getChildren(p)).children).toEqual(['s-0000000001']);
    });

    test('a failing op rejects the whole multi with its code and applies nothing', async () => {
      const p = uniquePath('multifail');
      await zk.create(p);
      const err = (await zk
        .multi([
          { op: 'create', path: `${p}/a` },
          { op: 'check', path: p, version: 7 },
          { op: 'create', path: `${p}/b` },
        ])
        .catch((e: unknown) => e)) as ZkMultiError;
      expect(err).toBeInstanceOf(ZkMultiError);
      expect(err.code).toBe(Code.BADVERSION);
      expect(err.path).toBe(p);
      expect(err.results).toEqual([
        { op: 'error', err: Code.OK },
        { op: 'error', err: Code.BADVERSION },
        { op: 'error', err: Code.RUNTIMEINCONSISTENCY },
      ]);
      expect(await zk.exists(`${p}/a`)).toBeNull();
    });

    test('multiRead answers each read on its own', async () => {
      const p = uniquePath('mread');
      await zk.create(p, Buffer.from('d'));
      await zk.create(`${p}/k`);
      const results = await zk.multiRead([
        { op: 'getData', path: p },
        { op: 'getChildren', path: p },
        { op: 'getData', path: `${p}/missing` },
      ]);
      expect(results[0]).toMatchObject({ op: 'getData', data: Buffer.from('d') });
      expect(results[1]).toEqual({ op: 'getChildren', children: ['k'] });
      expect(results[2]).toEqual({ op: 'error', err: Code.NONODE });
    });
  });

  describe('pipelining and chroot', () => {
    test('5,000 pipelined getData calls all come back, each with its own node', async () => {
      const p = uniquePath('pipe');
      await zk.create(p);
      const names = Array.from({ length: 50 }, (_, i) => `${p}/n${i}`);
      await Promise.all(names.map((n, i) => zk.create(n, Buffer.from(String(i)))));
      const c = await pool.open(server.connectString, { maxInFlight: 500 });
      const calls = Array.from({ length: 5_000 }, (_, i) => c.getData(names[i % 50]!));
      expect(c.inFlightCount).toBe(500);
      expect(c.queuedCount).toBe(4_500);
      const results = await Promise.all(calls);
      results.forEach((r, i) => expect(r.data?.toString()).toBe(String(i % 50)));
      expect(c.inFlightCount).toBe(0);
    });

    test('a chroot is invisible to the caller', async () => {
      const root = uniquePath('chroot');
      await zk.create(root);
      const c = await pool.open(server.connectString + root);
      const made = await c.create('/x', Buffer.from('in'), { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
      expect(made.path).toBe('/x0000000000');
      expect((await zk.getData(`${root}/x0000000000`)).data).toEqual(Buffer.from('in'));
      expect((await c.getChildren('/')).children).toEqual(['x0000000000']);
      expect(await c.getEphemerals()).toEqual(['/x0000000000']);
      const [res] = await c.multi([{ op: 'create', path: '/m' }]);
      expect(res).toEqual({ op: 'create', path: '/m', stat: null });
    });
  });
});
