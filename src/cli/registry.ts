/**
 * The `zablab` command registry: each command declares its options once, and help texts,
 * parsing (node:util parseArgs) and error reporting follow from that declaration.
 *
 * Exit codes: 0 done, 1 an error (ours: one line; unexpected: with stack), 2 a usage error.
 */
import { parseArgs } from 'node:util';
import { editDistance } from '../server/config-keys.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The option may be given several times (e.g. `--set k=v --set k2=v2`). */
  multiple?: boolean;
  /** Placeholder in help texts, e.g. '<zoo.cfg>'. */
  valueName?: string;
  description: string;
  required?: boolean;
  /**
   * A string option whose value may be left out (`--live` or `--live 8080`): the value is
   * taken only when the next argument is a number, so a positional after it stays one;
   * left out, the option's value is ''.
   */
  optionalValue?: boolean;
}

export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
  /** Takes all remaining arguments; only the last positional may. */
  variadic?: boolean;
}

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
}

export interface CliCommand {
  name: string;
  /** One line for `zablab --help`. */
  summary: string;
  /** Paragraph(s) for `zablab help <name>`. */
  description?: string;
  options?: Record<string, OptionSpec>;
  positionals?: PositionalSpec[];
  /** `zablab <name> <sub> ...`; a command has either subcommands or run. */
  subcommands?: CliCommand[];
  /** Resolves to the exit code (default 0). */
  run?(args: ParsedArgs, io: CliIO): Promise<number | void>;
}

/** A usage mistake: wrong command, option or argument. Exit code 2. */
export class UsageError extends Error {
  readonly code = 'ZABLAB_USAGE';
  constructor(
    message: string,
    /** The help to point at, e.g. 'zablab server --help'. */
    readonly helpCommand = 'zablab --help',
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An error of ours (code ZABLAB_*): reported as one line without a stack. */
export function isZablabError(err: unknown): err is Error & { code: string } {
  return (
    err instanceof Error &&
    'code' in err &&
    typeof err.code === 'string' &&
    err.code.startsWith('ZABLAB_')
  );
}

export class ParsedArgs {
  constructor(
    private readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>,
    readonly positionals: string[],
  ) {}

  string(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === 'string' ? v : undefined;
  }

  strings(name: string): string[] {
    const v = this.values[name];
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
    return typeof v === 'string' ? [v] : [];
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }
}

/** An integer option in [min, max] (undefined when absent), or a usage error that names it. */
export function intOption(args: ParsedArgs, name: string, min: number, max: number, help: string): number | undefined {
  const text = args.string(name);
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${text}"`, help);
  }
  return n;
}

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };
/** Longest argument list accepted; a runaway shell glob is a mistake, not input. */
const MAX_ARGS = 10_000;

export interface CliProgram {
  name: string;
  version: string;
  summary: string;
  commands: CliCommand[];
}

/** Runs one command line; returns the exit code. Never throws. */
export async function runCli(program: CliProgram, argv: string[], io: CliIO): Promise<number> {
  try {
    if (argv.length > MAX_ARGS) throw new UsageError(`too many arguments (${argv.length}; at most ${MAX_ARGS})`);
    return await dispatch(program, argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`${program.name}: ${err.message}; run \`${err.helpCommand}\`\n`);
      return 2;
    }
    if (isZablabError(err)) {
      io.stderr(`${program.name}: ${err.message}\n`);
      return 1;
    }
    io.stderr(`${program.name}: unexpected error\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

async function dispatch(program: CliProgram, argv: string[], io: CliIO): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr(programHelp(program));
    return 2;
  }
  if (first === '--help' || first === '-h') {
    io.stdout(programHelp(program));
    return 0;
  }
  if (first === '--version') {
    io.stdout(`${program.version}\n`);
    return 0;
  }
  if (first === 'help') return help(program, rest, io);
  if (first.startsWith('-')) throw new UsageError(`unknown option "${first}"`);
  const cmd = findCommand(program.commands, first, program.name);
  return runCommand(cmd, [program.name, cmd.name], rest, io);
}

function help(program: CliProgram, names: string[], io: CliIO): number {
  if (names.length === 0) {
    io.stdout(programHelp(program));
    return 0;
  }
  let commands = program.commands;
  let cmd: CliCommand | undefined;
  const path = [program.name];
  for (const name of names) {
    cmd = findCommand(commands, name, path.join(' '));
    path.push(cmd.name);
    commands = cmd.subcommands ?? [];
  }
  io.stdout(commandHelp(cmd!, path));
  return 0;
}

function findCommand(commands: CliCommand[], name: string, where: string): CliCommand {
  const cmd = commands.find((c) => c.name === name);
  if (cmd !== undefined) return cmd;
  const near = commands.find((c) => editDistance(c.name, name) <= 2);
  const hint = near === undefined ? '' : ` (did you mean "${near.name}"?)`;
  throw new UsageError(`unknown command "${name}" for \`${where}\`${hint}`, `${where} --help`);
}

