/**
 * How fast `zablab history check` is: generated register histories (seeded; processes run
 * ops back to back, each taking effect at a random point of its interval), linearizable or
 * with one planted stale read, with and without indeterminate ops; parse and check timed
 * apart, best of --rounds.
 *
 *   npx tsx bench/history-check.ts [--ops 10000] [--keys 10] [--processes 10] [--info 0.05] [--rounds 3] [--seed 1]
 *
 * Values are unique per write (as zablab's load drivers write them) except in the last two
 * cases, which draw them from 1..5 as Jepsen's register test does: then indeterminate writes
 * are observed (a read of 3 may be theirs) and cannot be dropped before the search.
 */
import { parseArgs } from 'node:util';
import { checkHistory, parseHistory } from '../src/harness/history/index.js';
import { registerHistory } from '../test/helpers/register-history.js';

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '10000' },
    keys: { type: 'string', default: '10' },
    processes: { type: 'string', default: '10' },
    info: { type: 'string', default: '0.05' },
    rounds: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
  },
});
const ops = Number(values.ops);
const keys = Number(values.keys);
const processes = Number(values.processes);
const rounds = Number(values.rounds);
const seed = Number(values.seed);

const cases = [
  { name: 'linearizable', infoShare: 0, staleRead: false },
  { name: 'linearizable, indeterminate ops', infoShare: Number(values.info), staleRead: false },
  { name: 'stale read', infoShare: 0, staleRead: true },
  { name: 'stale read, indeterminate ops', infoShare: Number(values.info), staleRead: true },
  { name: 'values 1..5', infoShare: 0, staleRead: false, valueRange: 5 },
  { name: 'values 1..5, indeterminate ops', infoShare: Number(values.info), staleRead: false, valueRange: 5 },
];

console.log(`${ops} ops over ${keys} keys by ${processes} processes; indeterminate share ${values.info}; best of ${rounds}`);
console.log('case                              verdict  witness  configurations  parse ms  check ms  ops/s checked');
for (const c of cases) {
  const text = registerHistory({ ops, keys, processes, seed, infoShare: c.infoShare, staleRead: c.staleRead, valueRange: c.valueRange });
  let parseMs = Infinity;
  let checkMs = Infinity;
  let summary = '';
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const history = parseHistory(text);
    const t1 = performance.now();
    const v = checkHistory(history);
    const t2 = performance.now();
    parseMs = Math.min(parseMs, t1 - t0);
    checkMs = Math.min(checkMs, t2 - t1);
    const witness = v.anomalies.map((a) => `${a.ops.length}/${a.keyOps}`).join(' ') || '-';
    summary = `${String(v.linearizable).padEnd(7)}  ${witness.padEnd(7)}  ${String(v.statesExplored).padStart(14)}`;
  }
  const opsPerSec = Math.round(ops / (checkMs / 1000));
  console.log(`${c.name.padEnd(32)}  ${summary}  ${parseMs.toFixed(0).padStart(8)}  ${checkMs.toFixed(0).padStart(8)}  ${opsPerSec.toLocaleString('en-US').padStart(13)}`);
}
