import { zxidHex } from '../../jute/index.js';

/**
 * A SNAP's snapshot while its chunks arrive. The leader streams a SNAP of a million znodes over
 * seconds; a learner that waited for the last chunk before it wrote and decoded the snapshot
 * spent those seconds idle. Readers (the learner's early save and decode) take the pieces in
 * order as they come; `pieces` is the very array the SNAP message carries once it is complete,
 * which is how the learner knows that message for the one it began on.
 */
export class ArrivingSnapshot {
  readonly pieces: Buffer[] = [];
  private state: 'arriving' | 'complete' | 'abandoned' = 'arriving';
  private waiting: (() => void)[] = [];
  private readonly abandonedListeners: (() => void)[] = [];

  constructor(readonly zxid: bigint) {}

  add(piece: Buffer): void {
    this.pieces.push(piece);
    this.wake();
  }

  /** The last piece is in: readers end after it. */
  complete(): void {
    if (this.state === 'arriving') this.state = 'complete';
    this.wake();
  }

  /**
   * Its SNAP message will never be delivered (its connection went mid-SNAP, or the message was
   * dropped at the end): readers still reading throw, and whenAbandoned listeners run, once.
   */
  abandon(): void {
    if (this.state === 'abandoned') return;
    this.state = 'abandoned';
    this.wake();
    for (const listener of this.abandonedListeners.splice(0)) listener();
  }

  whenAbandoned(listener: () => void): void {
    if (this.state === 'abandoned') listener();
    else this.abandonedListeners.push(listener);
  }

  get abandoned(): boolean {
    return this.state === 'abandoned';
  }

  /** The pieces in order, each as soon as it is in; throws SnapshotAbandoned if it never completes. */
  async *read(): AsyncGenerator<Buffer> {
    for (let i = 0; ; i++) {
      while (i >= this.pieces.length && this.state === 'arriving') {
        await new Promise<void>((resolve) => this.waiting.push(resolve));
      }
      if (this.state === 'abandoned') throw new SnapshotAbandoned(this.zxid);
      if (i >= this.pieces.length) return;
      yield this.pieces[i]!;
    }
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}

export class SnapshotAbandoned extends Error {
  constructor(zxid: bigint) {
    super(`the SNAP of ${zxidHex(zxid)} was abandoned before its last piece`);
    this.name = 'SnapshotAbandoned';
  }
}
