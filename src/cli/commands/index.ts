/** Every `zablab` command, in the order `zablab --help` lists them. Add new commands here. */
import type { CliCommand } from '../registry.js';
import { benchCommand } from './bench.js';
import { composeCommand } from './compose.js';
import { dashboardsCommand } from './dashboards.js';
import { ensembleCommand } from './ensemble.js';
import { historyCommand } from './history.js';
import { repairLogCommand } from './repair-log.js';
import { reportCommand } from './report.js';
import { serverCommand } from './server.js';
import { simCommand } from './sim.js';
import { watchCommand } from './watch.js';

export const commands: CliCommand[] = [benchCommand, reportCommand, historyCommand, serverCommand, repairLogCommand, ensembleCommand, watchCommand, dashboardsCommand, composeCommand, simCommand];
