import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchReport } from '../../../scripts/bench/report';
import { percentile } from '../../../scripts/bench/report';
import { startIdp } from '../../../scripts/dev-idp/idp';
import { devSignIn } from '../../../scripts/dev-idp/signin';
import { CHECKPOINT_FILE, CheckpointFile } from '../src/audit/checkpoints';
import { AuditLog } from '../src/audit/log';
import { openStore } from '../src/store/engine';
import { Directory } from '../src/store/directory';
import { TestAgent } from '../test/agent-client';
import { startServerProcess } from '../test/server-process';

const AGENTS = 10_000;
const SESSION_ROOMS = 1_000;
const AUDIT_APPENDS = 20_000;

/** Rooms written straight into the database: seeding is setup, not what is measured. */
async function seed(dataDir: string, publicKeyRaw: string): Promise<string[]> {
  const store = await openStore({ engine: 'sqlite', file: join(dataDir, 'server.db') });
  const directory = new Directory(store, () => new Date());
  const ids: string[] = [];
  await store.db.transaction().execute(async (trx) => {
    await directory.setRemoteAccess('contoso', true, 'admin@contoso.test', 'bench', trx);
    await directory.createRole('contoso', { name: 'Bench', description: '', permissions: ['remoteAccess.modify'], assignments: [{ users: [], groups: ['room-technicians'], rooms: [], locations: [], tags: ['bench'] }] }, trx);
    for (let i = 0; i < AGENTS; i += 1) {
      const room = await directory.createRoom('contoso', { name: `Bench ${i}`, locationId: null, tags: ['bench'], platform: 'synthetic', license: 'pro' }, trx);
      await trx.updateTable('rooms').set({ agent_public_key: publicKeyRaw }).where('id', '=', room.id).execute();
      ids.push(room.id);
    }
  });
  await store.close();
  return ids;
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function auditAppends(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-audit-'));
  const store = await openStore({ engine: 'sqlite', file: join(dir, 'server.db') });
  const log = await AuditLog.open(store, generateKeyPairSync('ed25519'), new CheckpointFile(join(dir, 'checkpoints', CHECKPOINT_FILE)), () => new Date());
  const start = performance.now();
  for (let i = 0; i < AUDIT_APPENDS; i += 1) {
    await log.record({ tenantId: 'contoso', type: 'session.ended', actorId: 'u-tech', actorName: 'Tomas', roomId: 'room-1', roomName: 'Board', sessionId: `ses-${i}`, data: { reason: 'user_ended', input: { accepted: i, dropped: 0 }, durationMs: 1234 } });
  }
  const perSecond = AUDIT_APPENDS / ((performance.now() - start) / 1000);
  if (!(await log.verify('contoso')).ok) throw new Error('chain broken');
  await store.close();
  return perSecond;
}

export default async function bench(): Promise<BenchReport> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-server-'));
  const idp = await startIdp({ dataDir: join(dir, 'idp'), port: 0 });
  const keys = TestAgent.newKeys();
  const roomIds = await seed(join(dir, 'server'), keys.publicKeyRaw);
  const { child, url } = await startServerProcess(join(dir, 'server'), idp.issuer, idp.caFile, ['--session-rate', '100000/100000', '--agent-limits', '100000/100000/100000']);
  const baseline = rssMiB(child.pid!);
  const agents: TestAgent[] = [];
  try {
    const connectStart = performance.now();
    for (let i = 0; i < AGENTS; i += 500) {
      const batch = roomIds.slice(i, i + 500).map((roomId) => {
        const agent = new TestAgent(url, keys);
        agents.push(agent);
        return agent.connect(roomId);
      });
      const answers = await Promise.all(batch);
      if (answers.some((a) => a.type !== 'agent.welcome')) throw new Error('an agent was refused');
    }
    const connectSeconds = (performance.now() - connectStart) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rssHeld = rssMiB(child.pid!);

    // Session starts against the first 1,000 connected rooms.
    const token = (await devSignIn(idp.issuer, idp.caPem, 'tech@contoso.test')).accessToken;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const latencies: number[] = [];
    for (const roomId of roomIds.slice(0, SESSION_ROOMS)) {
      const start = performance.now();
      const response = await fetch(`${url}/api/sessions`, { method: 'POST', headers, body: JSON.stringify({ roomId }) });
      latencies.push(performance.now() - start);
      const body = (await response.json()) as { sessionId?: string };
      if (!body.sessionId) throw new Error(`session refused: ${JSON.stringify(body)}`);
      await fetch(`${url}/api/sessions/${body.sessionId}/end`, { method: 'POST', headers });
    }
    const appends = await auditAppends();
    return {
      name: 'server: hubs, broker, audit',
      rows: [
        { metric: 'agent connections held', value: agents.length, unit: 'connections', goal: '10,000' },
        { metric: 'server RSS holding them', value: Math.round(rssHeld), unit: 'MiB', goal: '< 1024' },
        { metric: 'server RSS before connections', value: Math.round(baseline), unit: 'MiB' },
        { metric: 'connect + prove, 10k agents', value: connectSeconds, unit: 's' },
        { metric: 'session start p50 (10k agents online)', value: percentile(latencies, 50), unit: 'ms' },
        { metric: 'session start p99 (10k agents online)', value: percentile(latencies, 99), unit: 'ms', goal: '< 50' },
        { metric: 'audit appends with hash chain', value: Math.round(appends), unit: 'records/s' },
      ],
      context: { agents: AGENTS, sessionStarts: SESSION_ROOMS, auditAppends: AUDIT_APPENDS, cpus: 2 },
    };
  } finally {
    child.kill('SIGTERM');
    for (const agent of agents) agent.ws.terminate();
    await idp.close();
  }
}
