import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis as RedisClient } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startPostgres } from '../../../scripts/services/postgres';
import { startRedis } from '../../../scripts/services/redis';

/** The cluster's servers from Debian, started by tests and `npm run cluster` alike: each its own throwaway instance. */

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });

describe('PostgreSQL for tests and the cluster', () => {
  it('starts on a free port with a roomlink database that keeps what is written, and stops', async () => {
    const postgres = await startPostgres({ dir: mkdtempSync(join(tmpdir(), 'roomlink-pg-')) });
    try {
      const client = new pg.Client(postgres.url);
      await client.connect();
      await client.query('CREATE TABLE t (id integer PRIMARY KEY)');
      await client.query('INSERT INTO t VALUES (1), (2)');
      expect((await client.query<{ db: string; n: string }>('SELECT current_database() AS db, count(*) AS n FROM t')).rows).toEqual([{ db: 'roomlink', n: '2' }]);
      await client.end();
    } finally {
      await postgres.close();
    }
    expect(await refused(postgres.port)).toBe(true);
  });
});

describe('Redis for tests and the cluster', () => {
  it('starts on a free port, and again on the same port after it stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roomlink-redis-'));
    const first = await startRedis({ dir });
    const client = new RedisClient(first.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    await client.set('presence:room-1', 'node-a');
    expect(await client.get('presence:room-1')).toBe('node-a');
    client.disconnect();
    await first.close();
    expect(await refused(first.port)).toBe(true);
    // Nothing is kept on disk: presence comes back from the nodes, not from Redis.
    const second = await startRedis({ dir, port: first.port });
    const again = new RedisClient(second.url, { lazyConnect: true });
    await again.connect();
    expect(await again.get('presence:room-1')).toBeNull();
    again.disconnect();
    await second.close();
  });
});
