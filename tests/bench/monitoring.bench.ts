import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { decodeMessage, HealthSignal, ServerToConsole, type HealthSignals } from '@roomlink/shared';
import { openStore } from '../../apps/server/src/store/engine';
import { Directory } from '../../apps/server/src/store/directory';
import { TestAgent } from '../../apps/server/test/agent-client';
import { startServerProcess } from '../../apps/server/test/server-process';
import { percentile, type BenchReport } from '../../scripts/bench/report';
import { startIdp } from '../../scripts/dev-idp/idp';
import { devSignIn } from '../../scripts/dev-idp/signin';

const ROOMS = Number(process.env.BENCH_ROOMS ?? 10_000);
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 60);
const ok: HealthSignals = { app: 'ok', audio: 'ok', camera: 'ok', display: 'ok', network: 'ok', signIn: 'ok' };

/** User and system (kernel) CPU seconds of a process so far, from /proc. */
function cpuSeconds(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/**
 * Monitoring at scale: 10,000 rooms with a live agent each, every room
 * changing one signal a minute (167 changes a second), against the server
 * process as an operator runs it. Measures the server's CPU for ingest,
 * history and incident rules, the push from an agent's report to a console,
 * and the dashboard's queries.
 */
export default async function monitoringBench(): Promise<BenchReport> {
  const dir = mkdtempSync(join(tmpdir(), 'roomlink-bench-monitoring-'));
  const idp = await startIdp({ dataDir: join(dir, 'idp'), port: 0 });
  // Rooms and their enrollments are written straight into the database before the server starts, as a restore would.
  const store = await openStore({ engine: 'sqlite', file: join(dir, 'server', 'server.db') });
  const directory = new Directory(store, () => new Date());
  await directory.ensureTenant('contoso');
  const agents: TestAgent[] = [];
  await store.db.transaction().execute(async (trx) => {
    for (let i = 0; i < ROOMS; i += 1) {
      const room = await directory.createRoom('contoso', { name: `Room ${i}`, locationId: null, tags: [], platform: 'synthetic', license: 'pro' }, trx);
      const { code } = await directory.issueEnrollmentCode('contoso', room.id, trx);
      const agent = new TestAgent('');
      await directory.enroll(code, agent.keys.publicKeyRaw, 'synthetic', trx);
      agent.roomId = room.id;
      agents.push(agent);
    }
  });
  await store.close();

  const { child, url } = await startServerProcess(join(dir, 'server'), idp.issuer, idp.caFile, ['--agent-limits', `${ROOMS * 2}/${ROOMS * 2}/${ROOMS * 2}`]);
  try {
    for (const agent of agents) Object.assign(agent, { serverUrl: url });
    // Every agent pings each heartbeat (10 s), as real agents do: 1,000 a second at 10,000 rooms, from the first connection on.
    let beat = 0;
    const beatsPerTick = Math.max(1, Math.round(ROOMS / 10 / 20));
    // Only a welcomed agent may say anything but hello and its proof.
    const welcomed = new Set<TestAgent>();
    const heartbeats = setInterval(() => {
      for (let n = 0; n < beatsPerTick; n += 1) {
        const agent = agents[beat++ % agents.length]!;
        if (welcomed.has(agent) && agent.ws.readyState === WebSocket.OPEN) agent.ws.ping();
      }
    }, 50);
    for (let i = 0; i < agents.length; i += 500) await Promise.all(agents.slice(i, i + 500).map(async (a) => (await a.connect()).type === 'agent.welcome' && welcomed.add(a)));
    for (const agent of agents) agent.send({ type: 'agent.health', signals: ok, displays: [] });
    await new Promise((resolve) => setTimeout(resolve, 5_000));

    // A console that hears every room: each report's push is timed from the agent's send.
    const token = (await devSignIn(idp.issuer, idp.caPem, 'admin@contoso.test')).accessToken;
    const consoleSocket = new WebSocket(`${url.replace('http', 'ws')}/console`, { headers: { authorization: `Bearer ${token}` } });
    await new Promise((resolve) => consoleSocket.once('open', resolve));
    const sentAt = new Map<string, number>();
    const pushMs: number[] = [];
    consoleSocket.on('message', (data) => {
      const parsed = decodeMessage(ServerToConsole, String(data));
      if (!parsed.ok || parsed.value.type !== 'room.states') return;
      for (const { roomId } of parsed.value.states) {
        const at = sentAt.get(roomId);
        if (at !== undefined) pushMs.push(performance.now() - at);
        sentAt.delete(roomId);
      }
    });

    // Each room changes one signal a minute, spread evenly: one change every 60 s / ROOMS.
    const cpuBefore = cpuSeconds(child.pid!);
    const started = performance.now();
    let sent = 0;
    const perTick = Math.max(1, Math.round(ROOMS / 60 / 20));
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        for (let n = 0; n < perTick; n += 1) {
          const agent = agents[sent % agents.length]!;
          const signal = HealthSignal.options[Math.floor(sent / agents.length) % HealthSignal.options.length]!;
          sentAt.set(agent.roomId, performance.now());
          agent.send({ type: 'agent.health', signals: { ...ok, [signal]: sent % 2 ? 'warning' : 'ok', audio: sent % 2 ? 'ok' : 'warning' }, displays: [] });
          sent += 1;
        }
        if (performance.now() - started >= WINDOW_S * 1000) {
          clearInterval(timer);
          resolve();
        }
      }, 50);
    });
    const elapsed = (performance.now() - started) / 1000;
    const cpuAfter = cpuSeconds(child.pid!);
    const system = cpuAfter.system - cpuBefore.system;
    const cpu = cpuAfter.user - cpuBefore.user + system;

    // The console's questions, over HTTP as it asks them.
    const timed = async (path: string) => {
      const samples: number[] = [];
      for (let i = 0; i < 20; i += 1) {
        const t0 = performance.now();
        const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
        await response.arrayBuffer();
        samples.push(performance.now() - t0);
      }
      return percentile(samples, 50);
    };
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]);
    const rows = [
      { metric: 'rooms with a live agent', value: ROOMS, unit: 'rooms' },
      { metric: 'signal changes', value: Math.round(sent / elapsed), unit: 'per s' },
      { metric: 'server CPU (ingest + history + incident rules)', value: (cpu / elapsed) * 100, unit: '% of a core', goal: '<= 10' },
      { metric: '  of which in the kernel (socket reads and writes, WAL)', value: (system / elapsed) * 100, unit: '% of a core' },
      { metric: 'push, agent report to console, p50', value: percentile(pushMs, 50), unit: 'ms' },
      { metric: 'push, agent report to console, p99', value: percentile(pushMs, 99), unit: 'ms', goal: '<= 1000' },
      { metric: 'dashboard query (rooms by health, incidents, sessions), p50', value: await timed('/api/dashboard'), unit: 'ms', goal: '< 50' },
      { metric: 'incidents list: open incidents, p50', value: await timed('/api/incidents?state=open'), unit: 'ms', goal: '< 50' },
      // The rooms view's full sync, once at sign-in (then pushes): not a dashboard query, measured to watch its size.
      { metric: 'rooms list: every room, p50', value: await timed('/api/rooms'), unit: 'ms' },
      { metric: 'server RSS', value: Math.round(rssKb / 1024), unit: 'MiB' },
      { metric: 'agents still connected at the end', value: agents.filter((a) => a.ws.readyState === WebSocket.OPEN).length, unit: 'agents' },
    ];
    clearInterval(heartbeats);
    consoleSocket.close();
    await Promise.all(agents.map((a) => a.close()));
    return { name: 'monitoring', rows, context: { rooms: ROOMS, windowSeconds: WINDOW_S, pushes: pushMs.length } };
  } finally {
    child.kill('SIGKILL');
    await idp.close();
  }
}
