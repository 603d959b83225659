#!/usr/bin/env -S node --import tsx
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { postgresPool } from '../store/engine';
import type { Tables } from '../store/schema';
import { CHECKPOINT_FILE, CHECKPOINT_KEY_FILE, readCheckpointFile } from './checkpoints';
import { verifyChain } from './log';

const usage = `npm run audit -- verify [options]: checks every tenant's audit chain offline,
against the signed checkpoints in the checkpoint file (exit 0: all intact, 1: a finding)

  --data-dir DIR      a server's data directory: takes server.db, audit-checkpoints/${CHECKPOINT_FILE}
                      and ${CHECKPOINT_KEY_FILE} from it (default ./.roomlink/server)
  --db FILE           the database, when it is elsewhere (opened read-only)
  --database-url URL  a PostgreSQL store instead (postgres://…), read only
  --checkpoints FILE  the checkpoint file, when it is elsewhere
  --key FILE          the checkpoint key, private or public PEM, when it is elsewhere
`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, db: { type: 'string' }, 'database-url': { type: 'string' }, checkpoints: { type: 'string' }, key: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help || positionals[0] !== 'verify' || positionals.length !== 1) {
    process.stdout.write(usage);
    return values.help ? 0 : 2;
  }
  const dataDir = resolve(values['data-dir'] ?? '.roomlink/server');
  const dbFile = values.db ?? join(dataDir, 'server.db');
  const checkpointFile = values.checkpoints ?? join(dataDir, 'audit-checkpoints', CHECKPOINT_FILE);
  const keyFile = values.key ?? join(dataDir, CHECKPOINT_KEY_FILE);
  const postgresUrl = values['database-url'];
  const needed = postgresUrl ? ([['checkpoint key', keyFile]] as const) : ([['database', dbFile], ['checkpoint key', keyFile]] as const);
  for (const [what, file] of needed) {
    if (!existsSync(file)) {
      process.stderr.write(`roomlink audit: no ${what} at ${file}\n`);
      return 2;
    }
  }
  const publicKey = createPublicKey(readFileSync(keyFile));
  const { checkpoints, badLines } = readCheckpointFile(checkpointFile);
  const db = new Kysely<Tables>({
    dialect: postgresUrl ? new PostgresDialect({ pool: postgresPool(postgresUrl, 1) }) : new SqliteDialect({ database: new Database(dbFile, { readonly: true, fileMustExist: true }) }),
  });
  try {
    const tenants = new Set([
      ...(await db.selectFrom('audit').select('tenant_id').distinct().execute()).map((r) => r.tenant_id),
      ...checkpoints.map((c) => c.tenantId),
    ]);
    let intact = badLines.length === 0;
    if (!existsSync(checkpointFile)) process.stdout.write(`no checkpoint file at ${checkpointFile}: only the links between records can be checked\n`);
    if (badLines.length > 0) process.stdout.write(`FAIL ${checkpointFile}: lines ${badLines.join(', ')} are not checkpoints\n`);
    for (const tenantId of [...tenants].sort()) {
      const result = await verifyChain(db, tenantId, checkpoints, publicKey);
      intact &&= result.ok;
      const sealed = result.sealedThroughSeq === null ? 'never sealed' : `sealed through ${result.sealedThroughSeq}`;
      process.stdout.write(result.ok ? `ok   ${tenantId}: ${result.checked} records, ${sealed}\n` : `FAIL ${tenantId}: record ${result.firstBadSeq ?? '-'}: ${result.problem}\n`);
    }
    return intact ? 0 : 1;
  } finally {
    await db.destroy();
  }
}

process.exitCode = await main();
