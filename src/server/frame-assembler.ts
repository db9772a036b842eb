/**
 * Reassembles the client port's frames (`int length` + that many bytes) from socket chunks,
 * in time linear in the bytes received: a frame that lies whole in one chunk is a view of
 * it (no copy); a frame split across chunks is copied once into a buffer that grows by
 * doubling up to its length, so a frame costs fewer than 3 × its size in copies (once into
 * place, under twice more for the growth), however small the segments. (Concatenating the pending bytes with each new chunk instead copies
 * O(frame² / segment) bytes: a 1 MB frame in 64-byte segments cost seconds of CPU.)
 *
 * The length prefix goes to the sink before any of the frame is buffered, so a caller
 * enforcing jute.maxbuffer refuses an oversized frame from its 4 bytes alone.
 */

export interface FrameSink {
  /** A frame's length prefix was read; false stops reading (the rest of the input is dropped). */
  onLength(length: number): boolean;
  /** A whole frame (a view: copy it to keep it past the next push); false stops reading. */
  onFrame(frame: Buffer): boolean;
}

/** First capacity for a frame split across chunks; it doubles from there up to the frame's length. */
const PARTIAL_CAPACITY_MIN_BYTES = 16 * 1024;
const EMPTY = Buffer.alloc(0);

export class FrameAssembler {
  /** Bytes copied so far (length prefixes and split frames); reassembly cost, for tests and probes. */
  copiedBytes = 0;
  /** The length prefix, when it arrives in pieces. */
  private readonly prefix = Buffer.alloc(4);
  private prefixHave = 0;
  /** The frame being assembled (length known, body incomplete), or -1. */
  private length = -1;
  private partial: Buffer = EMPTY;
  private partialHave = 0;
  private stopped = false;

  /** Memory held for an incomplete frame (allocated, not only filled); grows with the bytes received. */
  get bufferedBytes(): number {
    return this.prefixHave + this.partial.length;
  }

  /** Feed one chunk; calls the sink for every length and whole frame in it, in order. */
  push(chunk: Buffer, sink: FrameSink): void {
    let off = 0;
    while (!this.stopped && off < chunk.length) {
      if (this.length < 0) {
        off = this.readLength(chunk, off, sink);
        continue;
      }
      if (this.partialHave === 0 && chunk.length - off >= this.length) {
        // Whole in this chunk: hand out a view.
        const frame = chunk.subarray(off, off + this.length);
        off += this.length;
        this.length = -1;
        if (!sink.onFrame(frame)) this.stop();
        continue;
      }
      off = this.copyPartial(chunk, off, sink);
    }
  }

  private readLength(chunk: Buffer, off: number, sink: FrameSink): number {
    let length: number;
    if (this.prefixHave === 0 && chunk.length - off >= 4) {
      length = chunk.readInt32BE(off);
      off += 4;
    } else {
      const n = Math.min(4 - this.prefixHave, chunk.length - off);
      chunk.copy(this.prefix, this.prefixHave, off, off + n);
      this.copiedBytes += n;
      this.prefixHave += n;
      off += n;
      if (this.prefixHave < 4) return off;
      this.prefixHave = 0;
      length = this.prefix.readInt32BE(0);
    }
    if (!sink.onLength(length)) {
      this.stop();
      return off;
    }
    this.length = length;
    if (length === 0) {
      this.length = -1;
      if (!sink.onFrame(EMPTY)) this.stop();
    }
    return off;
  }

  /** Copy as much of the split frame as this chunk holds; hand it out once complete. */
  private copyPartial(chunk: Buffer, off: number, sink: FrameSink): number {
    const n = Math.min(this.length - this.partialHave, chunk.length - off);
    const need = this.partialHave + n;
    if (need > this.partial.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.length, Math.max(need, this.partial.length * 2, PARTIAL_CAPACITY_MIN_BYTES)));
      this.partial.copy(grown, 0, 0, this.partialHave);
      this.copiedBytes += this.partialHave;
      this.partial = grown;
    }
    chunk.copy(this.partial, this.partialHave, off, off + n);
    this.copiedBytes += n;
    this.partialHave += n;
    off += n;
    if (this.partialHave === this.length) {
      const frame = this.partial.subarray(0, this.length);
      // The frame keeps its buffer (a request may hold on to it); the next split frame gets a new one.
      this.partial = EMPTY;
      this.partialHave = 0;
      this.length = -1;
      if (!sink.onFrame(frame)) this.stop();
    }
    return off;
  }

  private stop(): void {
    this.stopped = true;
    this.partial = EMPTY;
    this.partialHave = 0;
    this.prefixHave = 0;
    this.length = -1;
  }
}
