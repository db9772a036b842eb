/**
 * An option whose value may be left out (`zablab bench --live` or `--live 8080`): the value
 * is taken only when it is a number, so the positional after a bare `--live` stays one.
 */
import { describe, expect, it } from 'vitest';
import { runCli, type CliCommand, type CliProgram } from '../../../src/cli/registry.js';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string; seen: unknown[] }> {
  const seen: unknown[] = [];
  const bench: CliCommand = {
    name: 'bench',
    summary: 'run scenarios',
    positionals: [{ name: 'scenario', description: 'scenarios', variadic: true }],
    options: { live: { type: 'string', optionalValue: true, valueName: '<port>', description: 'serve a live view' }, out: { type: 'string', valueName: '<dir>', description: 'output' } },
    run: async (args) => {
      seen.push({ live: args.string('live') ?? null, positionals: args.positionals, out: args.string('out') ?? null });
    },
  };
  const prog: CliProgram = { name: 'zablab', version: '0', summary: 'test', commands: [bench] };
  let stdout = '';
  let stderr = '';
  const code = await runCli(prog, argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {} });
  return { code, stdout, stderr, seen };
}

describe('optionalValue options', () => {
  it('take a number after them, or nothing', async () => {
    expect((await run(['bench', '--live', '8080', 'leader-kill'])).seen).toEqual([{ live: '8080', positionals: ['leader-kill'], out: null }]);
    expect((await run(['bench', '--live', 'leader-kill'])).seen).toEqual([{ live: '', positionals: ['leader-kill'], out: null }]);
    expect((await run(['bench', 'leader-kill', '--live'])).seen).toEqual([{ live: '', positionals: ['leader-kill'], out: null }]);
    expect((await run(['bench', '--live', '--out', 'x'])).seen).toEqual([{ live: '', positionals: [], out: 'x' }]);
    expect((await run(['bench', '--live=abc'])).seen).toEqual([{ live: 'abc', positionals: [], out: null }]);
    expect((await run(['bench'])).seen).toEqual([{ live: null, positionals: [], out: null }]);
  });

  it('show their value as optional in the help', async () => {
    expect((await run(['bench', '--help'])).stdout).toContain('Usage: zablab bench [--live [<port>]] [--out <dir>] [<scenario>...]');
  });
});
