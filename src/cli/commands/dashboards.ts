/** `zablab dashboards [--out DIR] [--check]`: regenerate (or check) the Grafana dashboards. */
import path from 'node:path';
import type { CliCommand, CliIO, ParsedArgs } from '../registry.js';

export const dashboardsCommand: CliCommand = {
  name: 'dashboards',
  summary: 'write the Grafana dashboards (dashboards/*.json) from their code, or --check them',
  description: [
    'Generates the Grafana dashboards "ZAB ensemble" and "ZAB write path" (Prometheus data source,',
    'a `server` variable over the `instance` label, fault annotations) and writes them into DIR',
    "(default: the package's dashboards/ folder). With --check, writes nothing and exits 1 naming",
    'every file that is missing or differs from what the code generates.',
  ].join('\n'),
  options: {
    out: { type: 'string', short: 'o', valueName: '<DIR>', description: "directory for the JSON files (default: the package's dashboards/)" },
    check: { type: 'boolean', description: 'compare instead of writing; exit 1 when a file is missing or differs' },
  },
  run: runDashboards,
};

function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') ? file : rel;
}

async function runDashboards(args: ParsedArgs, io: CliIO): Promise<number> {
  // Loaded on use: the Grafana SDK is needed by this command only.
  const { DashboardsError, defaultDashboardsDir, staleDashboards, writeDashboards } = await import('../../dashboards/index.js');
  const dir = path.resolve(args.string('out') ?? defaultDashboardsDir());
  if (args.flag('check')) {
    const stale = staleDashboards(dir);
    if (stale.length === 0) {
      io.stdout(`dashboards in ${shown(dir)} are up to date\n`);
      return 0;
    }
    const what = stale.map((s) => `${shown(s.file)} ${s.reason === 'missing' ? 'is missing' : 'differs from the generated dashboard'}`);
    const out = args.string('out') === undefined ? '' : ` --out ${args.string('out')}`;
    throw new DashboardsError('ZABLAB_DASHBOARDS_STALE', `${what.join('; ')}; run \`zablab dashboards${out}\` to regenerate`);
  }
  for (const file of writeDashboards(dir)) io.stdout(`wrote ${shown(file)}\n`);
  return 0;
}
