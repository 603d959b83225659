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
import type { Db } from '../store/db';
import type { Directory } from '../store/directory';

/** A delivery is tried this often before it is given up (dead). */
export const MAX_ATTEMPTS = 8;
/** A webhook that fails this many deliveries in a row is disabled until someone looks. */
export const WEBHOOK_DISABLE_AFTER = 10;
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

interface OutboxRow {
  tenant_id: string;
  id: string;
  idempotency_key: string;
  rule_id: string;
  incident_id: string;
  channel: 'email' | 'webhook';
  target: string;
  event: string;
  payload: string;
  state: Delivery['state'];
  attempts: number;
  next_attempt_at: string | null;
  last_status: string | null;
  created_at: string;
  delivered_at: string | null;
}

interface WebhookRow {
  tenant_id: string;
  id: string;
  name: string;
  url: string;
  format: Webhook['format'];
  secret: string;
  consecutive_failures: number;
  disabled_reason: string | null;
}

const toWebhook = (r: WebhookRow): Webhook => ({ id: r.id, name: r.name, url: r.url, format: r.format, disabledReason: r.disabled_reason, consecutiveFailures: r.consecutive_failures });
const toDelivery = (r: OutboxRow): Delivery => ({
  id: r.id,
  ruleId: r.rule_id,
  incidentId: r.incident_id,
  channel: r.channel,
  target: r.target,
  event: r.event,
  state: r.state,
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
    private readonly db: Db,
    private readonly directory: Directory,
    private readonly audit: AuditLog,
    private readonly senders: Senders,
    private readonly now: () => Date,
    /** The server's own origins: a webhook must not point back at it. */
    private readonly ownOrigins: () => string[],
  ) {}

  // Rules

  rules(tenantId: string): AlertRule[] {
    return this.db
      .prepare<[string], { rule: string }>('SELECT rule FROM alert_rules WHERE tenant_id = ? ORDER BY id')
      .all(tenantId)
      .map((row) => AlertRule.parse(JSON.parse(row.rule)));
  }

  saveRule(tenantId: string, id: string | null, input: AlertRuleInput, actor: { id: string; name: string }): AlertRule {
    const rule = AlertRule.parse({ ...AlertRuleInput.parse(input), id: id ?? `rule-${randomUUID()}` });
    const hooks = new Set(this.webhooks(tenantId).map((w) => w.id));
    const unknown = rule.webhookIds.find((w) => !hooks.has(w));
    if (unknown) throw new AlertError(`No such webhook: ${unknown}.`);
    if (rule.emails.length === 0 && rule.webhookIds.length === 0) throw new AlertError('An alert rule needs at least one email address or webhook.');
    this.db.transaction(() => {
      const before = id ? this.rules(tenantId).find((r) => r.id === id) : undefined;
      if (id && !before) throw new AlertError('No such alert rule.');
      this.db.prepare('INSERT INTO alert_rules (tenant_id, id, rule) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET rule = excluded.rule').run(tenantId, rule.id, JSON.stringify(rule));
      this.audit.append({ tenantId, type: id ? 'alertRule.updated' : 'alertRule.created', actorId: actor.id, actorName: actor.name, data: { before: before ?? null, after: rule } });
    })();
    return rule;
  }

  deleteRule(tenantId: string, id: string, actor: { id: string; name: string }): void {
    this.db.transaction(() => {
      const before = this.rules(tenantId).find((r) => r.id === id);
      if (!before) throw new AlertError('No such alert rule.');
      this.db.prepare('DELETE FROM alert_rules WHERE tenant_id = ? AND id = ?').run(tenantId, id);
      this.audit.append({ tenantId, type: 'alertRule.deleted', actorId: actor.id, actorName: actor.name, data: { rule: before } });
    })();
  }

  // Webhooks

  webhooks(tenantId: string): Webhook[] {
    return this.db.prepare<[string], WebhookRow>('SELECT * FROM webhooks WHERE tenant_id = ? ORDER BY name').all(tenantId).map(toWebhook);
  }

  /** Adds a webhook with a fresh signing secret, returned this once. Refuses URLs with credentials and ones that point at this server. */
  addWebhook(tenantId: string, input: Required<WebhookInput>, actor: { id: string; name: string }): { webhook: Webhook; secret: string } {
    const url = new URL(input.url);
    if (url.username || url.password) throw new AlertError('A webhook URL carries no user name or password; the signature proves the sender.');
    if (this.ownOrigins().includes(url.origin)) throw new AlertError('A webhook cannot point at this Roomlink server itself.');
    const id = `hook-${randomUUID()}`;
    const secret = randomBytes(32).toString('base64url');
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO webhooks (tenant_id, id, name, url, format, secret) VALUES (?, ?, ?, ?, ?, ?)').run(tenantId, id, input.name, url.href, input.format, secret);
      this.audit.append({ tenantId, type: 'webhook.created', actorId: actor.id, actorName: actor.name, data: { id, name: input.name, url: url.href, format: input.format } });
    })();
    return { webhook: this.webhooks(tenantId).find((w) => w.id === id)!, secret };
  }

  deleteWebhook(tenantId: string, id: string, actor: { id: string; name: string }): void {
    this.db.transaction(() => {
      const hook = this.webhooks(tenantId).find((w) => w.id === id);
      if (!hook) throw new AlertError('No such webhook.');
      if (this.rules(tenantId).some((r) => r.webhookIds.includes(id))) throw new AlertError(`${hook.name} is used by an alert rule. Change the rule first.`);
      this.db.prepare('DELETE FROM webhooks WHERE tenant_id = ? AND id = ?').run(tenantId, id);
      this.audit.append({ tenantId, type: 'webhook.deleted', actorId: actor.id, actorName: actor.name, data: { webhook: hook } });
    })();
  }

  // The outbox

  /** Called inside the incident's transaction: one outbox row per matching rule and target. */
  enqueue(tenantId: string, incident: Incident, entry: IncidentEntry): void {
    const event: AlertPayload['event'] = entry.kind === 'opened' ? 'incident.opened' : entry.kind === 'resolved' || entry.kind === 'autoResolved' ? 'incident.resolved' : 'incident.changed';
    const room = this.directory.room(tenantId, incident.roomId);
    const insert = this.db.prepare(
      `INSERT INTO outbox (tenant_id, id, idempotency_key, rule_id, incident_id, channel, target, event, payload, state, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
    );
    const at = this.now().toISOString();
    for (const rule of this.rules(tenantId)) {
      if (!rule.enabled || !matches(rule, event, incident, room)) continue;
      const targets: ['email' | 'webhook', string][] = [...(rule.emails.length ? [['email', rule.emails.join(',')] as ['email', string]] : []), ...rule.webhookIds.map((id) => ['webhook', id] as ['webhook', string])];
      for (const [channel, target] of targets) {
        const key = `${incident.id}/${entry.at}/${entry.kind}/${rule.id}/${channel}/${target}`;
        const id = `dlv-${randomUUID()}`;
        const payload: AlertPayload = { event, incident, entry, deliveryId: id };
        insert.run(tenantId, id, key, rule.id, incident.id, channel, target, event, JSON.stringify(payload), at, at);
      }
    }
  }

  deliveries(tenantId: string, limit = 200): Delivery[] {
    return this.db.prepare<[string, number], OutboxRow>('SELECT * FROM outbox WHERE tenant_id = ? ORDER BY created_at DESC LIMIT ?').all(tenantId, limit).map(toDelivery);
  }

  attempts(tenantId: string, deliveryId: string): { at: string; status: string }[] {
    const owner = this.db.prepare<[string], { tenant_id: string }>('SELECT tenant_id FROM outbox WHERE id = ?').get(deliveryId);
    if (owner?.tenant_id !== tenantId) throw new AlertError('No such delivery.');
    return this.db.prepare<[string], { at: string; status: string }>('SELECT at, status FROM delivery_attempts WHERE outbox_id = ? ORDER BY at, rowid').all(deliveryId);
  }

  /** Sends what is due, one batch at a time; the server calls it on a timer. */
  async dispatch(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      const due = this.db.prepare<[string], OutboxRow>("SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT 20").all(this.now().toISOString());
      await Promise.all(due.map((row) => this.attempt(row)));
    } finally {
      this.sending = false;
    }
  }

  private async attempt(row: OutboxRow): Promise<void> {
    const payload = JSON.parse(row.payload) as AlertPayload;
    let status: string;
    let ok = false;
    const hook = row.channel === 'webhook' ? this.db.prepare<[string], WebhookRow>('SELECT * FROM webhooks WHERE id = ?').get(row.target) : undefined;
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
    this.db.transaction(() => {
      this.db.prepare('UPDATE outbox SET attempts = ?, last_status = ?, next_attempt_at = ? WHERE id = ?').run(attempts, status, new Date(this.now().getTime() + delay).toISOString(), row.id);
      this.db.prepare('INSERT INTO delivery_attempts (outbox_id, at, status) VALUES (?, ?, ?)').run(row.id, this.now().toISOString(), status);
      if (hook) this.webhookFailed(hook, status);
    })();
  }

  private finish(row: OutboxRow, state: 'delivered' | 'dead', status: string, ok: boolean, hook?: WebhookRow): void {
    const at = this.now().toISOString();
    this.db.transaction(() => {
      this.db.prepare('UPDATE outbox SET state = ?, attempts = attempts + 1, last_status = ?, next_attempt_at = NULL, delivered_at = ? WHERE id = ?').run(state, status, ok ? at : null, row.id);
      this.db.prepare('INSERT INTO delivery_attempts (outbox_id, at, status) VALUES (?, ?, ?)').run(row.id, at, status);
      if (hook && ok) this.db.prepare('UPDATE webhooks SET consecutive_failures = 0 WHERE id = ?').run(hook.id);
      if (hook && !ok) this.webhookFailed(hook, status);
    })();
  }

  /** `status`: how this delivery failed, which the reason names when the webhook is disabled. */
  private webhookFailed(hook: WebhookRow, status: string): void {
    // Read again: other deliveries to the same webhook may have failed since `hook` was read.
    const now = this.db.prepare<[string], { consecutive_failures: number; disabled_reason: string | null }>('SELECT consecutive_failures, disabled_reason FROM webhooks WHERE id = ?').get(hook.id);
    if (!now) return;
    const failures = now.consecutive_failures + 1;
    this.db.prepare('UPDATE webhooks SET consecutive_failures = ? WHERE id = ?').run(failures, hook.id);
    if (failures < WEBHOOK_DISABLE_AFTER || now.disabled_reason) return;
    const reason = `${failures} deliveries in a row failed; the last: ${status}`;
    this.db.prepare('UPDATE webhooks SET disabled_reason = ? WHERE id = ?').run(reason, hook.id);
    this.audit.append({ tenantId: hook.tenant_id, type: 'webhook.disabled', data: { id: hook.id, name: hook.name, reason } });
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
