import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { devSignIn } from '../../scripts/dev-idp/signin';
import { runScript } from '../support/script';

const dataDir = mkdtempSync(join(tmpdir(), 'roomlink-cluster-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm run cluster', () => {
  it('brings up PostgreSQL, Redis, coturn, three nodes and HAProxy with the demo rooms spread over the nodes, and stops it all on Ctrl+C', async () => {
    const { child, output: printed, exited } = runScript('scripts/cluster/main.ts', ['--data-dir', dataDir, '--idp-port', '0', '--console-port', '0', '--webhook-port', '0', '--browser-host', '--display', '', '--synthetic-rooms', '5']);
    await expect.poll(printed, { timeout: 60_000, interval: 200 }).toContain('Ctrl+C stops everything.');
    const output = printed();

    const balancer = /load balancer +(http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1]!;
    const nodes = /server nodes +(.+)/.exec(output)![1]!.trim().split(/\s+/);
    expect(nodes).toHaveLength(3);
    expect(output).toMatch(/PostgreSQL +postgres:\/\/roomlink@127\.0\.0\.1:\d+\/roomlink/);
    expect(output).toMatch(/TURN \(coturn\) +turn:127\.0\.0\.1:\d+\?transport=udp/);
    const issuer = /sign-in provider +(https:\/\/127\.0\.0\.1:\d+)/.exec(output)![1]!;
    const { accessToken } = await devSignIn(issuer, readFileSync(join(dataDir, 'idp', 'ca.pem'), 'utf8'), 'admin@contoso.test');

    // Every room with an agent is online through the balancer, whichever node holds it; the agents are spread over the nodes.
    type Room = { name: string; online: boolean };
    const rooms = async () => (await (await fetch(`${balancer}/api/rooms`, { headers: { authorization: `Bearer ${accessToken}` } })).json()) as Room[];
    await expect.poll(async () => (await rooms()).filter((room) => room.online).length, { timeout: 10_000 }).toBe(6);
    const held = await Promise.all(nodes.map(async (node) => ((await (await fetch(`${node}/healthz`)).json()) as { agents: number }).agents));
    expect(held.reduce((a, b) => a + b, 0)).toBe(6);
    expect(held.filter((agents) => agents > 0).length).toBeGreaterThan(1);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const url of [balancer, ...nodes]) await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 120_000);
});
