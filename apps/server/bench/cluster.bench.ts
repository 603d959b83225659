import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { decodeMessage, encodeMessage, ServerToConsole, type ConsoleToServer, type Unversioned } from '@roomlink/shared';
import { startCluster, type RunningCluster } from '../../../scripts/cluster/cluster';
import type { BenchReport } from '../../../scripts/bench/report';
import { cpuSeconds, machineCpuSeconds } from '../../../scripts/bench/cpu';
import { percentile } from '../../../scripts/bench/report';
import { startIdp } from '../../../scripts/dev-idp/idp';
import { devSignIn } from '../../../scripts/dev-idp/signin';
import { openStore } from '../src/store/engine';
import { Directory } from '../src/store/directory';
import { TestAgent } from '../test/agent-client';
import type { Outcomes, SwarmCommand, SwarmReport } from './agent-swarm';

/**
 * Three nodes behind HAProxy on PostgreSQL (durable) and Redis, as
 * `npm run cluster` runs them, with 10,000 agents held by each node. The
 * agents connect to their node directly: through one HAProxy, 30,000
 * sockets need 60,000 descriptors, and a process may hold 20,000 here.
 */

const PER_NODE = Number(process.env.BENCH_CLUSTER_AGENTS ?? 10_000);
const SESSIONS = Math.min(300, PER_NODE - 10);
/** Session starts before those timed: the first ones compile the path's code and fill the pools and caches, once in a node's life. */
const WARM_UP = 20;
/** The paced run's rate of session starts. */
const STARTS_PER_SECOND = 10;
const SIGNALS = 300;

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The rooms, their key, the role: written straight into the database, since seeding is setup, not what is measured. */
async function seed(cluster: RunningCluster, publicKeyRaw: string): Promise<string[]> {
  const store = await openStore({ engine: 'postgres', url: cluster.postgres.url });
  const directory = new Directory(store, () => new Date());
  const ids = Array.from({ length: PER_NODE * 3 }, (_, i) => `room-bench-${i}`);
  await store.db.transaction().execute(async (trx) => {
    await directory.setRemoteAccess('contoso', true, 'admin@contoso.test', 'bench', trx);
    await directory.createRole('contoso', { name: 'Bench', description: '', permissions: ['remoteAccess.modify'], assignments: [{ users: [], groups: ['room-technicians'], rooms: [], locations: [], tags: ['bench'] }] }, trx);
    const at = new Date().toISOString();
    for (let i = 0; i < ids.length; i += 1_000) {
      await trx
        .insertInto('rooms')
        .values(ids.slice(i, i + 1_000).map((id) => ({ tenant_id: 'contoso', id, name: id, location_id: null, tags: '["bench"]', platform: 'synthetic', license: 'pro', agent_public_key: publicKeyRaw, updated_at: at })))
        .execute();
    }
    await directory.policyChanged('contoso', trx);
  });
  await store.close();
  return ids;
}

class Swarm {
  count = 0;
  outcomes: Outcomes = {};
  readonly child: ChildProcess;
  constructor() {
    this.child = fork(join(import.meta.dirname, 'agent-swarm.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (report: SwarmReport) => {
      this.count = report.count;
      this.outcomes = report.outcomes;
    });
  }
  command(command: SwarmCommand): void {
    this.child.send(command);
  }
  async until(count: number, timeoutMs: number): Promise<number> {
    const start = performance.now();
    while (this.count < count) {
      if (performance.now() - start > timeoutMs) throw new Error(`only ${this.count} of ${count} agents welcomed after ${timeoutMs} ms`);
      await sleep(50);
    }
    return performance.now() - start;
  }
}

