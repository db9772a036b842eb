/**
 * node-zookeeper-client, unmodified, against Apache ZooKeeper and against zablab: the same
 * assertions must hold for both. Every op the client offers, its error codes, watches,
 * sessions (timeout negotiation, close, expiry) and pipelining.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { compatLegs, waitUntil, type ServerHandle } from './legs.js';
import { connectZk, digestId, errorCodeOf, MultiError, nzk, type NzkEvent, type Watcher, type ZkSession } from './nzk.js';

const { Exception: E, Event: Ev, CreateMode: Mode, Permission: Perm, ACL, Id } = nzk;

const MIN_SESSION_TIMEOUT_MS = 1_000;
const MAX_SESSION_TIMEOUT_MS = 6_000;
/** Small ticks so that session expiry is observable in about a second. */
const CONFIG = {
  tickTime: '500',
  minSessionTimeout: String(MIN_SESSION_TIMEOUT_MS),
  maxSessionTimeout: String(MAX_SESSION_TIMEOUT_MS),
};

/** Records the events a one-shot watcher receives. */
class WatchRecorder {
  readonly events: NzkEvent[] = [];
  readonly watcher: Watcher = (event) => {
    this.events.push(event);
  };
  get kinds(): string[] {
    return this.events.map((e) => `${e.name}@${e.path}`);
  }
  waitFor(count: number): Promise<void> {
    return waitUntil(() => this.events.length >= count, `${count} watch event(s); got ${this.kinds.join(', ')}`);
  }
}

const seqName = (prefix: string, n: number): string => `${prefix}${String(n).padStart(10, '0')}`;

