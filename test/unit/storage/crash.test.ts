/**
 * Crash safety with a real process and a real SIGKILL: every txn whose commit() resolved (the
 * child says so on stdout) is in the log after a restart, and the log reads to its end.
 * The child runs our TypeScript sources, transpiled with the project's own TypeScript.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeLoggedTxn } from '../../../src/jute/index.js';
import { FileTxnLog } from '../../../src/storage/index.js';
import { collect, crashTxnSize, makeTxn, tempDir } from './fixtures.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ROUNDS = 3;
const KILL_AFTER_DURABLE_LINES = 150;
const CHILD_TIMEOUT_MS = 20_000;

let work: { dir: string; cleanup: () => void };
let childScript: string;

/** Transpile what the child needs into `out`, keeping the layout so relative imports hold. */
function transpileTree(out: string, folders: string[], files: string[]): void {
  const sources = [
    ...folders.flatMap((folder) =>
      readdirSync(path.join(repoRoot, folder))
        .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
        .map((name) => path.join(folder, name)),
    ),
    ...files,
  ];
  for (const file of sources) {
    const source = readFileSync(path.join(repoRoot, file), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
      fileName: path.basename(file),
    });
    mkdirSync(path.join(out, path.dirname(file)), { recursive: true });
    writeFileSync(path.join(out, file.replace(/\.ts$/, '.js')), outputText);
  }
  writeFileSync(path.join(out, 'package.json'), '{"type":"module"}\n');
}

interface ChildRun {
  startZxid: bigint;
  lastDurable: bigint;
  stderr: string;
}

/** Run the child until it has reported `lines` durable commits, then SIGKILL it. */
function runAndKill(logDir: string, lines: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript, logDir, '1000000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let startZxid = -1n;
    let lastDurable = -1n;
    let seen = 0;
    let pendingText = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not report ${lines} commits in time; stderr: ${stderr}`));
    }, CHILD_TIMEOUT_MS);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      pendingText += d.toString();
      const parts = pendingText.split('\n');
      pendingText = parts.pop()!;
      for (const line of parts) {
        const [word, value] = line.split(' ');
        if (word === 'start') startZxid = BigInt(value!);
        if (word === 'durable') {
          lastDurable = BigInt(value!);
          seen++;
        }
      }
      if (seen >= lines && !killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited by itself (${signal ?? _code}); stderr: ${stderr}`));
      else resolve({ startZxid, lastDurable, stderr });
    });
  });
}

beforeAll(() => {
  work = tempDir('zablab-crash-');
  const build = path.join(work.dir, 'build');
  transpileTree(build, ['src/jute', 'src/storage'], ['test/unit/storage/fixtures.ts', 'test/unit/storage/crash-child.ts']);
  childScript = path.join(build, 'test/unit/storage/crash-child.js');
});
afterAll(() => work.cleanup());

describe('FileTxnLog under SIGKILL', () => {
  it('keeps every txn whose commit resolved, across repeated kills and restarts', { timeout: ROUNDS * CHILD_TIMEOUT_MS + 30_000 }, async () => {
    const logDir = path.join(work.dir, 'data', 'version-2');
    let expectedStart = 0n;
    for (let round = 0; round < ROUNDS; round++) {
      const run = await runAndKill(logDir, KILL_AFTER_DURABLE_LINES);
      // The child resumed exactly where the recovered log ended.
      expect(run.startZxid).toBe(expectedStart);
      expect(run.lastDurable).toBeGreaterThan(run.startZxid);

      const messages: string[] = [];
      const log = await FileTxnLog.open({ dir: logDir, preAllocSize: 32 * 1024, log: (m) => messages.push(m) });
      const txns = await collect(log.read(0n));
      // Readable to its end: a contiguous run 1..last, each txn byte for byte what was appended.
      expect(txns.length).toBe(Number(log.lastLoggedZxid()));
      for (const [i, t] of txns.entries()) {
        const zxid = BigInt(i + 1);
        expect(t.hdr.zxid).toBe(zxid);
        expect(encodeLoggedTxn(t).equals(encodeLoggedTxn(makeTxn(zxid, crashTxnSize(zxid))))).toBe(true);
      }
      expect(log.lastLoggedZxid()).toBeGreaterThanOrEqual(run.lastDurable);
      await log.close();
      expectedStart = txns.length === 0 ? 0n : txns.at(-1)!.hdr.zxid;
    }
    expect(readdirSync(logDir).length).toBeGreaterThan(1);
  });
});
