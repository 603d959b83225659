import { DisplayRole, displayRoleLabels, type DisplayId, type DisplayInfo } from '@roomlink/shared';
import type { Monitor } from './platform';

/** Which monitor plays which role, by the system's monitor name (e.g. `console=DUMMY0`). */
export type DisplayMapping = Partial<Record<DisplayRole, string>>;

export interface NamedDisplay {
  info: DisplayInfo;
  monitor: Monitor;
}

/** Parses `console=DUMMY0,frontOfRoom1=DUMMY1`; a clear error names the bad part. */
export function parseDisplayMapping(text: string): DisplayMapping {
  const mapping: DisplayMapping = {};
  for (const part of text.split(',').filter((p) => p.trim() !== '')) {
    const [role, name] = part.split('=').map((s) => s.trim());
    const parsed = DisplayRole.safeParse(role);
    if (!parsed.success || !name) throw new Error(`Display mapping "${part}" is not role=monitor with a role of ${DisplayRole.options.join(', ')}.`);
    mapping[parsed.data] = name;
  }
  return mapping;
}

/**
 * Gives every monitor its room role. Mapped names win; otherwise the primary
 * monitor is the console and the others are front-of-room displays from left
 * to right, which is how a Teams Rooms device is usually cabled.
 */
export function nameDisplays(monitors: readonly Monitor[], mapping: DisplayMapping = {}): NamedDisplay[] {
  const roles = new Map<string, DisplayRole>();
  for (const role of DisplayRole.options) {
    const name = mapping[role];
    const monitor = name === undefined ? undefined : monitors.find((m) => m.name === name);
    if (monitor && !roles.has(monitor.id)) roles.set(monitor.id, role);
  }
  const free = DisplayRole.options.filter((role) => ![...roles.values()].includes(role));
  const unmapped = monitors.filter((m) => !roles.has(m.id)).sort((a, b) => Number(b.primary) - Number(a.primary) || a.x - b.x || a.y - b.y);
  for (const monitor of unmapped) {
    const role = free.shift();
    if (role) roles.set(monitor.id, role);
  }
  const named = monitors.map((monitor) => {
    const role = roles.get(monitor.id) ?? null;
    const info: DisplayInfo = {
      id: (role ?? `display-${monitor.name.replace(/[^\w.:@-]/g, '_')}`) as DisplayId,
      role,
      label: role ? displayRoleLabels[role] : monitor.name.slice(0, 64),
      width: monitor.width,
      height: monitor.height,
      x: monitor.x,
      y: monitor.y,
    };
    return { info, monitor };
  });
  const order = (d: NamedDisplay) => (d.info.role ? DisplayRole.options.indexOf(d.info.role) : DisplayRole.options.length);
  return named.sort((a, b) => order(a) - order(b) || a.monitor.x - b.monitor.x);
}
