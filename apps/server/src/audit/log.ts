import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import type { AuditPage, AuditRecord, AuditType, AuditVerification } from '@roomlink/shared';
import type { Db } from '../store/db';
import { checkpointSigned, signCheckpoint, type Checkpoint, type CheckpointFile } from './checkpoints';

/** What a caller hands to `append`: the record minus what the log computes. */
export interface AuditEntry {
  tenantId: string;
  type: AuditType;
  actorId?: string | null;
  actorName?: string | null;
  roomId?: string | null;
  roomName?: string | null;
  sessionId?: string | null;
  data?: Record<string, unknown>;
}

interface Row {
  tenant_id: string;
  seq: number;
  at: string;
  type: string;
  actor_id: string | null;
  actor_name: string | null;
  room_id: string | null;
  room_name: string | null;
  session_id: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);
const EXPORT_PAGE = 500;

/** What audit reads can filter on. */
export interface AuditFilter {
  from?: string;
  to?: string;
  type?: AuditType;
  roomId?: string;
  userId?: string;
  /** Part of the actor's name, any case. */
  actor?: string;
}
export const RETENTION_DAYS = 180;

/** JSON with sorted keys, so the same content always hashes the same. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function hashOf(row: Omit<Row, 'hash'>): string {
  const content = canonical({
    tenant: row.tenant_id,
    seq: row.seq,
    at: row.at,
    type: row.type,
    actorId: row.actor_id,
    actorName: row.actor_name,
    roomId: row.room_id,
    roomName: row.room_name,
    sessionId: row.session_id,
    data: JSON.parse(row.data) as unknown,
  });
  return createHash('sha256').update(row.prev_hash).update('\n').update(content).digest('hex');
}

function toRecord(row: Row): AuditRecord {
  return {
    seq: row.seq,
    at: row.at,
    type: row.type as AuditType,
    actorId: row.actor_id,
    actorName: row.actor_name,
    roomId: row.room_id,
    roomName: row.room_name,
    sessionId: row.session_id,
    data: JSON.parse(row.data) as Record<string, unknown>,
    hash: row.hash,
  };
}

export interface AuditKeys {
  /** The dedicated checkpoint key: signs chain heads and purge records. */
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * The append-only, hash-chained audit log, one chain per tenant: each record
 * carries the SHA-256 of the previous record and of its own canonical content,
 * so `verify` finds an edited, inserted or removed record. Every few seconds
 * and at each session end the chain head is sealed: a checkpoint signed with
 * the checkpoint key, kept in the database and appended to a file outside it,
 * so a chain cut short, emptied or recomputed no longer matches. The
 * retention purge cuts the oldest records and leaves a signed purge record.
 */
export class AuditLog {
  private readonly insert;
  private readonly last;
  private readonly storeCheckpoint;
  private readonly stored;
  /** Tenants with records newer than their last checkpoint. */
  private readonly unsealed = new Set<string>();
  private readonly listeners = new Set<(record: AuditRecord, tenantId: string) => void>();

  constructor(
    private readonly db: Db,
    private readonly keys: AuditKeys,
    private readonly file: CheckpointFile,
    private readonly now: () => Date,
  ) {
    this.insert = db.prepare<Row>(
      `INSERT INTO audit (tenant_id, seq, at, type, actor_id, actor_name, room_id, room_name, session_id, data, prev_hash, hash)
       VALUES (@tenant_id, @seq, @at, @type, @actor_id, @actor_name, @room_id, @room_name, @session_id, @data, @prev_hash, @hash)`,
    );
    this.last = db.prepare<[string], { seq: number; hash: string }>('SELECT seq, hash FROM audit WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1');
    this.stored = db.prepare<[string, number, string], 1>('SELECT 1 FROM audit WHERE tenant_id = ? AND seq = ? AND hash = ?').pluck();
    this.storeCheckpoint = db.prepare<Checkpoint>('INSERT OR REPLACE INTO audit_checkpoints (tenant_id, seq, hash, at, signature) VALUES (@tenantId, @seq, @hash, @at, @signature)');
    // Records a previous process wrote after its last checkpoint are sealed at the next round.
    const behind = db
      .prepare<[], { tenant_id: string }>(
        'SELECT tenant_id FROM audit a GROUP BY tenant_id HAVING max(seq) > coalesce((SELECT max(seq) FROM audit_checkpoints c WHERE c.tenant_id = a.tenant_id), 0)',
      )
      .all();
    for (const { tenant_id: tenantId } of behind) this.unsealed.add(tenantId);
  }

