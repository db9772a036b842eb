/**
 * Length-prefixed framing of the client port: every packet is a 4-byte big-endian length,
 * then that many bytes. The decoder never buffers more than one frame, and refuses frames
 * over a size limit before allocating them.
 */
import { ZkProtocolError } from './errors.js';

const LENGTH_BYTES = 4;

export class FrameDecoder {
  private readonly lengthBuf = Buffer.alloc(LENGTH_BYTES);
  private lengthHave = 0;
  private body: Buffer | null = null;
  private bodyHave = 0;

  constructor(readonly maxFrameBytes: number) {}

  /** Bytes of a frame received so far (for tests and diagnostics). */
  get buffered(): number {
    return this.body === null ? this.lengthHave : LENGTH_BYTES + this.bodyHave;
  }

  /**
   * Feed bytes from the socket; `onFrame` gets each complete frame body in order. A frame
   * may be a view into `chunk`: decode it before the next push. Throws ZkProtocolError on a
   * length outside [0, maxFrameBytes]; the stream cannot be trusted after that.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.body !== null) {
        off = this.fillBody(chunk, off, onFrame);
        continue;
      }
      if (this.lengthHave === 0 && chunk.length - off >= LENGTH_BYTES) {
        const len = this.checkLength(chunk.readInt32BE(off));
        off += LENGTH_BYTES;
        if (chunk.length - off >= len) {
          // Whole frame in this chunk: hand out a view, no copy.
          const frame = chunk.subarray(off, off + len);
          off += len;
          onFrame(frame);
        } else {
          this.startBody(len);
        }
        continue;
      }
      const take = Math.min(LENGTH_BYTES - this.lengthHave, chunk.length - off);
      chunk.copy(this.lengthBuf, this.lengthHave, off, off + take);
      this.lengthHave += take;
      off += take;
      if (this.lengthHave < LENGTH_BYTES) return;
      this.lengthHave = 0;
      const len = this.checkLength(this.lengthBuf.readInt32BE(0));
      if (len === 0) onFrame(Buffer.alloc(0));
      else this.startBody(len);
    }
  }

  private checkLength(len: number): number {
    if (len < 0 || len > this.maxFrameBytes) {
      throw new ZkProtocolError(
        'ZABLAB_CLIENT_FRAME_TOO_LARGE',
        `server sent a frame of ${len} bytes; the limit is ${this.maxFrameBytes} (raise maxFrameBytes if the data is legitimately this large)`,
      );
    }
    return len;
  }

  private startBody(len: number): void {
    this.body = Buffer.allocUnsafe(len);
    this.bodyHave = 0;
  }

  private fillBody(chunk: Buffer, off: number, onFrame: (frame: Buffer) => void): number {
    const body = this.body!;
    const take = Math.min(body.length - this.bodyHave, chunk.length - off);
    chunk.copy(body, this.bodyHave, off, off + take);
    this.bodyHave += take;
    if (this.bodyHave === body.length) {
      this.body = null;
      this.bodyHave = 0;
      onFrame(body);
    }
    return off + take;
  }
}
