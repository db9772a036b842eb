/**
 * ZooKeeper's election handshake, as far as the peer relay must touch it. A server that dials
 * a peer's election port first sends (QuorumCnxManager.startConnection, protocol versions 1
 * and 2): int64 protocol version (-65536 or -65535), int64 its server id, int32 length, then
 * its own election address(es) as text ("host:port", several joined by '|'). A receiver with
 * the higher id drops that connection and dials back the address it was sent, not the one in
 * its zoo.cfg: through a relay, that address must be the relay's port for the way back, or
 * the dial-back would go around the relay and no cut could stop it. Older servers send only
 * their id (a non-negative first int64); that needs no change.
 */

export const PROTOCOL_VERSION_V1 = -65536n;
export const PROTOCOL_VERSION_V2 = -65535n;
const HEADER_BYTES = 8 + 8 + 4;
/** ZooKeeper refuses longer address texts (zookeeper.maxInitialMessageSize's default is 2048 bytes). */
export const ADDRESS_BYTES_MAX = 2_048;

/**
 * Rewrites the address of the first message on an election connection. Feed it the bytes as
 * they arrive; it returns what to forward (possibly nothing yet, while the header is incomplete),
 * and passes everything through unchanged once the first message is done or is not one it knows.
 */
export class InitialMessageRewriter {
  private pending: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(private readonly address: string) {}

  push(chunk: Buffer): Buffer {
    if (this.done) return chunk;
    this.pending = Buffer.concat([this.pending, chunk]);
    if (this.pending.length < 8) return Buffer.alloc(0);
    const version = this.pending.readBigInt64BE(0);
    if (version !== PROTOCOL_VERSION_V1 && version !== PROTOCOL_VERSION_V2) return this.passThrough();
    if (this.pending.length < HEADER_BYTES) return Buffer.alloc(0);
    const length = this.pending.readInt32BE(16);
    // Not a message ZooKeeper would accept: forward it as it is and let the receiver refuse it.
    if (length <= 0 || length > ADDRESS_BYTES_MAX) return this.passThrough();
    if (this.pending.length < HEADER_BYTES + length) return Buffer.alloc(0);
    const text = Buffer.from(this.address, 'utf8');
    const head = Buffer.alloc(HEADER_BYTES);
    this.pending.copy(head, 0, 0, 16);
    head.writeInt32BE(text.length, 16);
    const rest = this.pending.subarray(HEADER_BYTES + length);
    this.done = true;
    this.pending = Buffer.alloc(0);
    return Buffer.concat([head, text, rest]);
  }

  private passThrough(): Buffer {
    const out = this.pending;
    this.pending = Buffer.alloc(0);
    this.done = true;
    return out;
  }
}

/** The first message a server with `sid` at `address` sends on an election connection (for tests and probes). */
export function initialMessage(sid: bigint, address: string, version = PROTOCOL_VERSION_V1): Buffer {
  const text = Buffer.from(address, 'utf8');
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeBigInt64BE(version, 0);
  head.writeBigInt64BE(sid, 8);
  head.writeInt32BE(text.length, 16);
  return Buffer.concat([head, text]);
}