  /**
   * Appends one record. Call inside the transaction of the change it records,
   * so neither exists without the other. `after`: where the chain continues
   * when no record of the tenant remains (a purge that cut them all).
   */
  append(entry: AuditEntry, after?: { seq: number; hash: string }): AuditRecord {
    const previous = this.last.get(entry.tenantId) ?? after;
    const row: Omit<Row, 'hash'> = {
      tenant_id: entry.tenantId,
      seq: (previous?.seq ?? 0) + 1,
      at: this.now().toISOString(),
      type: entry.type,
      actor_id: entry.actorId ?? null,
      actor_name: entry.actorName ?? null,
      room_id: entry.roomId ?? null,
      room_name: entry.roomName ?? null,
      session_id: entry.sessionId ?? null,
      data: JSON.stringify(entry.data ?? {}),
      prev_hash: previous?.hash ?? GENESIS_HASH,
    };
    const full: Row = { ...row, hash: hashOf(row) };
    this.insert.run(full);
    this.unsealed.add(entry.tenantId);
    const record = toRecord(full);
    if (this.listeners.size) this.announce(entry.tenantId, record);
    return record;
  }

  /**
   * Calls `listener` with every record once it is committed; a record whose
   * transaction rolled back is never announced. Returns the unsubscribe.
   */
  subscribe(listener: (record: AuditRecord, tenantId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Transactions here are synchronous, so by the next turn of the event loop
   * the one that appended the record has committed or rolled back: the row
   * is still there only if it committed.
   */
  private announce(tenantId: string, record: AuditRecord): void {
    setImmediate(() => {
      if (!this.stored.get(tenantId, record.seq, record.hash)) return;
      for (const listener of this.listeners) listener(record, tenantId);
    });
  }

  /**
   * Seals the tenant's chain head: a signed checkpoint into the database and
   * the checkpoint file. Only outside a transaction, so that a checkpoint
   * never names a record that could still roll back; inside one, the tenant
   * waits for the next round.
   */
  checkpoint(tenantId: string): Checkpoint | null {
    const head = this.last.get(tenantId);
    if (this.db.inTransaction || !head) return null;
    const checkpoint = signCheckpoint(this.keys.privateKey, { tenantId, seq: head.seq, hash: head.hash, at: this.now().toISOString() });
    this.storeCheckpoint.run(checkpoint);
    this.file.append(checkpoint);
    this.unsealed.delete(tenantId);
    return checkpoint;
  }

  /** Seals every tenant with records since its last checkpoint; the server calls it every few seconds and on shutdown. */
  checkpointAll(): number {
    let sealed = 0;
    for (const tenantId of [...this.unsealed]) if (this.checkpoint(tenantId)) sealed += 1;
    return sealed;
  }

  /** Filters already validated at the boundary; newest first. `rooms`: only these rooms' records (a scoped reader), null for all. */
  query(tenantId: string, q: AuditFilter & { before?: number; limit?: number }, rooms: readonly string[] | null = null): AuditPage {
    const limit = q.limit ?? 100;
    const where = ['tenant_id = @tenantId'];
    if (rooms) where.push('room_id IN (SELECT value FROM json_each(@rooms))');
    if (q.from) where.push('at >= @from');
    if (q.to) where.push('at < @to');
    if (q.type) where.push('type = @type');
    if (q.roomId) where.push('room_id = @roomId');
    if (q.userId) where.push('actor_id = @userId');
    if (q.actor) where.push("actor_name LIKE @actorLike ESCAPE '\\'");
    if (q.before) where.push('seq < @before');
    const rows = this.db
      .prepare<Record<string, unknown>, Row>(`SELECT * FROM audit WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT @limit`)
      .all({
        ...q,
        tenantId,
        limit: limit + 1,
        ...(q.actor && { actorLike: `%${q.actor.replace(/[\\%_]/g, (c) => `\\${c}`)}%` }),
        ...(rooms && { rooms: JSON.stringify(rooms) }),
      });
    const page = rows.slice(0, limit).map(toRecord);
    return { records: page, nextBefore: rows.length > limit ? page[page.length - 1]!.seq : null };
  }

  /**
   * Every record that matches, newest first, a page at a time: each page is
   * its own short query, so a long export never holds the database while
   * the reader is slow.
   */
  async *all(tenantId: string, q: AuditFilter, rooms: readonly string[] | null = null): AsyncGenerator<AuditRecord> {
    for (let before: number | undefined; ; ) {
      const page = this.query(tenantId, { ...q, ...(before !== undefined && { before }), limit: EXPORT_PAGE }, rooms);
      yield* page.records;
      if (page.nextBefore === null) return;
      before = page.nextBefore;
      // Let other requests in between pages.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Walks the tenant's chain and holds it against every checkpoint, from the file and the database. */
  verify(tenantId: string): AuditVerification {
    const { checkpoints, badLines } = this.file.read();
    if (badLines.length > 0) return { ok: false, checked: 0, firstBadSeq: null, problem: `the checkpoint file ${this.file.path} has lines that are not checkpoints (${badLines.slice(0, 5).join(', ')})`, sealedThroughSeq: null };
    return verifyChain(this.db, tenantId, [...checkpoints, ...storedCheckpoints(this.db, tenantId)], this.keys.publicKey);
  }

  /**
   * Retention (rule 12): removes every record older than 180 days, oldest
   * first, and the session rows of that age, then appends a purge record
   * signed with the checkpoint key (numbering carries on from the cut, even
   * when nothing remains) and seals it with a checkpoint.
   */
  purge(): { tenants: number; records: number } {
    const cutoff = new Date(this.now().getTime() - RETENTION_DAYS * 86_400_000).toISOString();
    let records = 0;
    const tenants = this.db.prepare<[string], { tenant_id: string }>('SELECT DISTINCT tenant_id FROM audit WHERE at < ?').all(cutoff);
    for (const { tenant_id: tenantId } of tenants) {
      this.db.transaction(() => {
        const cut = this.db
          .prepare<[string, string], { seq: number; hash: string }>('SELECT seq, hash FROM audit WHERE tenant_id = ? AND at < ? ORDER BY seq DESC LIMIT 1')
          .get(tenantId, cutoff)!;
        this.db.prepare('UPDATE audit_guard SET purging = 1').run();
        const removed = this.db.prepare('DELETE FROM audit WHERE tenant_id = ? AND seq <= ?').run(tenantId, cut.seq).changes;
        this.db.prepare('UPDATE audit_guard SET purging = 0').run();
        this.db.prepare('DELETE FROM sessions WHERE tenant_id = ? AND started_at < ?').run(tenantId, cutoff);
        const signature = sign(null, purgePayload(tenantId, cut.seq, cut.hash), this.keys.privateKey).toString('base64url');
        this.append({ tenantId, type: 'audit.purged', data: { throughSeq: cut.seq, cutHash: cut.hash, removed, before: cutoff, signature } }, cut);
        records += removed;
      })();
      this.checkpoint(tenantId);
    }
    return { tenants: tenants.length, records };
  }
}

function purgePayload(tenantId: string, throughSeq: number, cutHash: string): Buffer {
  return Buffer.from(`roomlink-audit-checkpoint:v1:${tenantId}:${throughSeq}:${cutHash}`);
}

function storedCheckpoints(db: Db, tenantId: string): Checkpoint[] {
  return db.prepare<[string], Checkpoint>('SELECT tenant_id AS tenantId, seq, hash, at, signature FROM audit_checkpoints WHERE tenant_id = ?').all(tenantId);
}

/**
 * The whole check, for the server and the offline CLI alike: the chain
 * links up from its genesis or a signed purge, every record hashes to what
 * it says, and every signed checkpoint of the tenant names a record that is
 * still there with the same hash — so the newest checkpoint bounds what can
 * have been cut from the end. A checkpoint whose signature fails is itself
 * a finding.
 */
export function verifyChain(db: Db, tenantId: string, checkpoints: readonly Checkpoint[], publicKey: KeyObject): AuditVerification {
  const rows = db.prepare<[string], Row>('SELECT * FROM audit WHERE tenant_id = ? ORDER BY seq').all(tenantId);
  const mine = checkpoints.filter((c) => c.tenantId === tenantId);
  const sealedThroughSeq = mine.length > 0 ? Math.max(...mine.map((c) => c.seq)) : null;
  let expectedPrev: string | null = null;
  let expectedSeq: number | null = null;
  let checked = 0;
  const fail = (seq: number | null, problem: string): AuditVerification => ({ ok: false, checked, firstBadSeq: seq, problem, sealedThroughSeq });
  // A purge leaves a signed record naming the hash it cut at; collect them first.
  const starts = new Set<string>([GENESIS_HASH]);
  let purgedThrough = 0;
  for (const row of rows) {
    if (row.type !== 'audit.purged') continue;
    const data = JSON.parse(row.data) as { cutHash?: string; signature?: string; throughSeq?: number };
    if (!data.cutHash || !data.signature || typeof data.throughSeq !== 'number') continue;
    if (!verify(null, purgePayload(tenantId, data.throughSeq, data.cutHash), publicKey, Buffer.from(data.signature, 'base64url'))) continue;
    starts.add(data.cutHash);
    purgedThrough = Math.max(purgedThrough, data.throughSeq);
  }
  const hashes = new Map<number, string>();
  for (const row of rows) {
    if (expectedSeq === null) {
      if (!starts.has(row.prev_hash)) return fail(row.seq, 'the oldest record does not follow the start of the chain or a signed purge');
    } else {
      if (row.seq !== expectedSeq) return fail(expectedSeq, `record ${expectedSeq} is missing`);
      if (row.prev_hash !== expectedPrev) return fail(row.seq, 'the record does not follow the one before it');
    }
    if (hashOf(row) !== row.hash) return fail(row.seq, 'the record was changed after it was written');
    hashes.set(row.seq, row.hash);
    checked += 1;
    expectedPrev = row.hash;
    expectedSeq = row.seq + 1;
  }
  for (const checkpoint of [...mine].sort((a, b) => a.seq - b.seq)) {
    if (!checkpointSigned(publicKey, checkpoint)) return fail(checkpoint.seq, `the checkpoint of ${checkpoint.at} is not signed by this server's checkpoint key`);
    if (checkpoint.seq <= purgedThrough) continue;
    const hash = hashes.get(checkpoint.seq);
    if (hash === undefined) return fail(checkpoint.seq, `record ${checkpoint.seq}, sealed by the checkpoint of ${checkpoint.at}, is gone: the chain was cut short`);
    if (hash !== checkpoint.hash) return fail(checkpoint.seq, `record ${checkpoint.seq} is not the one the checkpoint of ${checkpoint.at} sealed: the chain was rewritten`);
  }
  return { ok: true, checked, firstBadSeq: null, problem: null, sealedThroughSeq };
}

/** RFC 4180 CSV of audit records, with formula-looking cells defused for spreadsheets. */
/** One CSV cell: quoted when it must be, and never read as a formula by a spreadsheet. */
export const csvCell = (value: unknown) => {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};
const csvLine = (r: AuditRecord) => `${[r.seq, r.at, r.type, r.actorId, r.actorName, r.roomId, r.roomName, r.sessionId, r.data, r.hash].map(csvCell).join(',')}\r\n`;
const CSV_HEADER = 'seq,at,type,actorId,actorName,roomId,roomName,sessionId,data,hash\r\n';

export function auditCsv(records: readonly AuditRecord[]): string {
  return CSV_HEADER + records.map(csvLine).join('');
}

/** The CSV of every record `records` yields, as it yields them. */
export async function* auditCsvLines(records: AsyncIterable<AuditRecord>): AsyncGenerator<string> {
  yield CSV_HEADER;
  for await (const record of records) yield csvLine(record);
}
