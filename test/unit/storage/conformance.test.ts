import { afterEach } from 'vitest';
import { FileSnapStore, FileTxnLog, MemoryFs } from '../../../src/storage/index.js';
import { tempDir } from './fixtures.js';
import { runSnapStoreConformance } from './snapstore.conformance.js';
import { runTxnLogConformance } from './txnlog.conformance.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function freshDir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

const quiet = (): void => undefined;

runTxnLogConformance('FileTxnLog on MemoryFs', async () => {
  const fs = new MemoryFs();
  const open = (): Promise<FileTxnLog> => FileTxnLog.open({ fs, dir: '/data/version-2', preAllocSize: 16 * 1024, log: quiet });
  return { log: await open(), reopen: open };
}, { restarts: true });

runTxnLogConformance('FileTxnLog', async () => {
  const dir = freshDir();
  // A small pre-allocation step so that growing the file is exercised too.
  const open = (): Promise<FileTxnLog> => FileTxnLog.open({ dir, preAllocSize: 16 * 1024, log: quiet });
  return { log: await open(), reopen: open };
}, { restarts: true });

runSnapStoreConformance('FileSnapStore on MemoryFs', async () => {
  const fs = new MemoryFs();
  const open = (): Promise<FileSnapStore> => FileSnapStore.open({ fs, dir: '/data/version-2', log: quiet });
  return { store: await open(), reopen: open };
});

runSnapStoreConformance('FileSnapStore', async () => {
  const dir = freshDir();
  const open = (): Promise<FileSnapStore> => FileSnapStore.open({ dir, log: quiet });
  return { store: await open(), reopen: open };
});
