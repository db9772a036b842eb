/** Series colours: Tableau 10 (distinct on white and for most colour-vision deficiencies). */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'] as const;

export function seriesColor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

/** Past the palette's length series repeat a colour, so they get a dash pattern too. */
export function seriesDash(index: number): string | undefined {
  return index >= PALETTE.length ? '5 3' : undefined;
}

export const FAULT_COLOR = '#c0392b';
export const LEADER_COLOR = '#6c5ce7';
