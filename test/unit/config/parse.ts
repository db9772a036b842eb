/** zoo.cfg lines in the config tests: the config they parse to, or the ConfigError they must raise. */
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { ConfigError, parseConfig, type ZabConfig } from '../../../src/server/config.js';

/** A dataDir that is never created: myid comes from the test. */
export const DATA = path.join(os.tmpdir(), 'zablab-config-test', 'data');

export function cfgOf(lines: string[], myid?: string): ZabConfig {
  return parseConfig(lines.join('\n') + '\n', { readMyid: () => myid });
}

export function errOf(lines: string[], myid?: string): ConfigError {
  try {
    cfgOf(lines, myid);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
