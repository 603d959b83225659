import {
  HealthSignal,
  healthSignalLabels,
  IncidentCause,
  incidentCauseLabels,
  IncidentSeverity,
  type AlertRule,
  type AlertRuleInput,
  type CaughtMail,
  type Delivery,
  type IncidentRules,
  type Location,
  type Webhook,
} from '@roomlink/shared';
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ConsoleFailure } from '../../api/console-api';
import { failureOf } from '../errors';
import { filterOptions, pathLabel } from '../rooms/filter';
import { useConsole, usePlatform } from '../store/store';
import { Checklist, type PickOption } from './pickers';
import { Ago, ErrorNote } from './ui';

const severityOptions: PickOption[] = IncidentSeverity.options.map((s) => ({ value: s, label: s === 'critical' ? 'Critical' : 'Warning' }));
const causeOptions: PickOption[] = IncidentCause.options.map((c) => ({ value: c, label: incidentCauseLabels[c] }));
const momentOptions: PickOption[] = [
  { value: 'onOpen', label: 'When it opens' },
  { value: 'onChange', label: 'When its state changes' },
  { value: 'onResolve', label: 'When it is resolved' },
];
const moments = ['onOpen', 'onChange', 'onResolve'] as const;

/**
 * Who hears about incidents: webhooks (with the signing secret shown once),
 * alert rules, the delivery log, and in development the mail the embedded
 * catcher received.
 */
