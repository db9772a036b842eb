/**
 * The built `zablab` CLI as a real process (`npm run build` first; `npm test` does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../helpers/ports.js';
import { waitForServing } from '../../helpers/probe.js';

const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const PACKAGE = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
const RUN_TIMEOUT_MS = 20_000;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcess): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`zablab did not exit within ${RUN_TIMEOUT_MS} ms; stderr so far:\n${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function zablab(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return collect(child);
}

function fourLetterWord(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(word));
    let text = '';
    s.setTimeout(5000, () => s.destroy(new Error(`no answer to ${word} within 5 s`)));
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.once('error', reject);
    s.once('close', () => resolve(text));
  });
}

let tmp: string;
beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${path.relative(process.cwd(), CLI)} is missing; run \`npm run build\` first`);
});
afterEach(() => {
  if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
});
function tempDir(): string {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zablab-cli-'));
  return tmp;
}

describe('help', () => {
  it('zablab --help lists the commands and exits 0', async () => {
    const r = await zablab(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^zablab \S+: /);
    expect(r.stdout).toContain('Usage: zablab <command> [options]');
    expect(r.stdout).toMatch(/\n {2}server +run one zablab server in the foreground\n/);
    expect(r.stdout).toMatch(/\n {2}help +show help for a command\n/);
  });

  it('zablab help server and zablab server --help print the same usage with every option', async () => {
    const a = await zablab(['help', 'server']);
    const b = await zablab(['server', '--help']);
    const c = await zablab(['server', '-h']);
    expect([a.code, b.code, c.code]).toEqual([0, 0, 0]);
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).toBe(a.stdout);
    expect(a.stdout).toContain('Usage: zablab server --config <zoo.cfg> [--log-level <level>]');
    expect(a.stdout).toMatch(/-c, --config <zoo\.cfg> +ZooKeeper-style config file \(required\)/);
    expect(a.stdout).toMatch(/--log-level <level> +log level: debug, info, warn, error/);
    expect(a.stdout).toMatch(/-h, --help +show this help/);
  });

  it('zablab with no command prints help on stderr and exits 2', async () => {
    const r = await zablab([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: zablab <command> [options]');
  });

  it('--version prints package.json\'s version', async () => {
    const r = await zablab(['--version']);
    expect([r.code, r.stdout]).toEqual([0, `${PACKAGE.version}\n`]);
  });
});

describe('usage errors: one line naming the mistake, exit 2', () => {
  const cases: [string[], string][] = [
    [['nope'], 'zablab: unknown command "nope" for `zablab`; run `zablab --help`\n'],
    [['serve'], 'zablab: unknown command "serve" for `zablab` (did you mean "server"?); run `zablab --help`\n'],
    [['--frobnicate'], 'zablab: unknown option "--frobnicate"; run `zablab --help`\n'],
    [['help', 'nope'], 'zablab: unknown command "nope" for `zablab`; run `zablab --help`\n'],
    [['server', '--bogus'], 'zablab: unknown option "--bogus" for `zablab server`; run `zablab server --help`\n'],
    [['server'], 'zablab: `zablab server` needs --config <zoo.cfg>; run `zablab server --help`\n'],
    [['server', '--config'], 'zablab: option --config needs a value; run `zablab server --help`\n'],
    [['server', '-c', 'a.cfg', 'extra'], 'zablab: unexpected argument "extra" for `zablab server`; run `zablab server --help`\n'],
    [['server', '-c', 'a.cfg', '--log-level', 'loud'], 'zablab: --log-level must be one of debug, info, warn, error, got "loud"; run `zablab server --help`\n'],
  ];
  it.each(cases)('zablab %j', async (args, stderr) => {
    const r = await zablab(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(stderr);
  });
});

describe('zablab server', () => {
  it('a config that cannot be read: one line, no stack, exit 1', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'missing.cfg');
    const r = await zablab(['server', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`zablab: cannot read config file ${file} (ENOENT); pass the path of an existing zoo.cfg\n`);
  });

  it('a config error names the line and key: one line, no stack, exit 1', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(file, `dataDir=${dir}\ntickTime=abc\nclientPort=2181\n`);
    const r = await zablab(['server', '-c', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('zablab: zoo.cfg line 2: tickTime must be a positive integer (milliseconds), got "abc"\n');
    const typo = path.join(dir, 'typo.cfg');
    fs.writeFileSync(typo, `dataDir=${dir}\nclientPort=2181\nsnapcount=10\n`);
    expect((await zablab(['server', '-c', typo])).stderr).toBe('zablab: typo.cfg line 3: unknown key "snapcount"; did you mean "snapCount"?\n');
  });

  describe('a running server', () => {
    let serverLoads = true;
    beforeAll(async () => {
      // The server layer is written in parallel with the CLI; skip (not fail) while it cannot load.
      try {
        await import(new URL('../../../dist/server/index.js', import.meta.url).href);
      } catch {
        serverLoads = false;
      }
    });

    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`prints config warnings, serves, and exits 0 on ${signal}`, async (ctx) => {
        if (!serverLoads) ctx.skip();
        const dir = tempDir();
        const [clientPort, adminPort] = await freePorts(2);
        const file = path.join(dir, 'zoo.cfg');
        fs.writeFileSync(
          file,
          [
            `dataDir=${path.join(dir, 'data')}`,
            `clientPort=${clientPort}`,
            'clientPortAddress=127.0.0.1',
            'tickTime=500',
            `admin.serverPort=${adminPort}`,
            '4lw.commands.whitelist=ruok,srvr',
            'maxResponseCacheSize=0',
          ].join('\n') + '\n',
        );
        const child = spawn(process.execPath, [CLI, 'server', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
        const done = collect(child);
        try {
          await waitForServing('127.0.0.1', clientPort!, 15_000);
          expect(await fourLetterWord(clientPort!, 'ruok')).toBe('imok');
          expect(await fourLetterWord(clientPort!, 'srvr')).toMatch(/^Zookeeper version: .*\nMode: standalone\n/s);
        } finally {
          child.kill(signal);
        }
        const r = await done;
        expect(r.code).toBe(0);
        expect(r.stderr).toMatch(
          /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN \[myid:0\] zoo\.cfg line 7: maxResponseCacheSize is a ZooKeeper setting that zablab does not implement; ignored$/m,
        );
        expect(r.stderr).toMatch(new RegExp(`INFO \\[myid:0\\] shutting down signal=${signal}$`, 'm'));
        expect(r.stderr).not.toMatch(/^\s+at /m);
      });
    }
  });
});
