export interface SaveOptions {
  /**
   * Written and synced, the file becomes the snapshot only once this resolves true; false:
   * the temp file is removed and nothing changes. A learner writes a SNAP as it arrives, before
   * the SNAP is accepted. Later saves wait for it.
   */
  publish?: Promise<boolean>;
}

/** Snapshot storage: the bytes of a fuzzy snapshot (sessions + tree) are produced elsewhere. */
export interface SnapStore {
  /**
   * Write a snapshot taken at `zxid` from body pieces (an async or sync iterable of Buffers).
   * Written to a temp file and renamed only after fsync. Between pieces it yields to the
   * event loop. Saves run one at a time, in call order.
   */
  save(zxid: bigint, body: AsyncIterable<Buffer> | Iterable<Buffer>, opts?: SaveOptions): Promise<void>;
  /** The newest snapshot whose checksum verifies (invalid/partial ones are skipped, with a reason reported). */
  loadNewest(): Promise<{ zxid: bigint; body: Buffer } | null>;
  /** One snapshot, verified whole: its body, or what is wrong with it. */
  load(zxid: bigint): Promise<{ problem: null; body: Buffer } | { problem: string }>;
  /** zxids of snapshot files, newest first (not verified). */
  list(): Promise<bigint[]>;
  /** Rename a (damaged) snapshot out of the way, durably: `damaged.snapshot.<zxid>`. Returns the new path. */
  setAside(zxid: bigint): Promise<string>;
  /** Where the snapshot of `zxid` lives (for messages). */
  pathOf(zxid: bigint): string;
  /** Waits for a save in progress; later calls throw ZABLAB_STORAGE_CLOSED. */
  close(): Promise<void>;
}
