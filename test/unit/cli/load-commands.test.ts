/** `zablab <command>` loads that command's module alone; help and typos see every command. */
import { describe, expect, it } from 'vitest';
import { loadCommands } from '../../../src/cli/commands/index.js';

const ALL = ['bench', 'report', 'history', 'server', 'repair-log', 'ensemble', 'watch', 'dashboards', 'compose', 'sim'];

describe('loadCommands', () => {
  it('loads only the command the first argument names', async () => {
    expect((await loadCommands('server')).map((c) => c.name)).toEqual(['server']);
    expect((await loadCommands('ensemble')).map((c) => c.name)).toEqual(['ensemble']);
  });

  it('loads every command, in help order, for help, flags and unknown names', async () => {
    for (const first of [undefined, '--help', 'help', 'srever']) {
      expect((await loadCommands(first)).map((c) => c.name)).toEqual(ALL);
    }
  });
});
