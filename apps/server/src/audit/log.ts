import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import type { AuditPage, AuditRecord, AuditType, AuditVerification } from '@roomlink/shared';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Store } from '../store/engine';
import type { Tables } from '../store/schema';
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

type Row = Selectable<Tables['audit']>;

export const GENESIS_HASH = '0'.repeat(64);
const EXPORT_PAGE = 500;
/** Pending records moved into a chain per transaction. */
const CHAIN_BATCH = 2_000;
/** How often each node looks for pending records nobody chained (a node that died between commit and chain). */
const PENDING_SWEEP_MS = 250;

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
 *
 * A record is written in two steps. `append` puts it in `audit_pending`
 * inside the transaction of the change it records, so neither exists
 * without the other, and takes no lock: writers on several nodes never wait
 * for each other's commits. Then a chainer (any node's; each looks after
 * its own appends at once and after every tenant's leftovers four times a second)
 * takes the tenant's chain lock and moves every committed pending record
 * into the chain in one transaction: one lock and one commit for hundreds
 * of records. Every read of the chain (a query, an export, a verification, a
 * checkpoint) first chains what is pending, so it sees every committed record.
 */
export class AuditLog {
  /** Tenants with records newer than their last checkpoint. */
  private readonly unsealed = new Set<string>();
  private readonly listeners = new Set<(record: AuditRecord, tenantId: string) => void>();
  /** Records without a change of their own, waiting for the next group commit. */
  private readonly waiting: { entry: AuditEntry; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private committing = false;
  /** Per tenant, the chaining under way, and whether another pass is wanted after it. */
  private readonly chaining = new Map<string, { done: Promise<void>; again: boolean }>();
  private readonly sweeper: NodeJS.Timeout;

  private constructor(
    private readonly store: Store,
    private readonly keys: AuditKeys,
    private readonly file: CheckpointFile,
    private readonly now: () => Date,
    private readonly onError: (error: unknown) => void,
  ) {
    // Records a node appended and could not chain (it died first) are chained by whichever node looks next.
    this.sweeper = setInterval(() => void this.chainAll().catch(onError), PENDING_SWEEP_MS);
    this.sweeper.unref();
  }

  static async open(store: Store, keys: AuditKeys, file: CheckpointFile, now: () => Date, onError: (error: unknown) => void = () => undefined): Promise<AuditLog> {
    const log = new AuditLog(store, keys, file, now, onError);
    await log.chainAll();
    // Records a previous process wrote after its last checkpoint are sealed at the next round.
    const behind = await store.db
      .selectFrom('audit as a')
      .select('a.tenant_id')
      .groupBy('a.tenant_id')
      .having(sql<boolean>`max(a.seq) > coalesce((SELECT max(c.seq) FROM audit_checkpoints c WHERE c.tenant_id = a.tenant_id), 0)`)
      .execute();
    for (const { tenant_id: tenantId } of behind) log.unsealed.add(tenantId);
    return log;
  }

  /** Stops looking for leftovers, and chains what is pending: nothing is left for the next start to find. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.chainAll();
  }

  /**
   * Appends one record inside `trx`, the transaction of the change it
   * records, so neither exists without the other. It joins the chain once
   * that transaction has committed (a rolled-back one leaves nothing).
   */
  async append(trx: Kysely<Tables>, entry: AuditEntry): Promise<void> {
    await this.pend(trx, [entry]);
    this.chainSoon(entry.tenantId);
  }

  private async pend(trx: Kysely<Tables>, entries: readonly AuditEntry[]): Promise<void> {
    const at = this.now().toISOString();
    const rows = entries.map((entry) => ({
      tenant_id: entry.tenantId,
      at,
      type: entry.type,
      actor_id: entry.actorId ?? null,
      actor_name: entry.actorName ?? null,
      room_id: entry.roomId ?? null,
      room_name: entry.roomName ?? null,
      session_id: entry.sessionId ?? null,
      data: JSON.stringify(entry.data ?? {}),
    }));
    // Nine values a row: 1,000 rows stay inside both engines' limits on bound parameters.
    for (let i = 0; i < rows.length; i += 1_000) await trx.insertInto('audit_pending').values(rows.slice(i, i + 1_000)).execute();
  }

  /**
   * Appends a record that goes with no other change, and resolves once it is
   * committed: as `append`, it joins the chain moments later, and every read
   * of the chain sees it. Records asked for while a commit is under way wait
   * for it and then share the next one (group commit): under a flood of
   * them, one transaction carries hundreds, not one each.
   */
  record(entry: AuditEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ entry, resolve, reject });
      if (!this.committing) void this.commitWaiting();
    });
  }

  private async commitWaiting(): Promise<void> {
    this.committing = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, 5_000);
      try {
        await this.store.db.transaction().execute((trx) => this.pend(trx, batch.map((item) => item.entry)));
        // Committed: nothing is lost whatever happens next. Chaining runs beside the next batch's commit.
        for (const tenantId of new Set(batch.map((item) => item.entry.tenantId))) this.chainSoon(tenantId);
        for (const item of batch) item.resolve();
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    this.committing = false;
  }

  /** Chains the tenant's pending records after the caller's transaction has had its moment to commit. */
  private chainSoon(tenantId: string): void {
    setImmediate(() => void this.chainPending(tenantId).catch(this.onError));
  }

  /** Every tenant's pending records, in the chain. */
  private async chainAll(): Promise<void> {
    const tenants = await this.store.db.selectFrom('audit_pending').select('tenant_id').distinct().execute();
    for (const { tenant_id: tenantId } of tenants) await this.chainPending(tenantId);
  }

  /**
   * Moves the tenant's committed pending records into its chain. One pass at
   * a time per tenant in this process; asked for during a pass, another
   * follows it, so a caller that awaits this sees every record committed
   * before it asked.
   */
  chainPending(tenantId: string): Promise<void> {
    const running = this.chaining.get(tenantId);
    if (running) {
      running.again = true;
      return running.done;
    }
    const state = { done: Promise.resolve(), again: false };
    state.done = (async () => {
      try {
        do {
          state.again = false;
          while (await this.chainBatch(tenantId));
        } while (state.again);
      } finally {
        this.chaining.delete(tenantId);
      }
    })();
    this.chaining.set(tenantId, state);
    return state.done;
  }

  /** One batch under the chain's lock, in one transaction; whether a full batch went (more may wait). */
  private async chainBatch(tenantId: string): Promise<boolean> {
    const chained = await this.store.db.transaction().execute(async (trx) => {
      await this.store.dialect.lock(trx, `audit:${tenantId}`);
      // Taken out in the one statement that reads them: a record whose writer commits meanwhile (its id may lie
      // between these, ids are drawn before commit) stays pending for the next pass, not deleted unchained.
      const pending = await trx
        .deleteFrom('audit_pending')
        .where('id', 'in', (eb) => eb.selectFrom('audit_pending').select('id').where('tenant_id', '=', tenantId).orderBy('id').limit(CHAIN_BATCH))
        .returningAll()
        .execute();
      if (pending.length === 0) return [];
      return this.chain(trx, tenantId, pending.sort((a, b) => a.id - b.id));
    });
    if (chained.length > 0) {
      this.unsealed.add(tenantId);
      for (const record of chained) for (const listener of this.listeners) listener(record, tenantId);
    }
    return chained.length === CHAIN_BATCH;
  }

  /** Records at the end of the tenant's chain, in order, under its lock (the caller holds it), in one statement. */
  private async chain(trx: Kysely<Tables>, tenantId: string, entries: readonly Omit<Row, 'seq' | 'prev_hash' | 'hash'>[], after?: { seq: number; hash: string }): Promise<AuditRecord[]> {
    let previous = (await this.head(trx, tenantId)) ?? after;
    const rows: Row[] = [];
    for (const entry of entries) {
      const row: Omit<Row, 'hash'> = {
        tenant_id: tenantId,
        seq: (previous?.seq ?? 0) + 1,
        at: entry.at,
        type: entry.type,
        actor_id: entry.actor_id,
        actor_name: entry.actor_name,
        room_id: entry.room_id,
        room_name: entry.room_name,
        session_id: entry.session_id,
        data: entry.data,
        prev_hash: previous?.hash ?? GENESIS_HASH,
      };
      const full = { ...row, hash: hashOf(row) };
      rows.push(full);
      previous = full;
    }
    // Twelve values a row: 1,000 rows stay inside both engines' limits on bound parameters.
    for (let i = 0; i < rows.length; i += 1_000) await trx.insertInto('audit').values(rows.slice(i, i + 1_000)).execute();
    return rows.map(toRecord);
  }

  private head(db: Kysely<Tables>, tenantId: string): Promise<{ seq: number; hash: string } | undefined> {
    return db.selectFrom('audit').select(['seq', 'hash']).where('tenant_id', '=', tenantId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  }

  /** Calls `listener` with every record as it joins the chain (so only committed ones). Returns the unsubscribe. */
  subscribe(listener: (record: AuditRecord, tenantId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Seals the tenant's chain head: a signed checkpoint into the database and
   * the checkpoint file. Call it after the transactions that appended have
   * ended, so that a checkpoint never names a record that could still roll back.
   */
  async checkpoint(tenantId: string): Promise<Checkpoint | null> {
    await this.chainPending(tenantId);
    // Marked sealed before the head is read: a record chained meanwhile marks the tenant again, for the next round.
    this.unsealed.delete(tenantId);
    try {
      const head = await this.head(this.store.db, tenantId);
      if (!head) return null;
      const checkpoint = signCheckpoint(this.keys.privateKey, { tenantId, seq: head.seq, hash: head.hash, at: this.now().toISOString() });
      await this.store.db
        .insertInto('audit_checkpoints')
        .values({ tenant_id: tenantId, seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at, signature: checkpoint.signature })
        .onConflict((oc) => oc.columns(['tenant_id', 'seq']).doUpdateSet((eb) => ({ hash: eb.ref('excluded.hash'), at: eb.ref('excluded.at'), signature: eb.ref('excluded.signature') })))
        .execute();
      await this.file.append(checkpoint);
      return checkpoint;
    } catch (error) {
      this.unsealed.add(tenantId);
      throw error;
    }
  }

  /** Seals every tenant with records since its last checkpoint; the server calls it every few seconds and on shutdown. */
  async checkpointAll(): Promise<number> {
    // Committed records still pending are sealed in this round too.
    await this.chainAll();
    let sealed = 0;
    for (const tenantId of [...this.unsealed]) if (await this.checkpoint(tenantId)) sealed += 1;
    return sealed;
  }

  /** Filters already validated at the boundary; newest first. `rooms`: only these rooms' records (a scoped reader), null for all. */
  async query(tenantId: string, q: AuditFilter & { before?: number; limit?: number }, rooms: readonly string[] | null = null): Promise<AuditPage> {
    const limit = q.limit ?? 100;
    const { dialect } = this.store;
    await this.chainPending(tenantId);
    const rows = await this.store.db
      .selectFrom('audit')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .$if(rooms !== null, (w) => w.where(dialect.inList(sql.ref('room_id'), rooms!)))
      .$if(q.from !== undefined, (w) => w.where('at', '>=', q.from!))
      .$if(q.to !== undefined, (w) => w.where('at', '<', q.to!))
      .$if(q.type !== undefined, (w) => w.where('type', '=', q.type!))
      .$if(q.roomId !== undefined, (w) => w.where('room_id', '=', q.roomId!))
      .$if(q.userId !== undefined, (w) => w.where('actor_id', '=', q.userId!))
      .$if(Boolean(q.actor), (w) => w.where(sql<boolean>`lower(actor_name) LIKE ${`%${q.actor!.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`} ESCAPE '\\'`))
      .$if(Boolean(q.before), (w) => w.where('seq', '<', q.before!))
      .orderBy('seq', 'desc')
      .limit(limit + 1)
      .execute();
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
      const page = await this.query(tenantId, { ...q, ...(before !== undefined && { before }), limit: EXPORT_PAGE }, rooms);
      yield* page.records;
      if (page.nextBefore === null) return;
      before = page.nextBefore;
    }
  }

  /** Walks the tenant's chain and holds it against every checkpoint, from the file and the database. */
  async verify(tenantId: string): Promise<AuditVerification> {
    await this.chainPending(tenantId);
    const { checkpoints, badLines } = this.file.read();
    if (badLines.length > 0) return { ok: false, checked: 0, firstBadSeq: null, problem: `the checkpoint file ${this.file.path} has lines that are not checkpoints (${badLines.slice(0, 5).join(', ')})`, sealedThroughSeq: null };
    return verifyChain(this.store.db, tenantId, [...checkpoints, ...(await storedCheckpoints(this.store.db, tenantId))], this.keys.publicKey);
  }

  /**
   * Retention (rule 12): removes every record older than 180 days, oldest
   * first, and the session rows of that age, then appends a purge record
   * signed with the checkpoint key (numbering carries on from the cut, even
   * when nothing remains) and seals it with a checkpoint.
   */
  async purge(): Promise<{ tenants: number; records: number }> {
    const cutoff = new Date(this.now().getTime() - RETENTION_DAYS * 86_400_000).toISOString();
    await this.chainAll();
    let records = 0;
    const tenants = await this.store.db.selectFrom('audit').select('tenant_id').distinct().where('at', '<', cutoff).execute();
    for (const { tenant_id: tenantId } of tenants) {
      await this.store.db.transaction().execute(async (trx) => {
        await this.store.dialect.lock(trx, `audit:${tenantId}`);
        const cut = await trx.selectFrom('audit').select(['seq', 'hash']).where('tenant_id', '=', tenantId).where('at', '<', cutoff).orderBy('seq', 'desc').limit(1).executeTakeFirst();
        // Another node purged this tenant first.
        if (!cut) return;
        await trx.updateTable('audit_guard').set({ purging: 1 }).execute();
        const removed = Number((await trx.deleteFrom('audit').where('tenant_id', '=', tenantId).where('seq', '<=', cut.seq).executeTakeFirst()).numDeletedRows);
        await trx.updateTable('audit_guard').set({ purging: 0 }).execute();
        await trx.deleteFrom('sessions').where('tenant_id', '=', tenantId).where('started_at', '<', cutoff).execute();
        const signature = sign(null, purgePayload(tenantId, cut.seq, cut.hash), this.keys.privateKey).toString('base64url');
        const data = JSON.stringify({ throughSeq: cut.seq, cutHash: cut.hash, removed, before: cutoff, signature });
        // Straight into the chain, under the lock the purge holds: it continues from the cut when nothing remains.
        const at = this.now().toISOString();
        await this.chain(trx, tenantId, [{ tenant_id: tenantId, at, type: 'audit.purged', actor_id: null, actor_name: null, room_id: null, room_name: null, session_id: null, data }], cut);
        this.unsealed.add(tenantId);
        records += removed;
      });
      await this.checkpoint(tenantId);
    }
    return { tenants: tenants.length, records };
  }
}

function purgePayload(tenantId: string, throughSeq: number, cutHash: string): Buffer {
  return Buffer.from(`roomlink-audit-checkpoint:v1:${tenantId}:${throughSeq}:${cutHash}`);
}

function storedCheckpoints(db: Kysely<Tables>, tenantId: string): Promise<Checkpoint[]> {
  return db.selectFrom('audit_checkpoints').select(['tenant_id as tenantId', 'seq', 'hash', 'at', 'signature']).where('tenant_id', '=', tenantId).execute();
}

/**
 * The whole check, for the server and the offline CLI alike: the chain
 * links up from its genesis or a signed purge, every record hashes to what
 * it says, and every signed checkpoint of the tenant names a record that is
 * still there with the same hash — so the newest checkpoint bounds what can
 * have been cut from the end. A checkpoint whose signature fails is itself
 * a finding.
 */
export async function verifyChain(db: Kysely<Tables>, tenantId: string, checkpoints: readonly Checkpoint[], publicKey: KeyObject): Promise<AuditVerification> {
  const rows = await db.selectFrom('audit').selectAll().where('tenant_id', '=', tenantId).orderBy('seq').execute();
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
