/**
 * Storage errors: operating errors, broken contracts and damage, each with a stable code.
 * A torn tail (never acknowledged) is not an error: recovery cuts it and says so.
 */
export type StorageErrorCode =
  /** Data that was written whole (acknowledged) cannot be read back: see StorageDamageError. */
  | 'ZABLAB_STORAGE_DAMAGED'
  /** The disk or the file system refused an operation (permissions, full disk, not a directory). */
  | 'ZABLAB_STORAGE_IO'
  /** A write or fsync failed earlier; what reached the disk is unknown, so the log refuses more work. */
  | 'ZABLAB_STORAGE_FAILED'
  /** The log or store was closed. */
  | 'ZABLAB_STORAGE_CLOSED'
  /** append() with a zxid not above the last logged one. */
  | 'ZABLAB_STORAGE_ZXID_ORDER'
  /** A txn larger than the entry limit (jute.maxbuffer + slack): it could not be read back. */
  | 'ZABLAB_STORAGE_TXN_TOO_LARGE'
  /** Too many bytes appended without commit(). */
  | 'ZABLAB_STORAGE_BACKLOG'
  /** A record whose checksum verifies but whose txn we cannot decode (e.g. a txn type we do not support). */
  | 'ZABLAB_STORAGE_UNSUPPORTED_TXN'
  /** An operation was called while another one that excludes it was running. */
  | 'ZABLAB_STORAGE_BUSY'
  /** An option or argument outside its allowed range. */
  | 'ZABLAB_STORAGE_BAD_ARGUMENT';

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/** Wrap a Node fs error with what we were doing and where, so the user can act on it. */
export function ioError(action: string, path: string, cause: unknown): StorageError {
  if (cause instanceof StorageError) return cause;
  const sys = cause as NodeJS.ErrnoException | undefined;
  const why = sys?.code ?? (cause instanceof Error ? cause.message : String(cause));
  const hint =
    sys?.code === 'EACCES' || sys?.code === 'EPERM'
      ? ' Check that the server user may read and write this directory.'
      : sys?.code === 'ENOSPC'
        ? ' The disk is full; free space or move dataDir/dataLogDir.'
        : sys?.code === 'ENOTDIR' || sys?.code === 'EEXIST'
          ? ' A file stands where a directory is expected; check dataDir/dataLogDir.'
          : sys?.code === 'EIO'
            ? ' The device reported an I/O error; check the disk (dmesg) before trusting it again.'
            : sys?.code === 'EMFILE' || sys?.code === 'ENFILE'
              ? ' The process ran out of file descriptors; raise its limit (ulimit -n).'
              : '';
  return new StorageError('ZABLAB_STORAGE_IO', `cannot ${action} ${path}: ${why}.${hint}`, { cause });
}

/** Where damage was found: a file, an offset, and the zxids around the unreadable part. */
export interface DamageSite {
  file: string;
  offset: number;
  /** The last valid zxid before the damage. */
  after: bigint;
  /** The first valid zxid after it, or null when unknown. */
  next: bigint | null;
}

/**
 * Data that was written whole and acknowledged cannot be read back (a flipped bit, a lost
 * write, a damaged snapshot without an older one the log still reaches). Never cut silently.
 */
export class StorageDamageError extends StorageError {
  constructor(
    message: string,
    readonly site: DamageSite | null = null,
  ) {
    super('ZABLAB_STORAGE_DAMAGED', message);
    this.name = 'StorageDamageError';
  }
}
