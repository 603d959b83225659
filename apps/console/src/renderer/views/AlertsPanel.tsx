import { IncidentSeverity, type AlertRule, type CaughtMail, type Delivery, type Webhook } from '@roomlink/shared';
import { useCallback, useEffect, useState } from 'react';
import type { ConsoleFailure } from '../../api/console-api';
import { failureOf } from '../errors';
import { usePlatform } from '../store/store';
import { Ago, ErrorNote } from './ui';

/**
 * Who hears about incidents: webhooks (with the signing secret shown once),
 * alert rules, the delivery log, and in development the mail the embedded
 * catcher received.
 */
export function AlertsPanel() {
  const { api } = usePlatform();
  const [rules, setRules] = useState<AlertRule[]>([]);
  const [webhooks, setWebhooks] = useState<Webhook[]>([]);
  const [deliveries, setDeliveries] = useState<Delivery[]>([]);
  const [mail, setMail] = useState<CaughtMail[] | null>(null);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  const load = useCallback(() => {
    const failed = (e: unknown) => setError(failureOf(e));
    api.alertRules().then(setRules, failed);
    api.webhooks().then(setWebhooks, failed);
    api.deliveries().then(setDeliveries, failed);
    // Only a development server has a catcher: elsewhere the section stays hidden.
    api.caughtMail().then(setMail, () => setMail(null));
  }, [api]);
  useEffect(() => load(), [load]);
  const run = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      load();
    } catch (e) {
      setError(failureOf(e));
    }
  };

  return (
    <section role="tabpanel" aria-label="Alerts" className="panel alerts">
      <h2>Alerts</h2>
      <ErrorNote error={error} />
      <h3>Webhooks</h3>
      <ul className="plain" aria-label="Webhooks">
        {webhooks.map((w) => (
          <li key={w.id} data-webhook={w.name}>
            <b>{w.name}</b> {w.url} ({w.format === 'teams' ? 'Teams card' : 'JSON'}){' '}
            {w.disabledReason ? <span className="problem">disabled: {w.disabledReason}</span> : w.consecutiveFailures > 0 ? <span className="hint">{w.consecutiveFailures} failures in a row</span> : null}{' '}
            <button type="button" onClick={() => void run(() => api.deleteWebhook(w.id))}>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <WebhookForm
        onAdd={(input) =>
          void run(async () => {
            const created = await api.addWebhook(input);
            setSecret({ name: created.webhook.name, secret: created.secret });
          })
        }
      />
      {secret && (
        <p role="status" className="notice" data-testid="webhook-secret">
          Signing secret for {secret.name}, shown only now: <code>{secret.secret}</code>. Each delivery carries <code>x-roomlink-signature: sha256=HMAC(secret, timestamp + "." + body)</code>.
        </p>
      )}
      <h3>Rules</h3>
      <ul className="plain" aria-label="Alert rules">
        {rules.map((r) => (
          <li key={r.id} data-rule={r.name}>
            <b>{r.name}</b>: {r.severities.length ? r.severities.join(' and ') : 'any severity'}, on {[r.onOpen && 'open', r.onChange && 'change', r.onResolve && 'resolve'].filter(Boolean).join(', ')} →{' '}
            {[...r.emails, ...r.webhookIds.map((id) => webhooks.find((w) => w.id === id)?.name ?? id)].join(', ')}{' '}
            <button type="button" onClick={() => void run(() => api.deleteAlertRule(r.id))}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      <RuleForm webhooks={webhooks} onAdd={(rule) => void run(() => api.saveAlertRule(null, rule))} />
      <h3>Deliveries</h3>
      {deliveries.length === 0 ? (
        <p className="empty">Nothing sent yet.</p>
      ) : (
        <table className="grid deliveries">
          <thead>
            <tr>
              <th>When</th>
              <th>Event</th>
              <th>To</th>
              <th>State</th>
              <th>Attempts</th>
              <th>Last answer</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.map((d) => (
              <tr key={d.id} data-state={d.state}>
                <td>
                  <Ago at={d.createdAt} />
                </td>
                <td>{d.event}</td>
                <td>{d.channel === 'webhook' ? (webhooks.find((w) => w.id === d.target)?.name ?? d.target) : d.target}</td>
                <td>{d.state}</td>
                <td>{d.attempts}</td>
                <td>{d.lastStatus ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {mail && (
        <>
          <h3>Sent mail (development catcher)</h3>
          {mail.length === 0 ? (
            <p className="empty">No mail caught yet.</p>
          ) : (
            <ul className="plain" aria-label="Sent mail">
              {mail.map((m, i) => (
                <li key={i}>
                  <Ago at={m.at} /> to {m.to.join(', ')}: <b>{m.subject}</b>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <button type="button" onClick={load}>
        Refresh
      </button>
    </section>
  );
}

function WebhookForm({ onAdd }: { onAdd(input: { name: string; url: string; format: 'json' | 'teams' }): void }) {
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [format, setFormat] = useState<'json' | 'teams'>('json');
  return (
    <form
      className="inline-form"
      aria-label="Add a webhook"
      onSubmit={(e) => {
        e.preventDefault();
        onAdd({ name: name.trim(), url: url.trim(), format });
      }}
    >
      <input aria-label="Webhook name" placeholder="Name" value={name} onChange={(e) => setName(e.target.value)} />
      <input aria-label="Webhook URL" placeholder="https://…" value={url} onChange={(e) => setUrl(e.target.value)} />
      <select aria-label="Payload" value={format} onChange={(e) => setFormat(e.target.value as 'json' | 'teams')}>
        <option value="json">JSON (signed)</option>
        <option value="teams">Teams incoming webhook card</option>
      </select>
      <button type="submit" disabled={!name.trim() || !url.trim()}>
        Add webhook
      </button>
    </form>
  );
}

function RuleForm({ webhooks, onAdd }: { webhooks: Webhook[]; onAdd(rule: { name: string; severities: IncidentSeverity[]; emails: string[]; webhookIds: string[]; onOpen: boolean; onChange: boolean; onResolve: boolean }): void }) {
  const [name, setName] = useState('');
  const [severity, setSeverity] = useState<IncidentSeverity | ''>('');
  const [emails, setEmails] = useState('');
  const [webhookId, setWebhookId] = useState('');
  return (
    <form
      className="inline-form"
      aria-label="Add an alert rule"
      onSubmit={(e) => {
        e.preventDefault();
        onAdd({
          name: name.trim(),
          severities: severity ? [severity] : [],
          emails: emails
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
          webhookIds: webhookId ? [webhookId] : [],
          onOpen: true,
          onChange: false,
          onResolve: true,
        });
      }}
    >
      <input aria-label="Rule name" placeholder="Name" value={name} onChange={(e) => setName(e.target.value)} />
      <select aria-label="Severity" value={severity} onChange={(e) => setSeverity(e.target.value as IncidentSeverity | '')}>
        <option value="">Any severity</option>
        {IncidentSeverity.options.map((s) => (
          <option key={s} value={s}>
            {s === 'critical' ? 'Critical' : 'Warning'}
          </option>
        ))}
      </select>
      <input aria-label="Email to" placeholder="Emails, comma separated" value={emails} onChange={(e) => setEmails(e.target.value)} />
      <select aria-label="Webhook" value={webhookId} onChange={(e) => setWebhookId(e.target.value)}>
        <option value="">No webhook</option>
        {webhooks.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name}
          </option>
        ))}
      </select>
      <button type="submit" disabled={!name.trim()}>
        Add rule
      </button>
    </form>
  );
}
