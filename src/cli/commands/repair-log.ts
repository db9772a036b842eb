/**
 * `zablab repair-log --config zoo.cfg [--truncate-at ZXID] [--yes]`: the one explicit way to
 * accept losing txns that damage made unreadable. It reads the server's data directories,
 * says what is damaged, and what cutting the history at ZXID (by default: where the readable
 * history ends) would drop; only with --yes does it do it. Nothing is deleted: every file it
 * changes is first kept as `damaged.<name>`. A server marked recovering votes again afterwards.
 */
import net from 'node:net';
import { loadConfig, type ZabConfig } from '../../server/config.js';
import { createLogger } from '../../server/log.js';
import { inspectStorage, storageLayout } from '../../server/zk-database.js';
import { zxidHex } from '../../jute/index.js';
import { clearRecovering, cutHistory, describeDamage, planCut, readRecovering, type CutPlan } from '../../storage/index.js';
import { UsageError, type CliCommand, type CliIO, type ParsedArgs } from '../registry.js';

export const repairLogCommand: CliCommand = {
  name: 'repair-log',
  summary: "accept losing a damaged disk's unreadable txns: cut its history at a zxid (dry run unless --yes)",
  description: [
    'Reads the txn log and snapshots of the server zoo.cfg names (stop it first) and says what is',
    'damaged. With --truncate-at (default: where the readable history ends) it lists what cutting',
    'the history there drops; with --yes it does it. Every file it changes is kept as damaged.<name>.',
    'A server marked recovering (it found damage in an ensemble) votes again afterwards: use this only',
    'when no other server holds the lost txns (damage on a majority), or to restart a standalone server',
    'with less than it acknowledged.',
  ].join('\n'),
  options: {
    config: { type: 'string', short: 'c', valueName: '<zoo.cfg>', description: "the server's config file", required: true },
    'truncate-at': { type: 'string', valueName: '<zxid>', description: 'keep the history through this zxid (hex 0x... or decimal)' },
    yes: { type: 'boolean', description: 'do it (without: a dry run that changes nothing)' },
  },
  run: repairLog,
};

async function repairLog(args: ParsedArgs, io: CliIO): Promise<number> {
  const cfg = loadConfig(args.string('config')!);
  const at = parseZxid(args.string('truncate-at'));
  if (await clientPortAnswers(cfg)) {
    io.stderr(`zablab repair-log: the server of ${cfg.configPath ?? 'this config'} answers on ${cfg.clientPortAddress}:${cfg.clientPort}; stop it first\n`);
    return 1;
  }
  const log = createLogger({ serverId: cfg.serverId, level: 'error' });
  const layout = storageLayout(cfg);
  const { inputs, plan } = await inspectStorage(layout, log);
  const recovering = await readRecovering(layout.fs, layout.snapDir);
  const out: string[] = [];
  const base = plan.snapshot?.zxid ?? 0n;
  out.push(`data: ${cfg.dataDir}${cfg.dataLogDir === cfg.dataDir ? '' : `, txn log: ${cfg.dataLogDir}`}`);
  out.push(
    plan.damage === null
      ? `no damage: the history is readable from ${zxidHex(base)} (${plan.snapshot === null ? 'no snapshot' : 'snapshot'}) through ${zxidHex(plan.validThrough)}`
      : `DAMAGED: ${describeDamage(plan.damage)}`,
  );
  if (recovering !== null) out.push(`marked recovering: ${recovering}`);
  if (plan.damage === null && recovering === null && at === undefined) {
    io.stdout(`${out.join('\n')}\nnothing to do\n`);
    return 0;
  }
  const target = at ?? plan.validThrough;
  let cut: CutPlan;
  try {
    cut = await planCut(inputs, plan, target);
  } catch (err) {
    io.stderr(`${out.join('\n')}\nzablab repair-log: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  out.push(`cutting the history at ${zxidHex(target)}:`);
  out.push(...describeCut(cut, plan.damage !== null));
  if (recovering !== null) out.push('  - clears the recovering mark: the server votes again with this history, accepting the loss');
  if (!args.flag('yes')) {
    io.stdout(`${out.join('\n')}\ndry run: nothing changed. Run again with --yes to do it.\n`);
    return 0;
  }
  await cutHistory(inputs, cut);
  if (recovering !== null) await clearRecovering(layout.fs, layout.snapDir);
  await inputs.snaps.close();
  io.stdout(`${out.join('\n')}\ndone: the history now ends at ${zxidHex(target)}; the files set aside are named damaged.*\n`);
  return 0;
}

function describeCut(cut: CutPlan, damaged: boolean): string[] {
  const lines: string[] = [];
  for (const s of cut.snapshots) lines.push(`  - sets aside ${s.file} (${s.why})`);
  for (const f of cut.logFiles) lines.push(`  - sets aside ${f}`);
  if (cut.cutFile !== null) {
    lines.push(`  - keeps ${cut.cutFile.file} through ${zxidHex(cut.cutFile.lastZxid)} (${cut.cutFile.keepBytes} bytes), after copying it whole to damaged.*`);
  }
  const d = cut.dropped;
  lines.push(
    d === null
      ? `  - drops no readable txn${damaged ? ' (only what the damaged bytes held)' : ''}`
      : `  - drops ${d.count} readable txns, ${zxidHex(d.first)} to ${zxidHex(d.last)}${damaged ? ', and whatever the damaged bytes held' : ''}`,
  );
  if (lines.length === 1 && d === null && !damaged) lines.push('  - changes nothing');
  return lines;
}

function parseZxid(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^(0x[0-9a-fA-F]{1,16}|\d{1,20})$/.test(t)) throw new UsageError(`--truncate-at must be a zxid (0x... or decimal), got "${text}"`, 'zablab repair-log --help');
  return BigInt(t);
}

/** Is something listening on the server's client port (the server still runs)? */
function clientPortAnswers(cfg: ZabConfig): Promise<boolean> {
  return new Promise((resolve) => {
    const host = cfg.clientPortAddress === '0.0.0.0' || cfg.clientPortAddress === '' ? '127.0.0.1' : cfg.clientPortAddress;
    const socket = net.connect({ host, port: cfg.clientPort });
    const done = (v: boolean): void => {
      socket.destroy();
      resolve(v);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}