function nodeZookeeperClientSuite(start: () => Promise<ServerHandle>): void {
  let server: ServerHandle;
  const open: ZkSession[] = [];
  let testNo = 0;

  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  async function client(sessionTimeoutMs?: number): Promise<ZkSession> {
    const c = await connectZk(server.connectString, sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs });
    open.push(c);
    return c;
  }

  /** A fresh, empty persistent node for one test. */
  async function base(c: ZkSession): Promise<string> {
    testNo += 1;
    return c.create(`/nzk-${testNo}`);
  }

  it('negotiates the session timeout within min/maxSessionTimeout', async () => {
    const low = await client(100);
    const high = await client(600_000);
    const mid = await client(3_000);
    expect(low.sessionTimeoutMs).toBe(MIN_SESSION_TIMEOUT_MS);
    expect(high.sessionTimeoutMs).toBe(MAX_SESSION_TIMEOUT_MS);
    expect(mid.sessionTimeoutMs).toBe(3_000);
    expect(new Set([low.sessionId, high.sessionId, mid.sessionId]).size).toBe(3);
  });

  it('creates persistent and ephemeral nodes with the data and stat a client expects', async () => {
    const c = await client();
    const b = await base(c);
    const before = BigInt(Date.now());
    expect(await c.create(`${b}/p`, Buffer.from('hello'))).toBe(`${b}/p`);
    expect(await c.create(`${b}/e`, Buffer.from('eph'), { mode: Mode.EPHEMERAL })).toBe(`${b}/e`);
    expect(await c.create(`${b}/nodata`)).toBe(`${b}/nodata`);
    expect(await c.create(`${b}/empty`, Buffer.alloc(0))).toBe(`${b}/empty`);

    const p = await c.getData(`${b}/p`);
    expect(p.data?.toString()).toBe('hello');
    expect(p.stat).toMatchObject({ version: 0, cversion: 0, aversion: 0, dataLength: 5, numChildren: 0, ephemeralOwner: 0n });
    expect(p.stat.mzxid).toBe(p.stat.czxid);
    expect(p.stat.pzxid).toBe(p.stat.czxid);
    expect(p.stat.czxid).toBeGreaterThan(0n);
    expect(p.stat.ctime).toBe(p.stat.mtime);
    expect(p.stat.ctime).toBeGreaterThanOrEqual(before - 60_000n);
    expect(p.stat.ctime).toBeLessThanOrEqual(BigInt(Date.now()) + 60_000n);

    const e = await c.getData(`${b}/e`);
    expect(e.stat.ephemeralOwner).toBe(c.sessionId);
    expect(e.stat.czxid).toBeGreaterThan(p.stat.czxid);

    // No data and empty data differ on the wire: null comes back as null, as in ZooKeeper.
    expect((await c.getData(`${b}/nodata`)).data ?? null).toBeNull();
    expect((await c.getData(`${b}/nodata`)).stat.dataLength).toBe(0);
    expect((await c.getData(`${b}/empty`)).data).toEqual(Buffer.alloc(0));

    const parent = await c.exists(b);
    expect(parent).toMatchObject({ numChildren: 4, cversion: 4 });
  });

  it("names sequential nodes with a 10-digit suffix: the parent's count of child creations", async () => {
    const c = await client();
    const b = await base(c);
    expect(await c.create(`${b}/n-`, null, { mode: Mode.PERSISTENT_SEQUENTIAL })).toBe(seqName(`${b}/n-`, 0));
    await c.create(`${b}/plain`);
    await c.remove(`${b}/plain`);
    // ZooKeeper keeps cversion as the number of child creates; clients are shown
    // 2 * creates - numChildren (creates + deletes). The suffix is the number of creates.
    const parent = await c.exists(b);
    expect(parent).toMatchObject({ cversion: 3, numChildren: 1 });
    const creates = ((parent?.cversion ?? 0) + (parent?.numChildren ?? 0)) / 2;
    expect(creates).toBe(2);
    const eph = await c.create(`${b}/e-`, Buffer.from('x'), { mode: Mode.EPHEMERAL_SEQUENTIAL });
    expect(eph).toBe(seqName(`${b}/e-`, 2));
    expect((await c.getData(eph)).stat.ephemeralOwner).toBe(c.sessionId);
    expect(await c.create(`${b}/n-`, null, { mode: Mode.PERSISTENT_SEQUENTIAL })).toBe(seqName(`${b}/n-`, 3));
    // Counters are per parent.
    const other = await base(c);
    expect(await c.create(`${other}/x`, null, { mode: Mode.PERSISTENT_SEQUENTIAL })).toBe(seqName(`${other}/x`, 0));
    const { children, stat } = await c.getChildren(b);
    expect(children.sort()).toEqual(['e-0000000002', 'n-0000000000', 'n-0000000003']);
    expect(stat.cversion).toBe(5);
  });

  it('refuses create modes the server does not offer: TTL (disabled, as by default) and unknown flags', async () => {
    const c = await client();
    const b = await base(c);
    // node-zookeeper-client has no createTTL or createContainer; it sends flags as given.
    expect(await errorCodeOf(c.create(`${b}/ttl`, null, { mode: 5 }))).toBe(E.UNIMPLEMENTED);
    expect(await errorCodeOf(c.create(`${b}/bad`, null, { mode: 7 }))).toBe(E.BAD_ARGUMENTS);
    expect(await c.exists(`${b}/ttl`)).toBeNull();
  });

  it('answers exists with a stat or null', async () => {
    const c = await client();
    const b = await base(c);
    await c.create(`${b}/x`, Buffer.from('abc'));
    expect(await c.exists(`${b}/x`)).toMatchObject({ dataLength: 3, version: 0 });
    expect(await c.exists(`${b}/missing`)).toBeNull();
    expect(await c.exists(`${b}/missing/deeper`)).toBeNull();
    expect((await c.exists('/'))?.numChildren).toBeGreaterThanOrEqual(2); // /zookeeper and ours
  });

  it('sets data with version checks and bumps version and mzxid', async () => {
    const c = await client();
    const b = await base(c);
    await c.create(`${b}/v`, Buffer.from('v0'));
    const s1 = await c.setData(`${b}/v`, Buffer.from('v1'), 0);
    expect(s1.version).toBe(1);
    expect(s1.dataLength).toBe(2);
    expect(s1.mzxid).toBeGreaterThan(s1.czxid);
    expect(s1.mtime).toBeGreaterThanOrEqual(s1.ctime);
    expect(await errorCodeOf(c.setData(`${b}/v`, Buffer.from('stale'), 0))).toBe(E.BAD_VERSION);
    const s2 = await c.setData(`${b}/v`, Buffer.from('v2-longer'), -1);
    expect(s2.version).toBe(2);
    const got = await c.getData(`${b}/v`);
    expect(got.data?.toString()).toBe('v2-longer');
    expect(got.stat).toEqual(s2);
    expect(await errorCodeOf(c.setData(`${b}/missing`, Buffer.from('x')))).toBe(E.NO_NODE);
  });

  it('lists children with the parent stat', async () => {
    const c = await client();
    const b = await base(c);
    for (const name of ['c', 'a', 'b']) await c.create(`${b}/${name}`);
    const last = await c.exists(`${b}/b`);
    const { children, stat } = await c.getChildren(b);
    expect([...children].sort()).toEqual(['a', 'b', 'c']);
    expect(stat).toMatchObject({ numChildren: 3, cversion: 3, version: 0 });
    expect(stat.pzxid).toBe(last?.czxid);
    expect((await c.getChildren(`${b}/a`)).children).toEqual([]);
    expect(await errorCodeOf(c.getChildren(`${b}/missing`))).toBe(E.NO_NODE);
  });

  it('deletes with version checks and refuses non-empty and missing nodes', async () => {
    const c = await client();
    const b = await base(c);
    await c.create(`${b}/d`);
    await c.setData(`${b}/d`, Buffer.from('x'));
    expect(await errorCodeOf(c.remove(`${b}/d`, 0))).toBe(E.BAD_VERSION);
    await c.remove(`${b}/d`, 1);
    expect(await c.exists(`${b}/d`)).toBeNull();
    await c.create(`${b}/full`);
    await c.create(`${b}/full/child`);
    expect(await errorCodeOf(c.remove(`${b}/full`))).toBe(E.NOT_EMPTY);
    expect(await errorCodeOf(c.remove(`${b}/missing`))).toBe(E.NO_NODE);
    const before = await c.exists(b);
    await c.remove(`${b}/full/child`);
    await c.remove(`${b}/full`);
    const after = await c.exists(b);
    expect(after?.numChildren).toBe(0);
    expect(after?.cversion).toBe((before?.cversion ?? 0) + 1);
    expect(after?.pzxid).toBeGreaterThan(before?.pzxid ?? 0n);
  });

  it('returns the exact error codes ZooKeeper returns', async () => {
    const c = await client();
    const b = await base(c);
    await c.create(`${b}/eph`, null, { mode: Mode.EPHEMERAL });
    expect(await errorCodeOf(c.getData(`${b}/missing`))).toBe(E.NO_NODE);
    expect(await errorCodeOf(c.create(`${b}/missing/child`))).toBe(E.NO_NODE);
    expect(await errorCodeOf(c.create(b))).toBe(E.NODE_EXISTS);
    expect(await errorCodeOf(c.create(`${b}/eph/child`))).toBe(E.NO_CHILDREN_FOR_EPHEMERALS);
    expect(await errorCodeOf(c.create(`${b}/eph/s-`, null, { mode: Mode.EPHEMERAL_SEQUENTIAL }))).toBe(
      E.NO_CHILDREN_FOR_EPHEMERALS,
    );
    // ACLs that name no one the server can check.
    expect(await errorCodeOf(c.create(`${b}/acl`, null, { acl: ACL.CREATOR_ALL_ACL }))).toBe(E.INVALID_ACL);
    expect(await errorCodeOf(c.create(`${b}/acl`, null, { acl: [new ACL(Perm.ALL, new Id('digest', 'no-colon'))] }))).toBe(
      E.INVALID_ACL,
    );
    expect(await errorCodeOf(c.create(`${b}/acl`, null, { acl: [new ACL(Perm.ALL, new Id('nosuchscheme', 'x'))] }))).toBe(
      E.INVALID_ACL,
    );
    expect(await errorCodeOf(c.create(`${b}/acl`, null, { acl: [new ACL(Perm.ALL, new Id('ip', 'not-an-ip'))] }))).toBe(
      E.INVALID_ACL,
    );
    // Paths the client lets through but the server must refuse, and the reserved /zookeeper.
    expect(await errorCodeOf(c.create(`${b}/ctl\u0001char`))).toBe(E.BAD_ARGUMENTS);
    expect(await errorCodeOf(c.remove('/zookeeper'))).toBe(E.BAD_ARGUMENTS);
    expect((await c.getChildren(b)).children).toEqual(['eph']);
  });

  it('reads and sets ACLs with aversion checks, and enforces them', async () => {
    const c = await client();
    const b = await base(c);
    await c.create(`${b}/a`, Buffer.from('x'));
    const { acl, stat } = await c.getACL(`${b}/a`);
    expect(acl).toEqual([{ permission: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }]);
    expect(stat.aversion).toBe(0);
    expect(await errorCodeOf(c.setACL(`${b}/a`, ACL.READ_ACL_UNSAFE, 5))).toBe(E.BAD_VERSION);
    const s1 = await c.setACL(`${b}/a`, ACL.READ_ACL_UNSAFE, 0);
    expect(s1.aversion).toBe(1);
    expect(s1.version).toBe(0);
    // Without ADMIN, the ACL cannot be changed back.
    expect(await errorCodeOf(c.setACL(`${b}/a`, ACL.OPEN_ACL_UNSAFE, 1))).toBe(E.NO_AUTH);
    expect((await c.getACL(`${b}/a`)).acl).toEqual([{ permission: Perm.READ, id: { scheme: 'world', id: 'anyone' } }]);
    expect((await c.getData(`${b}/a`)).data?.toString()).toBe('x');
    expect(await errorCodeOf(c.setData(`${b}/a`, Buffer.from('y')))).toBe(E.NO_AUTH);
    expect(await errorCodeOf(c.create(`${b}/a/child`))).toBe(E.NO_AUTH);
    // DELETE is checked on the parent's ACL, not on the node's.
    await c.setACL(b, [new ACL(Perm.READ | Perm.CREATE | Perm.ADMIN, new Id('world', 'anyone'))]);
    expect(await errorCodeOf(c.remove(`${b}/a`))).toBe(E.NO_AUTH);
    await c.setACL(b, ACL.OPEN_ACL_UNSAFE);
    await c.remove(`${b}/a`);
    expect(await errorCodeOf(c.getACL(`${b}/a`))).toBe(E.NO_NODE);
  });

  it('authenticates digest users with addAuthInfo and enforces their ACLs (NO_AUTH)', async () => {
    const alice = await client();
    const b = await base(alice);
    alice.addAuthInfo('digest', 'alice:secret');
    await alice.create(`${b}/mine`, Buffer.from('alice data'), { acl: ACL.CREATOR_ALL_ACL });
    const { acl } = await alice.getACL(`${b}/mine`);
    expect(acl).toEqual([{ permission: Perm.ALL, id: { scheme: 'digest', id: digestId('alice', 'secret') } }]);
    expect((await alice.getData(`${b}/mine`)).data?.toString()).toBe('alice data');

    const anon = await client();
    expect(await errorCodeOf(anon.getData(`${b}/mine`))).toBe(E.NO_AUTH);
    expect(await errorCodeOf(anon.setData(`${b}/mine`, Buffer.from('x')))).toBe(E.NO_AUTH);
    // exists needs no permission; getACL needs READ or ADMIN.
    expect(await anon.exists(`${b}/mine`)).not.toBeNull();
    expect(await errorCodeOf(anon.getACL(`${b}/mine`))).toBe(E.NO_AUTH);

    const bob = await client();
    bob.addAuthInfo('digest', 'bob:secret');
    expect(await errorCodeOf(bob.getData(`${b}/mine`))).toBe(E.NO_AUTH);
    bob.addAuthInfo('digest', 'alice:secret'); // a connection may hold several identities
    expect((await bob.getData(`${b}/mine`)).data?.toString()).toBe('alice data');

    // An ACL naming a digest id directly, set by someone who is not that user.
    await anon.create(`${b}/carol`, Buffer.from('c'), {
      acl: [new ACL(Perm.READ, new Id('digest', digestId('carol', 'pw')))],
    });
    expect(await errorCodeOf(anon.getData(`${b}/carol`))).toBe(E.NO_AUTH);
    const carol = await client();
    carol.addAuthInfo('digest', 'carol:pw');
    expect((await carol.getData(`${b}/carol`)).data?.toString()).toBe('c');
    expect(await errorCodeOf(carol.setData(`${b}/carol`, Buffer.from('x')))).toBe(E.NO_AUTH);
    // A reader without ADMIN sees digest ids with the password hash masked.
    expect((await carol.getACL(`${b}/carol`)).acl).toEqual([{ permission: Perm.READ, id: { scheme: 'digest', id: 'carol:x' } }]);
  });

  it('commits a multi atomically and reports each op', async () => {
    const c = await client();
    const b = await base(c);
    await c.setData(b, Buffer.from('v1')); // version 1: node-zookeeper-client turns a check of version 0 into -1
    const results = await c.multi([
      { op: 'create', path: `${b}/m1`, data: Buffer.from('one') },
      { op: 'create', path: `${b}/s-`, mode: Mode.PERSISTENT_SEQUENTIAL },
      { op: 'setData', path: `${b}/m1`, data: Buffer.from('uno'), version: 0 },
      { op: 'check', path: b, version: 1 },
      { op: 'delete', path: `${b}/m1`, version: 1 },
    ]);
    expect(results.map((r) => r.type)).toEqual([1, 1, 5, 13, 2]);
    expect(results[0]?.path).toBe(`${b}/m1`);
    expect(results[1]?.path).toBe(seqName(`${b}/s-`, 1));
    expect(results[2]?.stat?.version).toBe(1);
    expect(await c.exists(`${b}/m1`)).toBeNull();
    expect((await c.getChildren(b)).children).toEqual(['s-0000000001']);
    const empty = await c.multi([]);
    expect(empty).toEqual([]);
  });

  it('rolls a failed multi back and reports the per-op errors', async () => {
    const c = await client();
    const b = await base(c);
    await c.create(`${b}/exists`);
    const before = await c.exists(b);
    const failure = await c
      .multi([
        { op: 'create', path: `${b}/new` },
        { op: 'create', path: `${b}/exists` },
        { op: 'setData', path: `${b}/missing`, data: Buffer.from('x') },
      ])
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(failure).toBeInstanceOf(MultiError);
    const mErr = failure as MultiError;
    expect(mErr.code).toBe(E.NODE_EXISTS);
    expect(mErr.results).toEqual([
      { type: -1, err: 0, stat: undefined },
      { type: -1, err: E.NODE_EXISTS, stat: undefined },
      { type: -1, err: E.RUNTIME_INCONSISTENCY, stat: undefined },
    ]);
    expect(await c.exists(`${b}/new`)).toBeNull();
    const after = await c.exists(b);
    expect(after?.cversion).toBe(before?.cversion);
    expect(after?.numChildren).toBe(1);

    const versionFailure = await c
      .multi([
        { op: 'setData', path: `${b}/exists`, data: Buffer.from('changed') },
        { op: 'check', path: `${b}/exists`, version: 5 },
      ])
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect((versionFailure as MultiError).code).toBe(E.BAD_VERSION);
    expect((versionFailure as MultiError).results.map((r) => r.err)).toEqual([0, E.BAD_VERSION]);
    const kept = await c.getData(`${b}/exists`);
    expect(kept.data ?? null).toBeNull();
    expect(kept.stat.version).toBe(0);
  });

  it('fires data watches once: NODE_DATA_CHANGED on setData, NODE_DELETED on delete', async () => {
    const c = await client();
    const b = await base(c);
    await c.create(`${b}/w`, Buffer.from('0'));
    const changed = new WatchRecorder();
    await c.getData(`${b}/w`, changed.watcher);
    await c.setData(`${b}/w`, Buffer.from('1'));
    await c.setData(`${b}/w`, Buffer.from('2'));
    // The second change's event, had it been sent, would have arrived before this reply.
    expect(changed.kinds).toEqual([`NODE_DATA_CHANGED@${b}/w`]);

    const deleted = new WatchRecorder();
    await c.getData(`${b}/w`, deleted.watcher);
    await c.create(`${b}/w/child`); // a child does not change the node's data
    await c.remove(`${b}/w/child`);
    expect(deleted.events).toEqual([]);
    await c.remove(`${b}/w`);
    expect(deleted.kinds).toEqual([`NODE_DELETED@${b}/w`]);
  });

  it('fires child watches once: NODE_CHILDREN_CHANGED on create/delete of a child, NODE_DELETED on the parent', async () => {
    const c = await client();
    const b = await base(c);
    await c.create(`${b}/p`);
    const created = new WatchRecorder();
    await c.getChildren(`${b}/p`, created.watcher);
    await c.setData(`${b}/p`, Buffer.from('data change is not a child change'));
    expect(created.events).toEqual([]);
    await c.create(`${b}/p/c1`);
    await c.create(`${b}/p/c2`);
    expect(created.kinds).toEqual([`NODE_CHILDREN_CHANGED@${b}/p`]);

    const removed = new WatchRecorder();
    await c.getChildren(`${b}/p`, removed.watcher);
    await c.setData(`${b}/p/c1`, Buffer.from('a child data change is not a child change'));
    await c.remove(`${b}/p/c1`);
    expect(removed.kinds).toEqual([`NODE_CHILDREN_CHANGED@${b}/p`]);

    const parentGone = new WatchRecorder();
    await c.getChildren(`${b}/p`, parentGone.watcher);
    await c.remove(`${b}/p/c2`);
    const again = new WatchRecorder();
    await c.getChildren(`${b}/p`, again.watcher);
    await c.remove(`${b}/p`);
    expect(parentGone.kinds).toEqual([`NODE_CHILDREN_CHANGED@${b}/p`]);
    expect(again.kinds).toEqual([`NODE_DELETED@${b}/p`]);
  });

  it('fires exists watches: NODE_CREATED for a missing node, NODE_DATA_CHANGED and NODE_DELETED for an existing one', async () => {
    const c = await client();
    const b = await base(c);
    const created = new WatchRecorder();
    expect(await c.exists(`${b}/x`, created.watcher)).toBeNull();
    await c.create(`${b}/x`);
    await c.setData(`${b}/x`, Buffer.from('after create'));
    expect(created.kinds).toEqual([`NODE_CREATED@${b}/x`]);

    const changed = new WatchRecorder();
    expect(await c.exists(`${b}/x`, changed.watcher)).not.toBeNull();
    await c.setData(`${b}/x`, Buffer.from('changed'));
    expect(changed.kinds).toEqual([`NODE_DATA_CHANGED@${b}/x`]);

    const deleted = new WatchRecorder();
    await c.exists(`${b}/x`, deleted.watcher);
    await c.remove(`${b}/x`);
    expect(deleted.kinds).toEqual([`NODE_DELETED@${b}/x`]);
  });

  it('delivers watch events to other sessions before any reply that reveals the change', async () => {
    const watcher = await client();
    const writer = await client();
    const b = await base(writer);
    await writer.create(`${b}/o`, Buffer.from('old'));
    const data = new WatchRecorder();
    const children = new WatchRecorder();
    const exists = new WatchRecorder();
    await watcher.getData(`${b}/o`, data.watcher);
    await watcher.getChildren(b, children.watcher);
    await watcher.exists(`${b}/later`, exists.watcher);

    await writer.setData(`${b}/o`, Buffer.from('new'));
    await writer.create(`${b}/later`);
    // The watcher's next reply already reflects both changes: its events must have come first.
    let eventsSeenBeforeReply = -1;
    const read = await new Promise<Buffer | null>((resolve, reject) => {
      watcher.raw.getData(`${b}/o`, undefined, (err, d) => {
        eventsSeenBeforeReply = data.events.length + children.events.length + exists.events.length;
        if (err) reject(err);
        else resolve(d);
      });
    });
    expect(read?.toString()).toBe('new');
    expect(eventsSeenBeforeReply).toBe(3);
    expect(data.kinds).toEqual([`NODE_DATA_CHANGED@${b}/o`]);
    expect(children.kinds).toEqual([`NODE_CHILDREN_CHANGED@${b}`]);
    expect(exists.kinds).toEqual([`NODE_CREATED@${b}/later`]);
  });

  it('removes ephemerals when their session is closed', async () => {
    const owner = await client();
    const observer = await client();
    const b = await base(observer);
    await owner.create(`${b}/e1`, null, { mode: Mode.EPHEMERAL });
    await owner.create(`${b}/e2-`, null, { mode: Mode.EPHEMERAL_SEQUENTIAL });
    await owner.create(`${b}/persistent`);
    const gone = new WatchRecorder();
    expect(await observer.exists(`${b}/e1`, gone.watcher)).not.toBeNull();
    const listing = new WatchRecorder();
    await observer.getChildren(b, listing.watcher);

    await owner.close();
    open.splice(open.indexOf(owner), 1);
    await gone.waitFor(1);
    expect(gone.kinds).toEqual([`NODE_DELETED@${b}/e1`]);
    await listing.waitFor(1);
    expect((await observer.getChildren(b)).children).toEqual(['persistent']);
  });

  it('expires a session whose client stopped talking, after the negotiated timeout, and removes its ephemerals', async () => {
    const owner = await client(MIN_SESSION_TIMEOUT_MS);
    expect(owner.sessionTimeoutMs).toBe(MIN_SESSION_TIMEOUT_MS);
    const observer = await client();
    const b = await base(observer);
    await owner.create(`${b}/lease`, Buffer.from('held'), { mode: Mode.EPHEMERAL });
    const gone = new WatchRecorder();
    await observer.exists(`${b}/lease`, gone.watcher);

    let expired = false;
    owner.raw.once('expired', () => {
      expired = true;
    });
    owner.freeze();
    const frozenAt = Date.now();
    // Well within the timeout (the client pinged at most timeout/3 ago) the node is still there.
    await sleep(200);
    expect(await observer.exists(`${b}/lease`)).not.toBeNull();
    await gone.waitFor(1);
    const elapsedMs = Date.now() - frozenAt;
    expect(gone.kinds).toEqual([`NODE_DELETED@${b}/lease`]);
    // Expired no earlier than timeout minus one ping interval.
    expect(elapsedMs).toBeGreaterThanOrEqual(MIN_SESSION_TIMEOUT_MS - MIN_SESSION_TIMEOUT_MS / 3 - 100);
    expect(await observer.exists(`${b}/lease`)).toBeNull();

    // The client, once it runs again, learns that its session expired.
    owner.thaw();
    await waitUntil(() => expired, "the client's 'expired' event");
  });

  it('resumes the same session after a dropped connection: ephemerals stay, watches are re-registered', async () => {
    const c = await client();
    const other = await client();
    const b = await base(other);
    await other.create(`${b}/w`, Buffer.from('0'));
    await c.create(`${b}/e`, null, { mode: Mode.EPHEMERAL });
    const rec = new WatchRecorder();
    await c.getData(`${b}/w`, rec.watcher);
    const sessionId = c.sessionId;

    let reconnected = false;
    c.raw.once('disconnected', () => c.raw.once('connected', () => (reconnected = true)));
    c.raw.connectionManager.socket?.destroy(); // the client reconnects with its session id and password
    await waitUntil(() => reconnected, 'the client to reconnect');
    expect(c.sessionId).toBe(sessionId);
    expect((await other.exists(`${b}/e`))?.ephemeralOwner).toBe(sessionId);

    // The client sent SetWatches on reconnect: the server still notifies it.
    await other.setData(`${b}/w`, Buffer.from('1'));
    await rec.waitFor(1);
    expect(rec.kinds).toEqual([`NODE_DATA_CHANGED@${b}/w`]);
    expect((await c.getData(`${b}/w`)).data?.toString()).toBe('1');
  });

  it('keeps many requests in flight on one connection and answers them in order', async () => {
    const c = await client();
    const b = await base(c);
    await c.create(`${b}/hot`, Buffer.from('0'));
    const inFlight = 1_000;
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < inFlight; i++) {
      ops.push(i % 2 === 0 ? c.setData(`${b}/hot`, Buffer.from(String(i))) : c.getData(`${b}/hot`));
    }
    const results = await Promise.all(ops);
    // Replies come in request order, so each read sees exactly the write issued before it.
    for (let i = 1; i < inFlight; i += 2) {
      const read = results[i] as { data: Buffer; stat: { version: number } };
      expect(read.data.toString()).toBe(String(i - 1));
      expect(read.stat.version).toBe((i + 1) / 2);
    }
    const sequential = await Promise.all(
      Array.from({ length: 200 }, () => c.create(`${b}/q-`, null, { mode: Mode.PERSISTENT_SEQUENTIAL })),
    );
    expect(sequential).toEqual(Array.from({ length: 200 }, (_, i) => seqName(`${b}/q-`, i + 1)));
  });
}

describe.each(compatLegs(CONFIG).map((leg) => [leg.name, leg] as const))('node-zookeeper-client against %s', (name, { available, start }) => {
  if (!available) {
    it.skip(`${name} is not installed on this machine`, () => undefined);
    return;
  }
  nodeZookeeperClientSuite(start);
});
