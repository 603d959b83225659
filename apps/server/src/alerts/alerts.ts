import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import {
  AlertRule,
  AlertRuleInput,
  incidentCauseLabels,
  type Delivery,
  type Incident,
  type IncidentEntry,
  type Webhook,
  type WebhookInput,
} from '@roomlink/shared';
import type { AuditLog } from '../audit/log';
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Store } from '../store/engine';
import type { Tables } from '../store/schema';
import type { Directory } from '../store/directory';

/** A delivery is tried this often before it is given up (dead). */
export const MAX_ATTEMPTS = 8;
/** A webhook that fails this many deliveries in a row is disabled until someone looks. */
export const WEBHOOK_DISABLE_AFTER = 10;
/** How long a node's claim on a delivery keeps the others off it: longer than a webhook may take to answer (10 s). */
export const DELIVERY_CLAIM_MS = 15_000;
const BACKOFF_BASE_MS = 2_000;
const BACKOFF_CAP_MS = 10 * 60_000;

export class AlertError extends Error {
  constructor(message: string) {
    super(message);
  }
}

/** What a delivery carries: the incident, what happened to it, and where to look. */
export interface AlertPayload {
  event: 'incident.opened' | 'incident.changed' | 'incident.resolved';
  incident: Incident;
  entry: IncidentEntry;
  /** The idempotency key: the same on every attempt, so a receiver can drop a repeat. */
  deliveryId: string;
}

export interface Senders {
  email(to: string[], subject: string, text: string, messageId: string): Promise<void>;
  /** Resolves with the HTTP status; throws when no answer came. */
  post(url: string, body: string, headers: Record<string, string>): Promise<number>;
}

type OutboxRow = Selectable<Tables['outbox']>;
type WebhookRow = Selectable<Tables['webhooks']>;

const toWebhook = (r: WebhookRow): Webhook => ({ id: r.id, name: r.name, url: r.url, format: r.format as Webhook['format'], disabledReason: r.disabled_reason, consecutiveFailures: r.consecutive_failures });
const toDelivery = (r: OutboxRow): Delivery => ({
  id: r.id,
  ruleId: r.rule_id,
  incidentId: r.incident_id,
  channel: r.channel as Delivery['channel'],
  target: r.target,
  event: r.event,
  state: r.state as Delivery['state'],
  attempts: r.attempts,
  lastStatus: r.last_status,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
  nextAttemptAt: r.next_attempt_at,
});

/** `sha256=<hex>` of the body with the webhook's secret: what a receiver recomputes to trust a delivery. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Alerts: rules pick incidents (severity, cause, location, tag; on open,
 * change, resolve) and send them by email and to webhooks. Every delivery
 * is a row in the outbox written in the incident's own transaction, so a
 * restart loses none; the dispatcher sends due rows, retries with
 * exponential backoff and jitter, gives up after `MAX_ATTEMPTS`, and
 * disables a webhook that keeps failing. Each delivery carries one
 * idempotency key on every attempt.
 */
export class Alerts {
  private sending = false;

  constructor(
    private readonly store: Store,
    private readonly directory: Directory,
    private readonly audit: AuditLog,
    private readonly senders: Senders,
    private readonly now: () => Date,
    /** The server's own origins: a webhook must not point back at it. */
    private readonly ownOrigins: () => string[],
  ) {}

  private get db(): Kysely<Tables> {
    return this.store.db;
  }

  // Rules

  async rules(tenantId: string, db = this.db): Promise<AlertRule[]> {
    const rows = await db.selectFrom('alert_rules').select('rule').where('tenant_id', '=', tenantId).orderBy('id').execute();
    return rows.map((row) => AlertRule.parse(JSON.parse(row.rule)));
  }

