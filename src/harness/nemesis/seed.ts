/**
 * Seeds for the faults' random choices: one per run (drawn when it starts, or the scenario's),
 * and from it one independent generator per firing, so a firing's choice does not depend on
 * how many numbers earlier firings drew (a dry run can show the sides a seeded run will cut).
 */
import crypto from 'node:crypto';
import { mulberry32 } from '../load/ops.js';

/** A fresh seed: an unsigned 32-bit integer. */
export function drawSeed(): number {
  return crypto.randomBytes(4).readUInt32BE(0);
}

/** murmur3's finalizer: spreads every input bit over the output. */
function mix32(h: number): number {
  let x = h >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85eb_ca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2_ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The generator of firing `firing` of fault `fault` in a run seeded with `seed`. */
export function firingRandom(seed: number, fault: number, firing: number): () => number {
  const s = mix32(mix32(mix32(seed) ^ Math.imul(fault + 1, 0x9e37_79b9)) ^ Math.imul(firing + 1, 0x7f4a_7c15));
  return mulberry32(s);
}
