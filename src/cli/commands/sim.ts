/** `zablab sim`: run the deterministic ZAB simulator for one seed or many. */
import { simMain } from '../../sim/index.js';
import type { CliCommand, CliIO, ParsedArgs } from '../registry.js';

const PASS_THROUGH = ['seed', 'seeds', 'voters', 'observers', 'steps', 'liveness-ticks'] as const;

export const simCommand: CliCommand = {
  name: 'sim',
  summary: 'run the deterministic ZAB simulator (seeded faults, safety and liveness checks)',
  description: [
    'Runs ZAB peers (the same core the server uses) over a simulated network, disk and clock,',
    'with crashes, torn log tails, partitions, dropped connections and slow disks decided by one',
    'seed. After every step it checks that committed histories agree and no acknowledged write',
    'is lost; after the faults heal it checks that the ensemble converges. A failing run prints',
    'the one command that replays it. Exit code: 0 all held, 1 a violation.',
  ].join('\n'),
  options: {
    seed: { type: 'string', valueName: '<n>', description: 'first seed (default: random)' },
    seeds: { type: 'string', valueName: '<k>', description: 'how many seeds from --seed on (default: 1)' },
    voters: { type: 'string', valueName: '<v>', description: 'voters (default: chosen by the seed, 3 to 7)' },
    observers: { type: 'string', valueName: '<o>', description: 'observers (default: chosen by the seed, 0 to 3)' },
    steps: { type: 'string', valueName: '<ticks>', description: 'ticks of the fault phase' },
    'liveness-ticks': { type: 'string', valueName: '<ticks>', description: 'bound for convergence after the faults heal' },
    trace: { type: 'boolean', description: 'print every simulated event' },
  },
  run: (args: ParsedArgs, io: CliIO) => {
    const argv: string[] = [];
    for (const name of PASS_THROUGH) {
      const v = args.string(name);
      if (v !== undefined) argv.push(`--${name}`, v);
    }
    if (args.flag('trace')) argv.push('--trace');
    return simMain(argv, { stdout: (s) => io.stdout(s), stderr: (s) => io.stderr(s) }, 'npx zablab sim');
  },
};
