/**
 * Scenario files: reading one from disk, and the built-in ones shipped in the package's bench/
 * folder (found relative to this module: src/harness/scenario and dist/harness/scenario are
 * both three levels below the package root).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessError } from '../errors.js';
import { MAX_SCENARIO_CHARS, parseScenario } from './parse.js';
import type { Scenario } from './types.js';

const BUILTIN_DIR = fileURLToPath(new URL('../../../bench/', import.meta.url));
const SCENARIO_EXT = '.yaml';
const MAX_BUILTINS = 1_000;

/** Names of the built-in scenarios (bench/<name>.yaml), sorted. */
export function builtinScenarioNames(): string[] {
  let files: string[];
  try {
    files = readdirSync(BUILTIN_DIR);
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith(SCENARIO_EXT))
    .map((f) => f.slice(0, -SCENARIO_EXT.length))
    .filter((n) => /^[a-z0-9-]+$/.test(n))
    .sort()
    .slice(0, MAX_BUILTINS);
}

/** The path of built-in scenario `name` (e.g. `quickstart` → <package>/bench/quickstart.yaml). */
export function builtinScenario(name: string): string {
  const file = path.join(BUILTIN_DIR, `${name}${SCENARIO_EXT}`);
  if (!/^[a-z0-9-]+$/.test(name) || !existsSync(file)) {
    throw new HarnessError('ZABLAB_BENCH_SCENARIO', `there is no built-in scenario "${name}"; built-in ones: ${builtinList()}`);
  }
  return file;
}

/** Reads and parses a scenario file; `file` is also the source its messages name. */
export function loadScenarioFile(file: string): Scenario {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new HarnessError('ZABLAB_BENCH_SCENARIO', `${file}: is not a file: give the path of a scenario YAML file`);
    size = st.size;
  } catch (err) {
    if (err instanceof HarnessError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new HarnessError('ZABLAB_BENCH_SCENARIO', `${file}: no such file: give the path of a scenario YAML file (built-in ones: ${builtinList()})`);
    }
    throw new HarnessError('ZABLAB_BENCH_SCENARIO', `${file}: cannot be read: ${(err as Error).message}`);
  }
  // A cheap bound before reading (a character is at most 4 bytes of UTF-8); parseScenario counts the characters.
  if (size > MAX_SCENARIO_CHARS * 4) {
    throw new HarnessError('ZABLAB_BENCH_SCENARIO', `${file}: is ${size} bytes; a scenario file may have at most ${MAX_SCENARIO_CHARS} characters`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HarnessError('ZABLAB_BENCH_SCENARIO', `${file}: cannot be read: ${(err as Error).message}`);
  }
  return parseScenario(text, file);
}

function builtinList(): string {
  const names = builtinScenarioNames();
  return names.length === 0 ? '(none found next to this installation)' : names.join(', ');
}
