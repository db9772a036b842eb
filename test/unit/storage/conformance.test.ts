import { afterEach } from 'vitest';
import { FileSnapStore, FileTxnLog, MemorySnapStore, MemoryTxnLog } from '../../../src/storage/index.js';
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

runTxnLogConformance('MemoryTxnLog', async () => ({ log: new MemoryTxnLog() }), { restarts: false });

runTxnLogConformance('FileTxnLog', async () => {
  const dir = freshDir();
  // A small pre-allocation step so that growing the file is exercised too.
  const open = (): Promise<FileTxnLog> => FileTxnLog.open({ dir, preAllocSize: 16 * 1024, log: quiet });
  return { log: await open(), reopen: open };
}, { restarts: true });

runSnapStoreConformance('MemorySnapStore', async () => ({ store: new MemorySnapStore() }));

runSnapStoreConformance('FileSnapStore', async () => {
  const dir = freshDir();
  const open = (): Promise<FileSnapStore> => FileSnapStore.open({ dir, log: quiet });
  return { store: await open(), reopen: open };
});