async function runCommand(cmd: CliCommand, path: string[], argv: string[], io: CliIO): Promise<number> {
  const helpCommand = `${path.join(' ')} --help`;
  if (cmd.subcommands !== undefined && cmd.subcommands.length > 0) {
    const [first, ...rest] = argv;
    if (first === undefined || first === '--help' || first === '-h') {
      (first === undefined ? io.stderr : io.stdout)(commandHelp(cmd, path));
      return first === undefined ? 2 : 0;
    }
    if (first.startsWith('-')) throw new UsageError(`unknown option "${first}" for \`${path.join(' ')}\``, helpCommand);
    const sub = findCommand(cmd.subcommands, first, path.join(' '));
    return runCommand(sub, [...path, sub.name], rest, io);
  }
  const args = parse(cmd, path, argv);
  if (args.flag('help')) {
    io.stdout(commandHelp(cmd, path));
    return 0;
  }
  if (cmd.run === undefined) throw new Error(`command ${path.join(' ')} has neither subcommands nor run()`);
  return (await cmd.run(args, io)) ?? 0;
}

function parse(cmd: CliCommand, path: string[], argv: string[]): ParsedArgs {
  const where = path.join(' ');
  const helpCommand = `${where} --help`;
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries({ ...cmd.options, help: HELP_OPTION })) {
    options[name] = { type: o.type, ...(o.short === undefined ? {} : { short: o.short }), ...(o.multiple ? { multiple: true } : {}) };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: withOptionalValues(cmd, argv), options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(describeParseError(err, where), helpCommand);
  }
  const values = parsed.values as Record<string, string | boolean | (string | boolean)[] | undefined>;
  const args = new ParsedArgs(values, parsed.positionals);
  if (args.flag('help')) return args;

  const specs = cmd.positionals ?? [];
  const variadic = specs.at(-1)?.variadic === true;
  if (!variadic && parsed.positionals.length > specs.length) {
    throw new UsageError(`unexpected argument "${parsed.positionals[specs.length]}" for \`${where}\``, helpCommand);
  }
  specs.forEach((p, i) => {
    if (p.required && parsed.positionals[i] === undefined) {
      throw new UsageError(`\`${where}\` needs <${p.name}>`, helpCommand);
    }
  });
  for (const [name, o] of Object.entries(cmd.options ?? {})) {
    if (o.required && values[name] === undefined) {
      throw new UsageError(`\`${where}\` needs --${name}${o.valueName === undefined ? '' : ` ${o.valueName}`}`, helpCommand);
    }
  }
  return args;
}

/** `--name` of an optionalValue option without a numeric value after it becomes `--name=`. */
function withOptionalValues(cmd: CliCommand, argv: string[]): string[] {
  const optional = new Set(Object.entries(cmd.options ?? {}).filter(([, o]) => o.optionalValue === true).map(([name]) => `--${name}`));
  if (optional.size === 0) return argv;
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (optional.has(a) && (next === undefined || !/^\d+$/.test(next))) out.push(`${a}=`);
    else out.push(a);
  }
  return out;
}

