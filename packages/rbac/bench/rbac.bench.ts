import { performance } from 'node:perf_hooks';
import type { BenchReport } from '../../../scripts/bench/report';
import { percentile } from '../../../scripts/bench/report';
import { builtInRoles, remoteAccessLevel, roomsWithRemoteAccess, type Assignment, type Policy, type Principal, type Role, type RoomRef } from '../src';

/** A tenant of the size the issue names: 10,000 rooms, 300 roles, 3,000 assignments, users in 20 groups each. */
const ROOMS = 10_000;
const ROLES = 300;
const ASSIGNMENTS = 3_000;
const GROUPS = 500;
const USERS = 2_000;
const tenantId = 'bench-tenant';

let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const some = <T>(items: readonly T[], n: number): T[] => Array.from({ length: n }, () => pick(items));

const regions = ['emea', 'amer', 'apac'];
const buildings = Array.from({ length: 60 }, (_, i) => `building-${i}`);
const tags = Array.from({ length: 40 }, (_, i) => `tag-${i}`);
const groups = Array.from({ length: GROUPS }, (_, i) => `group-${i}`);
const rooms: RoomRef[] = Array.from({ length: ROOMS }, (_, i) => {
  const building = pick(buildings);
  return { id: `room-${i}`, tenantId, location: [pick(regions), building, `${building}-floor-${i % 8}`], tags: some(tags, 2) };
});
const roles: Role[] = [
  ...builtInRoles,
  ...Array.from({ length: ROLES }, (_, i): Role => ({
    id: `role-${i}`,
    name: `Role ${i}`,
    builtIn: false,
    permissions: i % 3 === 0 ? ['remoteAccess.modify'] : i % 3 === 1 ? ['remoteAccess.view', 'rooms.read'] : ['rooms.read'],
  })),
];
const assignments: Assignment[] = Array.from({ length: ASSIGNMENTS }, (_, i) => ({
  id: `assignment-${i}`,
  roleId: `role-${i % ROLES}`,
  users: some(Array.from({ length: USERS }, (_, u) => `user-${u}`), 3),
  groups: some(groups, 4),
  rooms: some(rooms, 3).map((room) => room.id),
  locations: random() < 0.3 ? [pick(buildings)] : [],
  tags: random() < 0.2 ? [pick(tags)] : [],
}));
const policy: Policy = { tenantId, remoteAccessEnabled: true, roles, assignments };
const principals: Principal[] = Array.from({ length: 200 }, (_, i) => ({ tenantId, userId: `user-${i}`, groups: some(groups, 20), directoryRoles: [] }));

export default async function bench(): Promise<BenchReport> {
  for (const principal of principals.slice(0, 20)) roomsWithRemoteAccess(policy, principal, rooms);

  // A fresh principal object each time: the per-principal tables are built inside the measurement.
  const listTimes = principals.map((principal) => {
    const fresh = { ...principal };
    const start = performance.now();
    roomsWithRemoteAccess(policy, fresh, rooms);
    return performance.now() - start;
  });
  const reachable = roomsWithRemoteAccess(policy, principals[0]!, rooms).size;

  const decisions = 200_000;
  const start = performance.now();
  for (let i = 0; i < decisions; i += 1) remoteAccessLevel(policy, principals[i % principals.length]!, rooms[i % ROOMS]!);
  const seconds = (performance.now() - start) / 1000;
  const coldDecisions = 20_000;
  const coldStart = performance.now();
  for (let i = 0; i < coldDecisions; i += 1) remoteAccessLevel(policy, { ...principals[i % principals.length]! }, rooms[i % ROOMS]!);
  const coldSeconds = (performance.now() - coldStart) / 1000;

  return {
    name: 'rbac: access engine',
    rows: [
      { metric: 'roomsWithRemoteAccess, 10k rooms, median', value: percentile(listTimes, 50), unit: 'ms/user', goal: '< 5' },
      { metric: 'roomsWithRemoteAccess, 10k rooms, p99', value: percentile(listTimes, 99), unit: 'ms/user', goal: '< 5' },
      { metric: 'remoteAccessLevel, same principal object', value: Math.round(decisions / seconds), unit: 'decisions/s' },
      { metric: 'remoteAccessLevel, new principal each call', value: Math.round(coldDecisions / coldSeconds), unit: 'decisions/s' },
      { metric: 'rooms reachable by a sample user', value: reachable, unit: 'rooms' },
    ],
    context: { rooms: ROOMS, roles: ROLES, assignments: ASSIGNMENTS, groupsPerUser: 20, usersSampled: principals.length },
  };
}
