/** What every benchmark module's default export resolves to. */
export interface BenchRow {
  metric: string;
  value: number;
  unit: string;
  /** The figure the issue asks for, as text (`<= 5`), shown beside the measurement. */
  goal?: string;
}

export interface BenchReport {
  name: string;
  rows: BenchRow[];
  /** The conditions of the run: sizes, machine, versions. */
  context?: Record<string, unknown>;
}

export type Benchmark = () => Promise<BenchReport>;

export function formatTable(report: BenchReport): string {
  const header = ['metric', 'value', 'unit', 'goal'];
  const body = report.rows.map((row) => [row.metric, formatNumber(row.value), row.unit, row.goal ?? '']);
  const widths = header.map((_, column) => Math.max(...[header, ...body].map((line) => line[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 1 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ');
  return [`## ${report.name}`, line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(line)].join('\n');
}

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

/** Percentile of an unsorted sample, nearest-rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
