import { timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertRule, Webhook } from '@roomlink/shared';
import { signature } from '../../apps/server/src/alerts/alerts';

type Api = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/**
 * A webhook receiver for the demo: checks each delivery's signature with the
 * secret the server gave when the webhook was added, and prints what came.
 */
export async function startDemoReceiver(port: number, secretFile: string, print: (line: string) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const secret = existsSync(secretFile) ? readFileSync(secretFile, 'utf8').trim() : '';
      const expected = signature(secret, String(request.headers['x-roomlink-timestamp']), body);
      const given = String(request.headers['x-roomlink-signature'] ?? '');
      const signed = given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
      try {
        const payload = JSON.parse(body) as { event: string; incident: { roomName: string; cause: string; severity: string } };
        print(`[webhook] ${payload.event}: ${payload.incident.severity} ${payload.incident.cause} in ${payload.incident.roomName} (signature ${signed ? 'verified' : 'WRONG'})`);
      } catch {
        print('[webhook] a delivery that is not JSON');
      }
      response.writeHead(signed ? 200 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/roomlink`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * The demo tenant's alerting, made once through the API as an
 * administrator would: incidents open after one minute of error (the
 * product's default is two), and every incident goes by mail to the IT team
 * and to the local receiver. The webhook's secret is kept for the receiver.
 */
export async function seedDemoAlerts(api: Api, receiverUrl: string, secretFile: string): Promise<void> {
  const webhooks = await api<Webhook[]>('GET', '/api/alerts/webhooks');
  if (webhooks.some((w) => w.url === receiverUrl) && existsSync(secretFile)) return;
  const rules = await api<{ signalErrorMinutes: number }>('GET', '/api/settings/incident-rules');
  await api('PUT', '/api/settings/incident-rules', { ...rules, signalErrorMinutes: 1 });
  const created = await api<{ webhook: Webhook; secret: string }>('POST', '/api/alerts/webhooks', { name: 'Demo receiver', url: receiverUrl, format: 'json' });
  writeFileSync(secretFile, created.secret, { mode: 0o600 });
  const existing = await api<AlertRule[]>('GET', '/api/alerts/rules');
  if (!existing.some((r) => r.name === 'Every incident to IT')) {
    await api('POST', '/api/alerts/rules', { name: 'Every incident to IT', emails: ['it-team@contoso.test'], webhookIds: [created.webhook.id] });
  }
}