/** A technician's console socket on one node, timing what comes back. */
class Console {
  private readonly waiters: { match: (m: ServerToConsole) => boolean; resolve: (m: ServerToConsole) => void }[] = [];
  /** What came before anyone waited for it (a session's state can overtake the answer to its start). */
  private readonly unread: ServerToConsole[] = [];
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const parsed = decodeMessage(ServerToConsole, String(data));
      if (!parsed.ok) return;
      const index = this.waiters.findIndex((w) => w.match(parsed.value));
      if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(parsed.value);
      else if (this.unread.push(parsed.value) > 1_000) this.unread.shift();
    });
  }
  static async open(url: string, token: string): Promise<Console> {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/console`, { headers: { authorization: `Bearer ${token}` } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Console(ws);
  }
  send(message: Unversioned<ConsoleToServer>): void {
    this.ws.send(encodeMessage(message));
  }
  next(match: (m: ServerToConsole) => boolean, timeoutMs = 10_000): Promise<ServerToConsole> {
    const index = this.unread.findIndex(match);
    if (index >= 0) return Promise.resolve(this.unread.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no console message in time')), timeoutMs);
      this.waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }
  close(): void {
    this.ws.close();
  }
}

export default async function bench(): Promise<BenchReport> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  const idp = await startIdp({ dataDir: join(dir, 'idp'), port: 0 });
  const cluster = await startCluster({ dir: join(dir, 'cluster'), issuer: idp.issuer, caFile: idp.caFile, durable: true, nodeArgs: ['--session-rate', '100000/100000', '--agent-limits', '100000/100000/100000'] });
  const swarms = [new Swarm(), new Swarm(), new Swarm()];
  try {
    const keys = TestAgent.newKeys();
    const roomIds = await seed(cluster, keys.publicKeyRaw);
    const [a, b, c] = cluster.nodes.map((node) => node.url) as [string, string, string];
    const baseline = cluster.nodes.map((node) => rssMiB(node.child.pid!));
    const privateKeyPem = keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const onNode = (i: number) => roomIds.slice(i * PER_NODE, (i + 1) * PER_NODE);

    const connectStart = performance.now();
    swarms.forEach((swarm, i) => swarm.command({ type: 'connect', urls: [cluster.nodes[i]!.url], roomIds: onNode(i), privateKeyPem }));
    await Promise.all(swarms.map((swarm) => swarm.until(PER_NODE, 600_000)));
    const connectSeconds = (performance.now() - connectStart) / 1000;
    const connected = swarms.reduce((sum, swarm) => sum + swarm.count, 0);
    await sleep(5_000);
    const rss = cluster.nodes.map((node) => rssMiB(node.child.pid!));

    // Session starts through node A for rooms held by B and C, with the technician's console on A.
    const token = (await devSignIn(idp.issuer, idp.caPem, 'tech@contoso.test')).accessToken;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const technician = await Console.open(a, token);
    const startOn = async (url: string, roomId: string) => {
      const response = await fetch(`${url}/api/sessions`, { method: 'POST', headers, body: JSON.stringify({ roomId }) });
      const body = (await response.json()) as { sessionId?: string };
      if (!body.sessionId) throw new Error(`session refused: ${JSON.stringify(body)}`);
      return body.sessionId;
    };
    const end = (url: string, sessionId: string) => fetch(`${url}/api/sessions/${sessionId}/end`, { method: 'POST', headers: { authorization: headers.authorization } }).then((r) => r.ok || Promise.reject(new Error(`end refused: ${r.status}`)));
    // Where the machine's two cores go while the starts are timed: the simulated agents and the database share them with the nodes here.
    const cpuOf = (children: { pid?: number }[]) => children.reduce((sum, child) => sum + cpuSeconds(child.pid!), 0);
    const cpuNow = () => ({ machine: machineCpuSeconds(), nodes: cpuOf(cluster.nodes.map((node) => node.child)), swarms: cpuOf(swarms.map((swarm) => swarm.child)) });
    /** Starts and ends a session WARM_UP + SESSIONS times, one start every `everyMs` at most (0: each as soon as the last has ended). */
    const timeStarts = async (everyMs: number) => {
      const starts: number[] = [];
      let first = Number.NaN;
      let before = cpuNow();
      const begun = performance.now();
      for (let i = 0; i < WARM_UP + SESSIONS; i += 1) {
        await sleep(begun + i * everyMs - performance.now());
        if (i === WARM_UP) before = cpuNow();
        const roomId = onNode(1 + (i % 2))[i % SESSIONS]!;
        const begin = performance.now();
        const sessionId = await startOn(a, roomId);
        const took = performance.now() - begin;
        if (i === 0) first = took;
        if (i >= WARM_UP) starts.push(took);
        await end(a, sessionId);
      }
      const after = cpuNow();
      const wall = after.machine.total - before.machine.total;
      const share = (used: number) => (used / wall) * 100;
      return { first, starts, cpu: { machine: share(after.machine.busy - before.machine.busy), nodes: share(after.nodes - before.nodes), swarms: share(after.swarms - before.swarms) } };
    };
    // A large organisation starts a few sessions a second; back to back, the bench itself is most of the machine's load.
    const paced = await timeStarts(1000 / STARTS_PER_SECOND);
    const backToBack = await timeStarts(0);
    const startRows = (how: string, { starts, cpu }: Awaited<ReturnType<typeof timeStarts>>) => [
      { metric: `session start p50, agent on another node, ${how}`, value: percentile(starts, 50), unit: 'ms' },
      { metric: `session start p99, agent on another node, ${how}`, value: percentile(starts, 99), unit: 'ms', goal: '< 50' },
      { metric: '  meanwhile the machine busy', value: cpu.machine, unit: '% of both cores' },
      { metric: '  of which the three nodes', value: cpu.nodes, unit: '% of both cores' },
      { metric: '  of which the simulated agents (three swarm processes)', value: cpu.swarms, unit: '% of both cores' },
    ];
    /** Signal round trips console → room → console in one session; the agent sends each signal straight back. */
    const roundTrips = async (runner: string, roomId: string) => {
      const sessionId = await startOn(runner, roomId);
      await technician.next((m) => m.type === 'session.state' && m.sessionId === sessionId && m.state === 'connecting');
      const times: number[] = [];
      for (let i = 0; i < SIGNALS; i += 1) {
        const sdp = `v=0 bench ${i}`;
        const begin = performance.now();
        technician.send({ type: 'session.signal', sessionId: sessionId as never, data: { type: 'offer', sdp } });
        await technician.next((m) => m.type === 'session.signal' && m.sessionId === sessionId && m.data.type === 'offer' && m.data.sdp === sdp);
        times.push(performance.now() - begin);
      }
      await end(runner, sessionId);
      return percentile(times, 50);
    };
    // Same node: console, agent and the session's node all A. Across: console on A, agent on B, the session run by C.
    const local = await roundTrips(a, onNode(0).at(-1)!);
    const across = await roundTrips(c, onNode(1).at(-1)!);

    // A session run by C with its agent on A, then C is killed outright: its agents come back through A and B.
    const heldRoom = onNode(0).at(-2)!;
    const held = await startOn(c, heldRoom);
    await technician.next((m) => m.type === 'session.state' && m.sessionId === held && m.state === 'connecting');
    swarms[2]!.command({ type: 'retarget', urls: [a, b] });
    // Counted by the surviving nodes themselves: every agent they hold has proven its key.
    const survivorsHold = async () => (await Promise.all([a, b].map(async (url) => ((await (await fetch(`${url}/healthz`)).json()) as { agents: number }).agents))).reduce((x, y) => x + y, 0);
    const before = { ...swarms[2]!.outcomes };
    const killedAt = performance.now();
    cluster.nodes[2]!.child.kill('SIGKILL');
    // Two counts: held by a node (proven: sessions can reach the room), and welcomed (the node has recorded it online, which the welcome waits for).
    let backIn30s = 0;
    let welcomedIn30s = 0;
    let recoverySeconds = Number.NaN;
    let welcomedSeconds = Number.NaN;
    let seenShort = false;
    while (performance.now() - killedAt < 300_000) {
      const online = await survivorsHold();
      const elapsed = (performance.now() - killedAt) / 1000;
      if (elapsed <= 30) {
        backIn30s = online - 2 * PER_NODE;
        welcomedIn30s = swarms[2]!.count;
      }
      if (online >= 3 * PER_NODE && Number.isNaN(recoverySeconds)) recoverySeconds = elapsed;
      // The swarm reports its count a moment after its sockets close: complete only once it has been seen short.
      seenShort ||= swarms[2]!.count < PER_NODE;
      if (seenShort && swarms[2]!.count >= PER_NODE && Number.isNaN(welcomedSeconds)) welcomedSeconds = elapsed;
      if (!Number.isNaN(recoverySeconds) && !Number.isNaN(welcomedSeconds)) break;
      await sleep(250);
    }
    const backAtEnd = (await survivorsHold()) - 2 * PER_NODE;
    // How the lost node's agents' tries to come back ended, by cause.
    const tries = Object.entries(swarms[2]!.outcomes)
      .map(([outcome, n]) => [outcome, n - (before[outcome] ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .sort((x, y) => y[1] - x[1]);
    const sdp = 'v=0 after the node died';
    technician.send({ type: 'session.signal', sessionId: held as never, data: { type: 'offer', sdp } });
    // Measured, not assumed: a session that did not go on is a row of the table, not a crash before it.
    const adoptedAfter = await technician.next((m) => m.type === 'session.signal' && m.sessionId === held && m.data.type === 'offer' && m.data.sdp === sdp).then(
      () => (performance.now() - killedAt) / 1000,
      () => Number.NaN,
    );
    // A session that did not go on may already be over: its end records say (below).
    await end(a, held).catch(() => undefined);
    const adminToken = (await devSignIn(idp.issuer, idp.caPem, 'admin@contoso.test')).accessToken;
    const endRecords = async () =>
      ((await (await fetch(`${a}/api/audit?type=session.ended&roomId=${heldRoom}`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { records: { sessionId: string }[] }).records.filter((r) => r.sessionId === held).length;
    for (let i = 0; i < 120 && (await endRecords()) === 0; i += 1) await sleep(250);
    const verify = (await (await fetch(`${a}/api/audit/verify`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { ok: boolean; records?: number };
    technician.close();
    return {
      name: 'cluster: three nodes, PostgreSQL, Redis, HAProxy',
      rows: [
        { metric: 'agents connected and proven', value: connected, unit: 'agents', goal: '30,000' },
        { metric: 'connect + prove, all of them', value: connectSeconds, unit: 's' },
        ...rss.map((mib, i) => ({ metric: `node ${i + 1} RSS holding ${PER_NODE.toLocaleString('en-US')} agents`, value: Math.round(mib), unit: 'MiB', goal: '< 1024' })),
        { metric: 'node RSS before the agents (mean)', value: Math.round(baseline.reduce((x, y) => x + y, 0) / 3), unit: 'MiB' },
        { metric: `first session start after the agents came up (then ${WARM_UP} more before those timed)`, value: paced.first, unit: 'ms' },
        ...startRows(`${STARTS_PER_SECOND} a second`, paced),
        ...startRows('back to back', backToBack),
        { metric: 'signal round trip p50, one node', value: local, unit: 'ms' },
        { metric: 'signal round trip p50, three nodes', value: across, unit: 'ms' },
        { metric: 'relay added per signal, p50', value: (across - local) / 2, unit: 'ms', goal: '< 2' },
        { metric: 'kill -9 of a node: all its agents online again through the others (NaN: not within 5 min)', value: recoverySeconds, unit: 's', goal: '<= 30' },
        { metric: 'kill -9: of its agents, online again 30 s after', value: backIn30s, unit: 'agents', goal: PER_NODE.toLocaleString('en-US') },
        { metric: 'kill -9: of its agents, online again when measuring stopped', value: backAtEnd, unit: 'agents' },
        { metric: 'kill -9: all its agents welcomed again (recorded online) (NaN: not within 5 min)', value: welcomedSeconds, unit: 's' },
        { metric: 'kill -9: of its agents, welcomed again 30 s after', value: welcomedIn30s, unit: 'agents' },
        ...tries.map(([outcome, n]) => ({ metric: `kill -9: its agents' tries to come back, when measuring stopped: ${outcome}`, value: n, unit: 'tries' })),
        { metric: 'kill -9: its session going on through another node (NaN: no signal through it)', value: adoptedAfter, unit: 's' },
        { metric: 'audit chain verifies afterwards', value: verify.ok ? 1 : 0, unit: 'yes=1', goal: '1' },
        { metric: 'session end records for the killed node’s session', value: await endRecords(), unit: 'records', goal: '1' },
      ],
      context: { perNode: PER_NODE, sessions: SESSIONS, signals: SIGNALS, store: 'PostgreSQL, fsync on', cpus: 2 },
    };
  } finally {
    // The nodes first: a node that stops records its agents at once, where agents dropping first would each be recorded offline.
    await cluster.close();
    for (const swarm of swarms) swarm.child.kill('SIGKILL');
    await idp.close();
  }
}
