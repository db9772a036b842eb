import { describe, expect, it } from 'vitest';
import { Code, OpCode } from '../../../src/jute/index.js';
import { CONTAINER_EPHEMERAL_OWNER, DataTree, ephemeralTypeOf, ttlOf } from '../../../src/tree/index.js';
import { Driver, Recorder } from './helpers.js';

const S1 = 0x1000000000001n;
const S2 = 0x1000000000002n;

describe('ephemeral nodes', () => {
  it('are tracked per session and show their owner in Stat', () => {
    const d = new Driver(new DataTree());
    d.create('/e1', { ephemeral: true, session: S1 });
    d.create('/e2', { ephemeral: true, session: S1 });
    d.create('/f', { ephemeral: true, session: S2 });
    d.create('/p', { session: S1 });
    expect([...d.tree.getEphemerals(S1)].sort()).toEqual(['/e1', '/e2']);
    expect([...d.tree.getEphemerals(S2)]).toEqual(['/f']);
    expect(d.tree.getEphemerals(0x99n).size).toBe(0);
    expect(d.tree.statNode('/e1').ephemeralOwner).toBe(S1);
    expect(d.tree.statNode('/p').ephemeralOwner).toBe(0n);
    expect([...d.tree.ephemeralSessions().keys()].sort()).toEqual([S1, S2]);
  });

  it('leave the session set when deleted', () => {
    const d = new Driver(new DataTree());
    d.create('/e1', { ephemeral: true, session: S1 });
    d.delete('/e1');
    expect(d.tree.getEphemerals(S1).size).toBe(0);
    expect(d.tree.ephemeralSessions().has(S1)).toBe(false);
  });

  it('closeSession deletes them and fires their watches with the txn zxid', () => {
    const d = new Driver(new DataTree());
    d.create('/app');
    d.create('/app/lock', { ephemeral: true, session: S1 });
    d.create('/app/member', { ephemeral: true, session: S1 });
    d.create('/app/other', { ephemeral: true, session: S2 });
    const w = new Recorder();
    d.tree.getData('/app/lock', w);
    d.tree.getChildren('/app', w);
    const rc = d.closeSession(S1, ['/app/lock', '/app/member']);
    expect(rc.err).toBe(Code.OK);
    expect(d.tree.getChildren('/app').children).toEqual(['other']);
    expect(d.tree.getEphemerals(S1).size).toBe(0);
    expect(w.seen()).toEqual(['NodeDeleted /app/lock', 'NodeChildrenChanged /app']);
    expect(w.events.every((e) => e.zxid === rc.zxid)).toBe(true);
    expect(d.tree.statNode('/app').pzxid).toBe(rc.zxid);
  });

  it('closeSession without paths deletes the tracked set; paths already gone are ignored', () => {
    const d = new Driver(new DataTree());
    d.create('/e1', { ephemeral: true, session: S1 });
    d.create('/e2', { ephemeral: true, session: S1 });
    d.closeSession(S1, []);
    expect(d.tree.getNode('/e1')).toBeUndefined();
    expect(d.tree.getNode('/e2')).toBeUndefined();
    d.create('/e3', { ephemeral: true, session: S2 });
    expect(d.closeSession(S2, ['/e3', '/never-existed']).err).toBe(Code.OK);
    expect(d.tree.getNode('/e3')).toBeUndefined();
  });

  it('closeSession also removes ephemerals the txn did not list', () => {
    const d = new Driver(new DataTree());
    d.create('/e1', { ephemeral: true, session: S1 });
    d.create('/e2', { ephemeral: true, session: S1 });
    d.closeSession(S1, ['/e1']);
    expect(d.tree.getNode('/e2')).toBeUndefined();
  });
});

describe('containers and TTL nodes', () => {
  it('containers are tracked, marked with owner 0x8000000000000000 and shown as owner 0', () => {
    const d = new Driver(new DataTree());
    const rc = d.create('/c', { container: true });
    expect(rc.err).toBe(Code.OK);
    expect(d.tree.getNode('/c')!.stat.ephemeralOwner).toBe(CONTAINER_EPHEMERAL_OWNER);
    expect(BigInt.asUintN(64, CONTAINER_EPHEMERAL_OWNER)).toBe(0x8000000000000000n);
    expect(rc.stat!.ephemeralOwner).toBe(0n);
    expect([...d.tree.containers()]).toEqual(['/c']);
    // Containers may have children (that is their point) and are deleted by deleteContainer.
    expect(d.create('/c/child').err).toBe(Code.OK);
    d.delete('/c/child');
    expect(d.apply({ type: OpCode.deleteContainer, record: { path: '/c' } }).err).toBe(Code.OK);
    expect(d.tree.containers().size).toBe(0);
  });

  it('TTL nodes carry their TTL in ephemeralOwner (high byte 0xff) and are tracked', () => {
    const d = new Driver(new DataTree());
    const rc = d.create('/t', { ttl: 60_000n });
    expect(rc.err).toBe(Code.OK);
    const owner = d.tree.getNode('/t')!.stat.ephemeralOwner;
    expect(BigInt.asUintN(64, owner)).toBe(0xff0000000000ea60n);
    expect(ephemeralTypeOf(owner)).toBe('ttl');
    expect(ttlOf(owner)).toBe(60_000n);
    expect(rc.stat!.ephemeralOwner).toBe(0n);
    expect([...d.tree.ttls()]).toEqual(['/t']);
    // A TTL node is not an ephemeral: no session owns it.
    expect(d.tree.ephemeralSessions().size).toBe(0);
    d.delete('/t');
    expect(d.tree.ttls().size).toBe(0);
  });

  it('classifies owners as ZooKeeper EphemeralType does', () => {
    expect(ephemeralTypeOf(0n)).toBe('void');
    expect(ephemeralTypeOf(S1)).toBe('normal');
    expect(ephemeralTypeOf(CONTAINER_EPHEMERAL_OWNER)).toBe('container');
    expect(ephemeralTypeOf(BigInt.asIntN(64, 0xff00000000000001n))).toBe('ttl');
    expect(ttlOf(S1)).toBe(0n);
  });
});
