/** Every `zablab` command, in the order `zablab --help` lists them. Add new commands here. */
import type { CliCommand } from '../registry.js';
import { ensembleCommand } from './ensemble.js';
import { serverCommand } from './server.js';
import { simCommand } from './sim.js';

export const commands: CliCommand[] = [serverCommand, ensembleCommand, simCommand];