/** node:util's parse errors, in one short line that names the option. */
function describeParseError(err: unknown, where: string): string {
  const code = err instanceof Error && 'code' in err ? String(err.code) : '';
  const msg = err instanceof Error ? err.message : String(err);
  const named = /'([^']+)'/.exec(msg)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option "${named}" for \`${where}\``;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const option = /--[\w-]+/.exec(named)?.[0] ?? named;
      return /argument missing/.test(msg) ? `option ${option} needs a value` : `option ${option} does not take a value`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${named}" for \`${where}\``;
    default:
      return msg.split('\n')[0] ?? msg;
  }
}

// ---- help texts -----------------------------------------------------------------------

function programHelp(p: CliProgram): string {
  const width = Math.max(...p.commands.map((c) => c.name.length), 'help'.length) + 2;
  const lines = [
    `${p.name} ${p.version}: ${p.summary}`,
    '',
    `Usage: ${p.name} <command> [options]`,
    '',
    'Commands:',
    ...p.commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    `  ${'help'.padEnd(width)}show help for a command`,
    '',
    'Options:',
    '  -h, --help     show this help',
    `  --version      print ${p.name}'s version`,
    '',
    `Run \`${p.name} help <command>\` or \`${p.name} <command> --help\` for a command's options.`,
  ];
  return lines.join('\n') + '\n';
}

function optionValueText(o: OptionSpec): string {
  if (o.type !== 'string') return '';
  const v = o.valueName ?? '<value>';
  return o.optionalValue === true ? ` [${v}]` : ` ${v}`;
}

export function commandHelp(cmd: CliCommand, path: string[]): string {
  const where = path.join(' ');
  const lines: string[] = [];
  if (cmd.subcommands !== undefined && cmd.subcommands.length > 0) {
    const width = Math.max(...cmd.subcommands.map((c) => c.name.length)) + 2;
    lines.push(`Usage: ${where} <command> [options]`, '', cmd.description ?? cmd.summary, '', 'Commands:');
    for (const c of cmd.subcommands) lines.push(`  ${c.name.padEnd(width)}${c.summary}`);
    lines.push('', `Run \`${where} <command> --help\` for a command's options.`);
    return lines.join('\n') + '\n';
  }
  const options = Object.entries({ ...cmd.options, help: HELP_OPTION });
  const usageParts = [where];
  for (const [name, o] of Object.entries(cmd.options ?? {})) {
    const flag = `--${name}${optionValueText(o)}`;
    usageParts.push(o.required ? flag : `[${flag}]${o.multiple ? '...' : ''}`);
  }
  for (const p of cmd.positionals ?? []) {
    const ph = `<${p.name}>${p.variadic ? '...' : ''}`;
    usageParts.push(p.required ? ph : `[${ph}]`);
  }
  lines.push(`Usage: ${usageParts.join(' ')}`, '', cmd.description ?? cmd.summary);
  if ((cmd.positionals ?? []).length > 0) {
    lines.push('', 'Arguments:');
    const width = Math.max(...cmd.positionals!.map((p) => p.name.length + 2)) + 2;
    for (const p of cmd.positionals!) lines.push(`  ${`<${p.name}>`.padEnd(width)}${p.description}`);
  }
  const labels = options.map(([name, o]) => {
    const short = o.short === undefined ? '    ' : `-${o.short}, `;
    return `${short}--${name}${optionValueText(o)}`;
  });
  const width = Math.max(...labels.map((l) => l.length)) + 2;
  lines.push('', 'Options:');
  options.forEach(([, o], i) => {
    const notes = [o.required ? 'required' : '', o.multiple ? 'repeatable' : ''].filter((n) => n !== '');
    lines.push(`  ${labels[i]!.padEnd(width)}${o.description}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`);
  });
  return lines.join('\n') + '\n';
}
