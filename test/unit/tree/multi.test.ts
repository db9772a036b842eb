import { describe, expect, it } from 'vitest';
import { Code, decodeLoggedTxn, encodeLoggedTxn, JuteDecodeError, JuteWriter, OpCode, TxnHeader, type TxnBody } from '../../../src/jute/index.js';
import { DataTree } from '../../../src/tree/index.js';
import { Driver, OPEN, Recorder } from './helpers.js';

const create = (path: string, parentCVersion = -1): TxnBody => ({
  type: OpCode.create,
  record: { path, data: Buffer.from('v'), acl: OPEN, ephemeral: false, parentCVersion },
});
const errorTxn = (err: number): TxnBody => ({ type: OpCode.error, record: { err } });

describe('multi', () => {
  it('applies every op in order and reports one result per op', () => {
    const d = new Driver(new DataTree());
    d.create('/a', { data: Buffer.from('old') });
    const rc = d.apply({
      type: OpCode.multi,
      txns: [
        create('/m'),
        create('/m/x'),
        { type: OpCode.setData, record: { path: '/a', data: Buffer.from('new'), version: 1 } },
        { type: OpCode.check, record: { path: '/a', version: 1 } },
        { type: OpCode.delete, record: { path: '/m/x' } },
      ],
    });
    expect(rc.err).toBe(Code.OK);
    expect(rc.multiResult!.map((r) => [r.type, r.err, r.path])).toEqual([
      [OpCode.create, 0, '/m'],
      [OpCode.create, 0, '/m/x'],
      [OpCode.setData, 0, '/a'],
      [OpCode.check, 0, '/a'],
      [OpCode.delete, 0, '/m/x'],
    ]);
    expect(rc.multiResult![2]!.stat!.version).toBe(1);
    expect(d.tree.getData('/a').data!.toString()).toBe('new');
    expect(d.tree.getChildren('/m').children).toEqual([]);
    // Every op of a multi carries the multi's zxid.
    expect(d.tree.statNode('/m').czxid).toBe(rc.zxid);
    expect(d.tree.statNode('/a').mzxid).toBe(rc.zxid);
    expect(d.tree.lastProcessedZxid).toBe(rc.zxid);
  });

  it('applies nothing when it holds an error txn, reporting OK before and RUNTIMEINCONSISTENCY after it', () => {
    const d = new Driver(new DataTree());
    d.create('/a');
    const w = new Recorder();
    d.tree.getChildren('/', w);
    const before = d.tree.digest();
    const rc = d.apply({
      type: OpCode.multi,
      txns: [create('/m1'), create('/m2'), errorTxn(Code.NONODE), create('/m3')],
    });
    expect(rc.err).toBe(Code.NONODE);
    expect(rc.multiResult!.map((r) => [r.type, r.err])).toEqual([
      [OpCode.error, Code.OK],
      [OpCode.error, Code.OK],
      [OpCode.error, Code.NONODE],
      [OpCode.error, Code.RUNTIMEINCONSISTENCY],
    ]);
    expect(d.tree.getNode('/m1')).toBeUndefined();
    expect(d.tree.digest()).toBe(before);
    expect(w.events).toEqual([]);
  });

  it('as the pipeline writes a failed multi (all ops turned into errors), applies nothing', () => {
    const d = new Driver(new DataTree());
    const rc = d.apply({
      type: OpCode.multi,
      txns: [errorTxn(Code.OK), errorTxn(Code.BADVERSION), errorTxn(Code.RUNTIMEINCONSISTENCY)],
    });
    expect(rc.err).toBe(Code.BADVERSION);
    expect(d.tree.nodeCount).toBe(5);
  });

  it('refuses op types a multi cannot hold, without applying any op', () => {
    const d = new Driver(new DataTree());
    const rc = d.apply({
      type: OpCode.multi,
      txns: [create('/m1'), { type: OpCode.closeSession, record: { paths2Delete: [] } }],
    });
    expect(rc.err).toBe(Code.BADARGUMENTS);
    expect(d.tree.getNode('/m1')).toBeUndefined();
  });

  it('fires the watches of each op, with the multi zxid', () => {
    const d = new Driver(new DataTree());
    d.create('/a');
    const w = new Recorder();
    d.tree.getChildren('/a', w);
    expect(() => d.tree.statNode('/a/x', w)).toThrow(expect.objectContaining({ code: Code.NONODE }));
    const rc = d.apply({ type: OpCode.multi, txns: [create('/a/x'), create('/a/y')] });
    expect(w.seen()).toEqual(['NodeCreated /a/x', 'NodeChildrenChanged /a']);
    expect(w.events.map((e) => e.zxid)).toEqual([rc.zxid, rc.zxid]);
  });
});

describe('a logged multi', () => {
  const hdr = { clientId: 7n, cxid: 1, zxid: 5n, time: 1_000n, type: OpCode.multi };

  it('decodes to what was encoded, each value a copy that does not change with the entry it came from', () => {
    const entry = encodeLoggedTxn({ hdr, body: { type: OpCode.multi, txns: [create('/a'), create('/a/b'), errorTxn(Code.OK)] } });
    const t = decodeLoggedTxn(entry);
    expect(t.body).toEqual({ type: OpCode.multi, txns: [create('/a'), create('/a/b'), errorTxn(Code.OK)] });
    entry.fill(0); // the entry's bytes are reused (a read buffer): the decoded txn keeps its own
    const sub = t.body.type === OpCode.multi ? t.body.txns[0] : undefined;
    expect(sub?.type === OpCode.create ? sub.record.data?.toString() : null).toBe('v');
  });

  it('with a sub-txn length below -1 is a decode error that names the length', () => {
    const w = new JuteWriter();
    TxnHeader.write(w, hdr);
    w.writeInt(1); // one sub-txn
    w.writeInt(OpCode.check);
    w.writeInt(-5); // its length
    expect(() => decodeLoggedTxn(w.toBuffer())).toThrow(JuteDecodeError);
    expect(() => decodeLoggedTxn(w.toBuffer())).toThrow('negative length -5 for buffer');
  });
});
