/**
 * `mntr`: ZooKeeper's monitoring four-letter word, one `zk_<key>\t<value>` line per metric.
 * zablab and Apache ZooKeeper answer in the same format, so one parser serves every driver.
 */
import type { MemberMetrics } from './types.js';

/** More lines than any mntr answer has (ZooKeeper 3.8 prints a few hundred). */
export const MNTR_LINES_MAX = 10_000;

const NUMBER = /^-?(\d+|\d*\.\d+)([eE][-+]?\d+)?$/;

/**
 * Parses an mntr answer: key → number when the value is a decimal number (integers beyond
 * 2^53 stay strings, so that no digit is silently lost), else the text as printed. Lines
 * without a tab (e.g. "This ZooKeeper instance is not currently serving requests") are
 * skipped; a key printed twice keeps its last value.
 */
export function parseMntr(text: string): MemberMetrics {
  const metrics: MemberMetrics = {};
  const lines = text.split('\n');
  for (const raw of lines.slice(0, MNTR_LINES_MAX)) {
    const line = raw.replace(/\r$/, '');
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const key = line.slice(0, tab).trim();
    const value = line.slice(tab + 1).trim();
    if (key === '') continue;
    metrics[key] = parseValue(value);
  }
  return metrics;
}

function parseValue(value: string): number | string {
  if (!NUMBER.test(value)) return value;
  const n = Number(value);
  if (!Number.isFinite(n)) return value;
  if (Number.isInteger(n) && !Number.isSafeInteger(n) && !/[.eE]/.test(value)) return value;
  return n;
}
