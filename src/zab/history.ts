/**
 * The in-memory tail of a server's txn log: every logged-but-unapplied txn plus the most
 * recent applied ones (ZooKeeper's committedLog), so a leader can DIFF a learner that is
 * not too far behind. Entries are in zxid order and follow `base` (the zxid of the
 * snapshot, or of the last entry dropped from memory).
 */
import type { Txn } from './messages.js';
import type { Zxid } from './zxid.js';

export class History {
  private entries: Txn[] = [];
  private _base: Zxid;

  constructor(base: Zxid, entries: Txn[] = []) {
    this._base = base;
    for (const t of entries) this.append(t);
  }

  /** Entries with zxid > base are in memory; a learner at or after base can get a DIFF. */
  get base(): Zxid {
    return this._base;
  }

  get size(): number {
    return this.entries.length;
  }

  get lastZxid(): Zxid {
    return this.entries.length === 0 ? this._base : this.entries[this.entries.length - 1]!.zxid;
  }

  append(t: Txn): void {
    if (t.zxid <= this.lastZxid) {
      throw new Error(`history: zxid ${t.zxid} appended after ${this.lastZxid}`);
    }
    this.entries.push(t);
  }

  /** Index of the first entry with zxid > z. */
  private upperBound(z: Zxid): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.zxid <= z) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Is z the base or an entry in memory? */
  contains(z: Zxid): boolean {
    if (z === this._base) return true;
    const i = this.upperBound(z) - 1;
    return i >= 0 && this.entries[i]!.zxid === z;
  }

  /** The largest known zxid <= z (base when none), or null when z < base. */
  floor(z: Zxid): Zxid | null {
    if (z < this._base) return null;
    const i = this.upperBound(z) - 1;
    return i >= 0 ? this.entries[i]!.zxid : this._base;
  }

  /** Entries with zxid in (from, to]. */
  range(from: Zxid, to: Zxid = this.lastZxid): Txn[] {
    const a = this.upperBound(from);
    const b = this.upperBound(to);
    return this.entries.slice(a, b);
  }

  get(z: Zxid): Txn | undefined {
    const i = this.upperBound(z) - 1;
    const t = i >= 0 ? this.entries[i] : undefined;
    return t && t.zxid === z ? t : undefined;
  }

  /** Drop entries with zxid > z (ZAB's TRUNC). */
  truncate(z: Zxid): void {
    if (z < this._base) throw new Error(`history: truncate to ${z} below base ${this._base}`);
    this.entries.length = this.upperBound(z);
  }

  /** Replace everything with a snapshot's state at z. */
  reset(z: Zxid): void {
    this.entries = [];
    this._base = z;
  }

  /** Keep at most `keep` entries at or below `applied`; older ones leave memory (base moves up). */
  trim(applied: Zxid, keep: number): void {
    const appliedCount = this.upperBound(applied);
    const drop = appliedCount - keep;
    if (drop <= 0) return;
    this._base = this.entries[drop - 1]!.zxid;
    this.entries.splice(0, drop);
  }

  all(): readonly Txn[] {
    return this.entries;
  }
}
