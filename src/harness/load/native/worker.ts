/**
 * A native load worker: a child process forked by the native load driver, with its own event
 * loop and its own sessions. It answers the parent's requests (protocol.ts), sends progress
 * once a second, and exits when the parent goes away.
 */
import type { OpKind } from '../../scenario/types.js';
import type { OpCellSnapshot } from '../recorder.js';
import { NativeLoad } from './load.js';
import { isFaultNote, isWorkerRequest, type WorkerCommand, type WorkerProgress, type WorkerReplies, type WorkerReply } from './protocol.js';

const PROGRESS_EVERY_MS = 1_000;
const ROLL_EVERY_MS = 100;

class WorkerStateError extends Error {
  readonly code = 'ZABLAB_BENCH_LOAD';
}

let load: NativeLoad | null = null;
let opening = false;

function send(m: WorkerReply | WorkerProgress): void {
  // The parent may be gone; then there is no one to tell.
  if (process.connected) process.send?.(m);
}

function needLoad(): NativeLoad {
  if (load === null) throw new WorkerStateError('this worker has no sessions yet (send open first)');
  return load;
}

function emitSecond(t: number, cells: Partial<Record<OpKind, OpCellSnapshot>>): void {
  send({ second: { t, cells } });
}

async function handle<C extends WorkerCommand>(command: C): Promise<WorkerReplies[C['cmd']]>;
async function handle(command: WorkerCommand): Promise<WorkerReplies[WorkerCommand['cmd']]> {
  switch (command.cmd) {
    case 'open':
      if (load !== null || opening) throw new WorkerStateError('open: this worker is already open');
      opening = true;
      load = await NativeLoad.open(command.spec, emitSecond);
      return null;
    case 'prepare':
      await needLoad().prepare();
      return null;
    case 'start':
      needLoad().start();
      return null;
    case 'mark':
      needLoad().mark(command.atEpochMs);
      return null;
    case 'stop':
      return needLoad().stop(command.atEpochMs);
    case 'history':
      return needLoad().closeHistory();
    case 'close':
      await load?.close();
      load = null;
      return null;
  }
}

if (process.send === undefined) {
  console.error('worker.js is forked by the native load driver (zablab bench), not run by hand');
  process.exit(2);
}

process.on('message', (m: unknown) => {
  if (isFaultNote(m)) {
    load?.noteFault(m.fault);
    return;
  }
  if (!isWorkerRequest(m)) return;
  handle(m.command).then(
    (value) => send({ id: m.id, ok: true, value }),
    (err: unknown) => send({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});

let sinceProgressMs = 0;
setInterval(() => {
  load?.rollSeconds();
  sinceProgressMs += ROLL_EVERY_MS;
  if (sinceProgressMs >= PROGRESS_EVERY_MS && load !== null) {
    sinceProgressMs = 0;
    send({ liveOpsPerSec: load.recorder.liveOps() });
  }
}, ROLL_EVERY_MS);

// Parent gone (exited, crashed, killed): stop at once rather than load the servers unattended.
process.on('disconnect', () => process.exit(0));
