import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // Linux USER_HZ for /proc/<pid>/stat

/** A /proc stat line's name and its user + system CPU seconds; the name may hold spaces and parentheses, so the last ')' ends it. */
function parseStat(stat: string): { name: string; seconds: number } {
  const end = stat.lastIndexOf(')');
  const fields = stat.slice(end + 2).split(' ');
  return { name: stat.slice(stat.indexOf('(') + 1, end), seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
}

/** CPU seconds used so far by a process (user + system), from /proc. */
export function cpuSeconds(pid: number): number {
  return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).seconds;
}

/** CPU seconds used so far by each thread of a process, summed by thread name (libwebrtc names its threads). */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const { name, seconds } = parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    byName.set(name, (byName.get(name) ?? 0) + seconds);
  }
  return byName;
}

/** Percent of a core per thread name between two readings, busiest first, idle threads left out. */
export function threadCpuPercent(before: Map<string, number>, after: Map<string, number>, seconds: number): Record<string, number> {
  const rows = [...after].map(([name, s]) => [name, Math.round(((s - (before.get(name) ?? 0)) / seconds) * 1000) / 10] as const).filter(([, pct]) => pct > 0);
  return Object.fromEntries(rows.sort((a, b) => b[1] - a[1]));
}

/** CPU seconds used so far by every process whose command line contains `marker` (a browser's profile directory names all its processes). */
export function cpuSecondsOfProcessesWith(marker: string): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) total += cpuSeconds(Number(pid));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total;
}

/** The whole machine's CPU so far, in seconds of all cores together: busy, and busy plus idle (/proc/stat's first line). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / TICKS_PER_SECOND, total: (busy + idle + iowait) / TICKS_PER_SECOND };
}
