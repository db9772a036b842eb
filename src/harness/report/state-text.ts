/** summary.md's sections on what state costs: the large state each run built, every server's resources. */
import { markdownTable, type Align } from './markdown.js';
import type { ResultsFile } from './results.js';
import {
  LARGE_STATE_CAPTION,
  LARGE_STATE_HEADERS,
  LARGE_STATE_NUMERIC,
  largeStateRows,
  RESOURCES_CAPTION,
  RESOURCES_HEADERS,
  RESOURCES_NUMERIC,
  resourcesRows,
} from './state-tables.js';

function align(numeric: readonly boolean[]): Align[] {
  return numeric.map((n) => (n ? 'right' : 'left'));
}

export function stateCostLines(results: ResultsFile): string[] {
  const out: string[] = [];
  const state = largeStateRows(results.runs);
  if (state.length > 0) out.push('## Large state', '', LARGE_STATE_CAPTION, '', markdownTable(LARGE_STATE_HEADERS, state, align(LARGE_STATE_NUMERIC)));
  const resources = resourcesRows(results.runs);
  if (resources.length > 0) out.push('## Server resources', '', RESOURCES_CAPTION, '', markdownTable(RESOURCES_HEADERS, resources, align(RESOURCES_NUMERIC)));
  return out;
}