export function AlertsPanel() {
  const { api } = usePlatform();
  const rooms = useConsole((s) => s.rooms);
  const [locations, setLocations] = useState<Location[]>([]);
  const [rules, setRules] = useState<AlertRule[]>([]);
  const [webhooks, setWebhooks] = useState<Webhook[]>([]);
  const [deliveries, setDeliveries] = useState<Delivery[]>([]);
  const [mail, setMail] = useState<CaughtMail[] | null>(null);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  const load = useCallback(() => {
    const failed = (e: unknown) => setError(failureOf(e));
    api.alertRules().then(setRules, failed);
    api.locations().then(setLocations, failed);
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

  const locationOptions = useMemo(() => locations.map((l) => ({ value: l.id, label: pathLabel(l, locations) })).sort((a, b) => a.label.localeCompare(b.label)), [locations]);
  const tagOptions = useMemo(() => filterOptions(rooms).tags.map((t) => ({ value: t, label: t })), [rooms]);
  const describe = (r: AlertRule) =>
    [
      r.severities.length ? r.severities.join(' or ') : 'any severity',
      r.causes.length ? r.causes.map((c) => incidentCauseLabels[c]).join(', ') : null,
      r.locations.length ? `in ${r.locations.map((id) => locationOptions.find((o) => o.value === id)?.label ?? id).join(', ')}` : null,
      r.tags.length ? `tagged ${r.tags.join(', ')}` : null,
    ]
      .filter(Boolean)
      .join('; ');

  return (
    <section role="tabpanel" aria-label="Alerts" className="panel alerts">
      <h2>Incidents and alerts</h2>
      <ErrorNote error={error} />
      <IncidentRulesForm />
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
          <li key={r.id} data-rule={r.name} className={r.enabled ? undefined : 'disabled'}>
            <label className="check">
              <input type="checkbox" aria-label={`${r.name} enabled`} checked={r.enabled} onChange={(e) => void run(() => api.saveAlertRule(r.id, { ...ruleInput(r), enabled: e.target.checked }))} />
              <b>{r.name}</b>
            </label>
            <span>
              {describe(r)}; on {[r.onOpen && 'open', r.onChange && 'change', r.onResolve && 'resolve'].filter(Boolean).join(', ')} →{' '}
              {[...r.emails, ...r.webhookIds.map((id) => webhooks.find((w) => w.id === id)?.name ?? id)].join(', ')}
            </span>
            <button type="button" onClick={() => void run(() => api.deleteAlertRule(r.id))}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      <RuleForm webhooks={webhooks} locations={locationOptions} tags={tagOptions} onAdd={(rule) => void run(() => api.saveAlertRule(null, rule))} />
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

/** An alert rule as the API takes it back: everything but its id. */
function ruleInput({ id: _id, ...input }: AlertRule): AlertRuleInput {
  return input;
}

/**
 * Which incidents a new rule is about (nothing ticked: any) and who hears:
 * severities, causes, locations and tags narrow it; it fires at the moments
 * ticked, to the emails and webhooks given.
 */
function RuleForm({ webhooks, locations, tags, onAdd }: { webhooks: Webhook[]; locations: PickOption[]; tags: PickOption[]; onAdd(rule: AlertRuleInput): void }) {
  const [name, setName] = useState('');
  const [severities, setSeverities] = useState<string[]>([]);
  const [causes, setCauses] = useState<string[]>([]);
  const [where, setWhere] = useState<string[]>([]);
  const [tagged, setTagged] = useState<string[]>([]);
  const [when, setWhen] = useState<string[]>(['onOpen', 'onResolve']);
  const [emails, setEmails] = useState('');
  const [hooks, setHooks] = useState<string[]>([]);
  return (
    <form
      className="rule-form"
      aria-label="Add an alert rule"
      onSubmit={(e) => {
        e.preventDefault();
        onAdd({
          name: name.trim(),
          severities: severities as IncidentSeverity[],
          causes: causes as IncidentCause[],
          locations: where,
          tags: tagged,
          ...(Object.fromEntries(moments.map((m) => [m, when.includes(m)])) as Record<(typeof moments)[number], boolean>),
          emails: emails
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
          webhookIds: hooks,
        });
      }}
    >
      <input aria-label="Rule name" placeholder="Name" value={name} onChange={(e) => setName(e.target.value)} />
      <Checklist label="Severity (none ticked: any)" options={severityOptions} value={severities} onChange={setSeverities} />
      <Checklist label="Cause (none ticked: any)" options={causeOptions} value={causes} onChange={setCauses} />
      <Checklist label="Locations (none ticked: anywhere)" options={locations} value={where} onChange={setWhere} />
      <Checklist label="Tags (none ticked: any)" options={tags} value={tagged} onChange={setTagged} />
      <Checklist label="Send" options={momentOptions} value={when} onChange={setWhen} />
      <input aria-label="Email to" placeholder="Emails, comma separated" value={emails} onChange={(e) => setEmails(e.target.value)} />
      <Checklist label="Webhooks" options={webhooks.map((w) => ({ value: w.id, label: w.name }))} value={hooks} onChange={setHooks} />
      <button type="submit" disabled={!name.trim() || when.length === 0}>
        Add rule
      </button>
    </form>
  );
}

/**
 * When incidents open and close in this tenant: how long a signal must fail
 * or a room stay offline, how long a recovery must last before an incident
 * resolves itself, how soon a failure reopens it, and each signal's severity.
 */
function IncidentRulesForm() {
  const { api } = usePlatform();
  const [rules, setRules] = useState<IncidentRules | null>(null);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  useEffect(() => void api.incidentRules().then(setRules, (e: unknown) => setError(failureOf(e))), [api]);
  if (!rules) return <ErrorNote error={error} />;
  const minutes = (key: 'signalErrorMinutes' | 'offlineMinutes' | 'recoverMinutes' | 'reopenMinutes', label: string) => (
    <label>
      {label}
      <input type="number" min={key === 'reopenMinutes' ? 0 : 1} value={rules[key]} onChange={(e) => (setSaved(false), setRules({ ...rules, [key]: Number(e.target.value) }))} />
      minutes
    </label>
  );
  return (
    <form
      className="incident-rules"
      aria-label="Incident rules"
      onSubmit={(e) => {
        e.preventDefault();
        setError(null);
        api.saveIncidentRules(rules).then(
          (next) => (setRules(next), setSaved(true)),
          (failure: unknown) => setError(failureOf(failure)),
        );
      }}
    >
      <h3>Incident rules</h3>
      {minutes('signalErrorMinutes', 'A signal in error opens an incident after')}
      {minutes('offlineMinutes', 'A room offline opens a critical incident after')}
      {minutes('recoverMinutes', 'An incident resolves itself once its cause has been gone for')}
      {minutes('reopenMinutes', 'It reopens if its cause comes back within')}
      <fieldset>
        <legend>Severity of a failing signal</legend>
        {HealthSignal.options.map((signal) => (
          <label key={signal}>
            {healthSignalLabels[signal]}
            <select value={rules.signalSeverity[signal]} onChange={(e) => (setSaved(false), setRules({ ...rules, signalSeverity: { ...rules.signalSeverity, [signal]: e.target.value as IncidentSeverity } }))}>
              {severityOptions.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
        ))}
      </fieldset>
      <ErrorNote error={error} />
      <button type="submit">Save incident rules</button>
      {saved && <span role="status">Saved.</span>}
    </form>
  );
}