  async saveRule(tenantId: string, id: string | null, input: AlertRuleInput, actor: { id: string; name: string }): Promise<AlertRule> {
    const rule = AlertRule.parse({ ...AlertRuleInput.parse(input), id: id ?? `rule-${randomUUID()}` });
    const hooks = new Set((await this.webhooks(tenantId)).map((w) => w.id));
    const unknown = rule.webhookIds.find((w) => !hooks.has(w));
    if (unknown) throw new AlertError(`No such webhook: ${unknown}.`);
    if (rule.emails.length === 0 && rule.webhookIds.length === 0) throw new AlertError('An alert rule needs at least one email address or webhook.');
    await this.db.transaction().execute(async (trx) => {
      const before = id ? (await this.rules(tenantId, trx)).find((r) => r.id === id) : undefined;
      if (id && !before) throw new AlertError('No such alert rule.');
      await trx
        .insertInto('alert_rules')
        .values({ tenant_id: tenantId, id: rule.id, rule: JSON.stringify(rule) })
        .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ rule: eb.ref('excluded.rule') })))
        .execute();
      await this.audit.append(trx, { tenantId, type: id ? 'alertRule.updated' : 'alertRule.created', actorId: actor.id, actorName: actor.name, data: { before: before ?? null, after: rule } });
    });
    return rule;
  }

  async deleteRule(tenantId: string, id: string, actor: { id: string; name: string }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const before = (await this.rules(tenantId, trx)).find((r) => r.id === id);
      if (!before) throw new AlertError('No such alert rule.');
      await trx.deleteFrom('alert_rules').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
      await this.audit.append(trx, { tenantId, type: 'alertRule.deleted', actorId: actor.id, actorName: actor.name, data: { rule: before } });
    });
  }

  // Webhooks

  async webhooks(tenantId: string, db = this.db): Promise<Webhook[]> {
    return (await db.selectFrom('webhooks').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute()).map(toWebhook);
  }

  /** Adds a webhook with a fresh signing secret, returned this once. Refuses URLs with credentials and ones that point at this server. */
  async addWebhook(tenantId: string, input: Required<WebhookInput>, actor: { id: string; name: string }): Promise<{ webhook: Webhook; secret: string }> {
    const url = new URL(input.url);
    if (url.username || url.password) throw new AlertError('A webhook URL carries no user name or password; the signature proves the sender.');
    if (this.ownOrigins().includes(url.origin)) throw new AlertError('A webhook cannot point at this Roomlink server itself.');
    const id = `hook-${randomUUID()}`;
    const secret = randomBytes(32).toString('base64url');
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('webhooks').values({ tenant_id: tenantId, id, name: input.name, url: url.href, format: input.format, secret }).execute();
      await this.audit.append(trx, { tenantId, type: 'webhook.created', actorId: actor.id, actorName: actor.name, data: { id, name: input.name, url: url.href, format: input.format } });
    });
    return { webhook: (await this.webhooks(tenantId)).find((w) => w.id === id)!, secret };
  }

  async deleteWebhook(tenantId: string, id: string, actor: { id: string; name: string }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const hook = (await this.webhooks(tenantId, trx)).find((w) => w.id === id);
      if (!hook) throw new AlertError('No such webhook.');
      if ((await this.rules(tenantId, trx)).some((r) => r.webhookIds.includes(id))) throw new AlertError(`${hook.name} is used by an alert rule. Change the rule first.`);
      await trx.deleteFrom('webhooks').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
      await this.audit.append(trx, { tenantId, type: 'webhook.deleted', actorId: actor.id, actorName: actor.name, data: { webhook: hook } });
    });
  }

  // The outbox

  /** Called inside the incident's transaction `trx`: one outbox row per matching rule and target. */
  async enqueue(trx: Kysely<Tables>, tenantId: string, incident: Incident, entry: IncidentEntry): Promise<void> {
    const event: AlertPayload['event'] = entry.kind === 'opened' ? 'incident.opened' : entry.kind === 'resolved' || entry.kind === 'autoResolved' ? 'incident.resolved' : 'incident.changed';
    const room = await this.directory.room(tenantId, incident.roomId, trx);
    const at = this.now().toISOString();
    const rows: Insertable<Tables['outbox']>[] = [];
    for (const rule of await this.rules(tenantId, trx)) {
      if (!rule.enabled || !matches(rule, event, incident, room)) continue;
      const targets: ['email' | 'webhook', string][] = [...(rule.emails.length ? [['email', rule.emails.join(',')] as ['email', string]] : []), ...rule.webhookIds.map((id) => ['webhook', id] as ['webhook', string])];
      for (const [channel, target] of targets) {
        const key = `${incident.id}/${entry.at}/${entry.kind}/${rule.id}/${channel}/${target}`;
        const id = `dlv-${randomUUID()}`;
        const payload: AlertPayload = { event, incident, entry, deliveryId: id };
        rows.push({ tenant_id: tenantId, id, idempotency_key: key, rule_id: rule.id, incident_id: incident.id, channel, target, event, payload: JSON.stringify(payload), state: 'pending', next_attempt_at: at, created_at: at });
      }
    }
    if (rows.length > 0) await trx.insertInto('outbox').values(rows).onConflict((oc) => oc.column('idempotency_key').doNothing()).execute();
  }

  async deliveries(tenantId: string, limit = 200): Promise<Delivery[]> {
    return (await this.db.selectFrom('outbox').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'desc').limit(limit).execute()).map(toDelivery);
  }

  async attempts(tenantId: string, deliveryId: string): Promise<{ at: string; status: string }[]> {
    const owner = await this.db.selectFrom('outbox').select('tenant_id').where('id', '=', deliveryId).executeTakeFirst();
    if (owner?.tenant_id !== tenantId) throw new AlertError('No such delivery.');
    return this.db.selectFrom('delivery_attempts').select(['at', 'status']).where('outbox_id', '=', deliveryId).orderBy('at').orderBy('rowid').execute();
  }

  /** Sends what is due, one batch at a time; the server calls it on a timer. */
  async dispatch(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      await Promise.all((await this.claimDue()).map((row) => this.attempt(row)));
    } finally {
      this.sending = false;
    }
  }

  /**
   * Takes up to 20 due deliveries for this node: each is put off by
   * `DELIVERY_CLAIM_MS` in the same transaction, so no other node sends it
   * meanwhile (PostgreSQL skips rows another node is claiming). The attempt
   * then sets its real next time; a node that dies holding a claim leaves
   * the delivery to whichever node looks once the claim lapses.
   */
  private claimDue(): Promise<OutboxRow[]> {
    const now = this.now();
    return this.db.transaction().execute(async (trx) => {
      const due = await this.store.dialect
        .claiming(trx.selectFrom('outbox').selectAll().where('state', '=', 'pending').where('next_attempt_at', '<=', now.toISOString()).orderBy('next_attempt_at').limit(20))
        .execute();
      if (due.length > 0) {
        const until = new Date(now.getTime() + DELIVERY_CLAIM_MS).toISOString();
        await trx.updateTable('outbox').set({ next_attempt_at: until }).where('id', 'in', due.map((row) => row.id)).execute();
      }
      return due;
    });
  }

  private async attempt(row: OutboxRow): Promise<void> {
    const payload = JSON.parse(row.payload) as AlertPayload;
    let status: string;
    let ok = false;
    const hook = row.channel === 'webhook' ? await this.db.selectFrom('webhooks').selectAll().where('id', '=', row.target).executeTakeFirst() : undefined;
    try {
      if (row.channel === 'email') {
        const { subject, text } = emailOf(payload);
        // The delivery id is the Message-ID: a repeat after a crash is the same message to a mail client.
        await this.senders.email(row.target.split(','), subject, text, `<${row.id}@roomlink>`);
        status = 'sent';
        ok = true;
      } else if (!hook || hook.disabled_reason) {
        return this.finish(row, 'dead', hook ? `webhook disabled: ${hook.disabled_reason}` : 'webhook removed', false);
      } else {
        const body = hook.format === 'teams' ? teamsCard(payload) : JSON.stringify(payload);
        const timestamp = this.now().toISOString();
        const code = await this.senders.post(hook.url, body, {
          'content-type': 'application/json',
          'idempotency-key': row.id,
          'x-roomlink-timestamp': timestamp,
          'x-roomlink-signature': signature(hook.secret, timestamp, body),
        });
        status = `HTTP ${code}`;
        ok = code >= 200 && code < 300;
      }
    } catch (error) {
      status = `failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
    }
    const attempts = row.attempts + 1;
    if (ok) return this.finish(row, 'delivered', status, true, hook);
    if (attempts >= MAX_ATTEMPTS) return this.finish(row, 'dead', status, false, hook);
    // Exponential backoff with ±20 % jitter, so many failing deliveries do not come back in step.
    const delay = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempts - 1)) * (0.8 + Math.random() * 0.4);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('outbox')
        .set({ attempts, last_status: status, next_attempt_at: new Date(this.now().getTime() + delay).toISOString() })
        .where('id', '=', row.id)
        .execute();
      await trx.insertInto('delivery_attempts').values({ outbox_id: row.id, at: this.now().toISOString(), status }).execute();
      if (hook) await this.webhookFailed(trx, hook, status);
    });
  }

  private async finish(row: OutboxRow, state: 'delivered' | 'dead', status: string, ok: boolean, hook?: WebhookRow): Promise<void> {
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('outbox')
        .set((eb) => ({ state, attempts: eb('attempts', '+', 1), last_status: status, next_attempt_at: null, delivered_at: ok ? at : null }))
        .where('id', '=', row.id)
        .execute();
      await trx.insertInto('delivery_attempts').values({ outbox_id: row.id, at, status }).execute();
      if (hook && ok) await trx.updateTable('webhooks').set({ consecutive_failures: 0 }).where('id', '=', hook.id).execute();
      if (hook && !ok) await this.webhookFailed(trx, hook, status);
    });
  }

  /** `status`: how this delivery failed, which the reason names when the webhook is disabled. */
  private async webhookFailed(trx: Kysely<Tables>, hook: WebhookRow, status: string): Promise<void> {
    // Counted in the database: other deliveries to the same webhook may have failed since `hook` was read.
    const now = await trx
      .updateTable('webhooks')
      .set((eb) => ({ consecutive_failures: eb('consecutive_failures', '+', 1) }))
      .where('id', '=', hook.id)
      .returning(['consecutive_failures', 'disabled_reason'])
      .executeTakeFirst();
    if (!now || now.consecutive_failures < WEBHOOK_DISABLE_AFTER || now.disabled_reason) return;
    const reason = `${now.consecutive_failures} deliveries in a row failed; the last: ${status}`;
    await trx.updateTable('webhooks').set({ disabled_reason: reason }).where('id', '=', hook.id).execute();
    await this.audit.append(trx, { tenantId: hook.tenant_id, type: 'webhook.disabled', data: { id: hook.id, name: hook.name, reason } });
  }
}

function matches(rule: AlertRule, event: AlertPayload['event'], incident: Incident, room: { locationPath: string[]; tags: string[] } | undefined): boolean {
  if (event === 'incident.opened' ? !rule.onOpen : event === 'incident.resolved' ? !rule.onResolve : !rule.onChange) return false;
  if (rule.severities.length && !rule.severities.includes(incident.severity)) return false;
  if (rule.causes.length && !rule.causes.includes(incident.cause)) return false;
  if (rule.locations.length && !rule.locations.some((l) => room?.locationPath.includes(l))) return false;
  if (rule.tags.length && !rule.tags.some((t) => room?.tags.includes(t))) return false;
  return true;
}

const what = (p: AlertPayload) => `${incidentCauseLabels[p.incident.cause]} in ${p.incident.roomName}`;
const happened = (p: AlertPayload) =>
  p.event === 'incident.opened' ? 'opened' : p.event === 'incident.resolved' ? (p.entry.kind === 'autoResolved' ? 'resolved by itself' : 'resolved') : `${p.entry.kind}${p.entry.by ? ` by ${p.entry.by}` : ''}`;

function emailOf(p: AlertPayload): { subject: string; text: string } {
  return {
    subject: `[Roomlink] ${p.incident.severity === 'critical' ? 'Critical' : 'Warning'}: ${what(p)} — ${happened(p)}`,
    text: [`${what(p)}: ${happened(p)} at ${p.entry.at}.`, `Severity: ${p.incident.severity}. State: ${p.incident.state}.`, p.entry.text ? `Note: ${p.entry.text}` : '', `Incident ${p.incident.id}, opened ${p.incident.openedAt}.`].filter(Boolean).join('\n'),
  };
}

/** The Office 365 connector card a Teams incoming webhook takes. */
function teamsCard(p: AlertPayload): string {
  return JSON.stringify({
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: `${what(p)} — ${happened(p)}`,
    themeColor: p.event === 'incident.resolved' ? '1F9D55' : p.incident.severity === 'critical' ? 'D64545' : 'D69E2E',
    title: `${p.incident.severity === 'critical' ? 'Critical' : 'Warning'}: ${what(p)}`,
    text: `${happened(p)} at ${p.entry.at}${p.entry.text ? `: ${p.entry.text}` : ''}`,
    sections: [{ facts: [{ name: 'Room', value: p.incident.roomName }, { name: 'State', value: p.incident.state }, { name: 'Incident', value: p.incident.id }] }],
  });
}
