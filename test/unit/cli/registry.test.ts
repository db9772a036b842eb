/**
 * The command registry in-process: how later commands (with subcommands, positionals and
 * repeatable options) plug in, and how each kind of error is reported.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/server/config.js';
import { runCli, type CliCommand, type CliProgram } from '../../../src/cli/registry.js';

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
  calls: unknown[];
}

function program(): { prog: CliProgram; calls: unknown[] } {
  const calls: unknown[] = [];
  const up: CliCommand = {
    name: 'up',
    summary: 'start an ensemble',
    options: {
      voters: { type: 'string', valueName: '<n>', description: 'participants', required: true },
      set: { type: 'string', multiple: true, valueName: '<key=value>', description: 'a zoo.cfg setting' },
      quiet: { type: 'boolean', short: 'q', description: 'say less' },
    },
    run: async (args) => {
      calls.push({ voters: args.string('voters'), set: args.strings('set'), quiet: args.flag('quiet') });
      return 0;
    },
  };
  const fail: CliCommand = {
    name: 'fail',
    summary: 'fails in the named way',
    positionals: [{ name: 'how', description: 'ours | bug | code', required: true }],
    run: async (args) => {
      const how = args.positionals[0];
      if (how === 'ours') throw new ConfigError('zoo.cfg line 1: tickTime must be a positive integer (milliseconds), got "x"');
      if (how === 'bug') throw new TypeError('x is not a function');
      return 3;
    },
  };
  const report: CliCommand = {
    name: 'report',
    summary: 'write reports',
    positionals: [{ name: 'dirs', description: 'result directories', variadic: true }],
    run: async (args) => {
      calls.push(args.positionals);
    },
  };
  const ensemble: CliCommand = { name: 'ensemble', summary: 'local ensembles', subcommands: [up] };
  return { prog: { name: 'zablab', version: '9.9.9', summary: 'test program', commands: [ensemble, fail, report] }, calls };
}

async function run(argv: string[]): Promise<Captured> {
  const { prog, calls } = program();
  let stdout = '';
  let stderr = '';
  const code = await runCli(prog, argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {} });
  return { code, stdout, stderr, calls };
}

describe('runCli', () => {
  it('runs a subcommand with parsed options', async () => {
    const r = await run(['ensemble', 'up', '--voters', '3', '--set', 'snapCount=10', '--set', 'tickTime=100', '-q']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.calls).toEqual([{ voters: '3', set: ['snapCount=10', 'tickTime=100'], quiet: true }]);
  });

  it('variadic positionals', async () => {
    expect((await run(['report', 'a', 'b', 'c'])).calls).toEqual([['a', 'b', 'c']]);
  });

  it('a command\'s exit code is the process\'s', async () => {
    expect((await run(['fail', 'code'])).code).toBe(3);
  });

  it('our errors: "zablab: <message>", no stack, exit 1', async () => {
    const r = await run(['fail', 'ours']);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'zablab: zoo.cfg line 1: tickTime must be a positive integer (milliseconds), got "x"\n' });
  });

  it('unexpected errors print the stack, exit 1', async () => {
    const r = await run(['fail', 'bug']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^zablab: unexpected error\nTypeError: x is not a function\n\s+at /);
  });

  it('help for a group lists its subcommands; a group without a subcommand is a usage error', async () => {
    const help = await run(['help', 'ensemble']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: zablab ensemble <command> [options]');
    expect(help.stdout).toMatch(/\n {2}up +start an ensemble\n/);
    expect((await run(['ensemble', '--help'])).stdout).toBe(help.stdout);
    const bare = await run(['ensemble']);
    expect([bare.code, bare.stdout, bare.stderr]).toEqual([2, '', help.stdout]);
  });

  it('help for a subcommand shows required, repeatable and positional arguments', async () => {
    const r = await run(['help', 'ensemble', 'up']);
    expect(r.stdout).toContain('Usage: zablab ensemble up --voters <n> [--set <key=value>]... [--quiet]');
    expect(r.stdout).toMatch(/--set <key=value> +a zoo\.cfg setting \(repeatable\)/);
    expect(r.stdout).toMatch(/--voters <n> +participants \(required\)/);
    expect((await run(['help', 'report'])).stdout).toContain('Usage: zablab report [<dirs>...]');
  });

  it('usage errors name the mistake and the help to read, exit 2', async () => {
    const cases: [string[], string][] = [
      [['ensemble', 'dowm'], 'zablab: unknown command "dowm" for `zablab ensemble`; run `zablab ensemble --help`\n'],
      [['ensemble', 'u'], 'zablab: unknown command "u" for `zablab ensemble` (did you mean "up"?); run `zablab ensemble --help`\n'],
      [['ensemble', '--x'], 'zablab: unknown option "--x" for `zablab ensemble`; run `zablab ensemble --help`\n'],
      [['ensemble', 'up'], 'zablab: `zablab ensemble up` needs --voters <n>; run `zablab ensemble up --help`\n'],
      [['ensemble', 'up', '--voters', '3', '--quiet=yes'], 'zablab: option --quiet does not take a value; run `zablab ensemble up --help`\n'],
      [['fail'], 'zablab: `zablab fail` needs <how>; run `zablab fail --help`\n'],
      [['fail', 'a', 'b'], 'zablab: unexpected argument "b" for `zablab fail`; run `zablab fail --help`\n'],
    ];
    for (const [argv, stderr] of cases) {
      const r = await run(argv);
      expect([argv, r.code, r.stdout, r.stderr]).toEqual([argv, 2, '', stderr]);
    }
  });

  it('refuses absurdly long argument lists', async () => {
    const r = await run(['report', ...Array.from({ length: 10_001 }, (_, i) => String(i))]);
    expect([r.code, r.stderr]).toEqual([2, 'zablab: too many arguments (10002; at most 10000); run `zablab --help`\n']);
  });
});
