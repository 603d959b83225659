import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // Linux USER_HZ for /proc/<pid>/stat

/** CPU seconds used so far by a process (user + system), from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds used so far by each thread of a process, summed by thread name (libwebrtc names its threads). */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
  }
  return byName;
}

/** Percent of a core per thread name between two readings, busiest first, idle threads left out. */
export function threadCpuPercent(before: Map<string, number>, after: Map<string, number>, seconds: number): Record<string, number> {
  const rows = [...after].map(([name, s]) => [name, Math.round(((s - (before.get(name) ?? 0)) / seconds) * 1000) / 10] as const).filter(([, pct]) => pct > 0);
  return Object.fromEntries(rows.sort((a, b) => b[1] - a[1]));
}
