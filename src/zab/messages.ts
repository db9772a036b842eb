/**
 * Every message between ZAB peers: one discriminated union. Election notifications travel
 * on the election channel; everything else on the quorum channel, FIFO per peer pair.
 */
import type { ServerId } from './quorum.js';
import type { Zxid } from './zxid.js';

export type PeerState = 'LOOKING' | 'FOLLOWING' | 'LEADING' | 'OBSERVING';

/** A transaction as ZAB sees it: a zxid and opaque bytes (the server's encoded txn). */
export interface Txn {
  zxid: Zxid;
  data: Uint8Array;
  /** W3C traceparent of the write, so spans on every server join one trace. */
  trace?: string;
}

/** FastLeaderElection's notification: (state, proposed leader, proposed zxid, election epoch, peer epoch). */
export interface Notification {
  kind: 'notification';
  state: PeerState;
  leader: ServerId;
  zxid: Zxid;
  electionEpoch: bigint;
  peerEpoch: bigint;
  /** The sender is recovering from storage damage: its vote does not count (zablab's, not ZooKeeper's). */
  recovering: boolean;
}

export type QuorumMessage =
  /** FOLLOWERINFO / OBSERVERINFO: a learner's accepted epoch and last logged zxid. */
  | { kind: 'followerinfo'; acceptedEpoch: bigint; lastZxid: Zxid; observer: boolean; recovering: boolean }
  | { kind: 'leaderinfo'; newEpoch: bigint }
  /**
   * ACKEPOCH: the learner's current epoch and last logged zxid, and the new epoch it answers
   * (ZooKeeper's ACKEPOCH omits it: there a new session is a new socket, so an answer to an
   * older LEADERINFO never reaches a later session; here one connection outlives sessions).
   */
  | { kind: 'ackepoch'; epoch: bigint; currentEpoch: bigint; lastZxid: Zxid }
  | { kind: 'diff'; zxid: Zxid }
  | { kind: 'trunc'; zxid: Zxid }
  /** The leader's state at `zxid`; the sender's host fills `snapshot` when it transmits. */
  | { kind: 'snap'; zxid: Zxid; snapshot?: SnapshotBytes }
  | { kind: 'proposal'; txn: Txn }
  | { kind: 'commit'; zxid: Zxid }
  | { kind: 'inform'; txn: Txn }
  | { kind: 'newleader'; zxid: Zxid }
  | { kind: 'ack'; zxid: Zxid }
  | { kind: 'uptodate'; zxid: Zxid }
  | { kind: 'ping'; zxid: Zxid }
  | { kind: 'pingreply'; zxid: Zxid }
  /** Server-level payloads on the learner channel (forwarded writes, sync replies, session pings). */
  | { kind: 'app'; payload: Uint8Array };

export type Message = Notification | QuorumMessage;
export type MessageKind = Message['kind'];

export interface Envelope {
  from: ServerId;
  to: ServerId;
  msg: Message;
}

export function isElectionMessage(m: Message): m is Notification {
  return m.kind === 'notification';
}

/**
 * A SNAP's snapshot: one buffer, or its pieces in order (as a leader encodes it and a learner
 * receives it, a few MiB at a time, so that no buffer holds the whole tree).
 */
export type SnapshotBytes = Uint8Array | readonly Uint8Array[];

export function snapshotLength(s: SnapshotBytes): number {
  if (s instanceof Uint8Array) return s.byteLength;
  let n = 0;
  for (const piece of s) n += piece.byteLength;
  return n;
}

/**
 * Where a leader writes a SNAP's snapshot while it encodes it (ZabHostOptions.openSnapStream):
 * the SNAP leaves before its last piece is encoded, and no buffer holds the whole tree.
 * Other messages to the learner wait until end(); the host holds them.
 */
export interface SnapStream {
  /** The next piece; the stream owns it from now on. */
  write(piece: Uint8Array): void;
  /** Resolves once the pieces written so far are few enough in flight to encode more. */
  ready(): Promise<void>;
  /** Every piece was written. */
  end(): void;
  /** The SNAP will not be finished (the host stopped): nothing more goes out. */
  abort(): void;
}

/** A SnapStream that sends the SNAP as one message on end(): where no connection streams it (the simulator). */
export function collectedSnapStream(zxid: bigint, send: (msg: Message) => void): SnapStream {
  let pieces: Uint8Array[] | null = [];
  return {
    write: (piece) => pieces?.push(piece),
    ready: () => Promise.resolve(),
    end: () => {
      if (pieces !== null) send({ kind: 'snap', zxid, snapshot: pieces });
      pieces = null;
    },
    abort: () => {
      pieces = null;
    },
  };
}
