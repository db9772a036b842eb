/**
 * Every `zablab` command, in the order `zablab --help` lists them. Add new commands here.
 * Each is loaded only when asked for: `zablab server` (what every restart runs) should not
 * pay for loading the harness, which took half a second of its start.
 */
import type { CliCommand } from '../registry.js';

const COMMANDS: readonly (readonly [string, () => Promise<CliCommand>])[] = [
  ['bench', async () => (await import('./bench.js')).benchCommand],
  ['report', async () => (await import('./report.js')).reportCommand],
  ['history', async () => (await import('./history.js')).historyCommand],
  ['server', async () => (await import('./server.js')).serverCommand],
  ['repair-log', async () => (await import('./repair-log.js')).repairLogCommand],
  ['ensemble', async () => (await import('./ensemble.js')).ensembleCommand],
  ['watch', async () => (await import('./watch.js')).watchCommand],
  ['dashboards', async () => (await import('./dashboards.js')).dashboardsCommand],
  ['compose', async () => (await import('./compose.js')).composeCommand],
  ['sim', async () => (await import('./sim.js')).simCommand],
];

/** The command `first` names alone when it names one; every command otherwise (help, a typo to suggest for). */
export async function loadCommands(first?: string): Promise<CliCommand[]> {
  const one = COMMANDS.find(([name]) => name === first);
  const wanted = one === undefined ? COMMANDS : [one];
  const loaded = await Promise.all(wanted.map(([, load]) => load()));
  for (const [i, cmd] of loaded.entries()) {
    if (cmd.name !== wanted[i]![0]) throw new Error(`command module for ${wanted[i]![0]} declares ${cmd.name}`);
  }
  return loaded;
}
