import type { Figure } from './figures.ts';

export type Row = [figure: string, value: string, spread: string, target: string, met: string];

export function fmt(figure: Figure, digits = 1): [string, string] {
  return [figure.median.toFixed(digits), `${figure.min.toFixed(digits)}-${figure.max.toFixed(digits)}`];
}

/** A plain-text table, also valid Markdown (README "Performance"). */
export function renderTable(rows: Row[]): string {
  const header: Row = ['figure', 'median', 'spread (min-max)', 'target', 'met'];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
