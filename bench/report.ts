import { median } from './stats';

/** Infinity is a latency with failed requests in it (see load.ts): shown as "inf", never hidden. */
export const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : n === Infinity ? 'inf' : 'n/a');
export const times = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}x` : n === Infinity ? 'inf (failed requests)' : 'n/a');

/** Right-aligned columns, first column left-aligned, indented. */
export function table(header: string[], rows: string[][], indent = '   '): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    indent + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Per-run rows for each metric, then a row of medians. */
export function runRows<T>(runs: T[], columns: Array<(run: T) => number>, digits: number[]): string[][] {
  const rows = runs.map((run, i) => [String(i + 1), ...columns.map((col, j) => fixed(col(run), digits[j]))]);
  rows.push(['median', ...columns.map((col, j) => fixed(median(runs.map(col)), digits[j]))]);
  return rows;
}

export const medianOf = <T>(runs: T[], pick: (run: T) => number) => median(runs.map(pick));
