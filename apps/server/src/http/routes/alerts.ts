import { AlertRule, AlertRuleInput, CaughtMail, Delivery, Webhook, WebhookCreated, WebhookInput, Ok } from '@roomlink/shared';
import { z } from 'zod';
import { AlertError, type Alerts } from '../../alerts/alerts';
import type { MailCatcher } from '../../alerts/mail-catcher';
import type { Caller } from '../../auth/tokens';
import { ApiFailure } from '../../errors';
import { route } from '../route';
import { requirePermission, type Services } from '../services';

const IdParams = z.strictObject({ id: z.string().min(1).max(64) });

/** Alert rules, webhooks and the delivery log: settings managers only. The development mail catcher when the server runs one. */
export function alertRoutes(services: Services & { alerts: Alerts }, mailCatcher: MailCatcher | null) {
  const { alerts } = services;
  const manager = async (caller: Caller) => {
    await requirePermission(services, caller, 'settings.manage');
    return { tenantId: caller.principal.tenantId, actor: { id: caller.principal.userId, name: caller.name } };
  };
  const clearly = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof AlertError) throw new ApiFailure('bad_request', [error.message]);
      throw error;
    }
  };

  return [
    route({ method: 'GET', url: '/api/alerts/rules', summary: 'Alert rules', response: z.array(AlertRule), handler: async ({ caller }) => alerts.rules((await manager(caller)).tenantId) }),
    route({
      method: 'POST',
      url: '/api/alerts/rules',
      summary: 'Create an alert rule: which incidents, at which moments, to which emails and webhooks',
      body: AlertRuleInput,
      response: AlertRule,
      status: 201,
      handler: async ({ caller, body }) => {
        const { tenantId, actor } = await manager(caller);
        return clearly(() => alerts.saveRule(tenantId, null, body, actor));
      },
    }),
    route({
      method: 'PUT',
      url: '/api/alerts/rules/:id',
      summary: 'Replace an alert rule',
      params: IdParams,
      body: AlertRuleInput,
      response: AlertRule,
      handler: async ({ caller, params, body }) => {
        const { tenantId, actor } = await manager(caller);
        return clearly(() => alerts.saveRule(tenantId, params.id, body, actor));
      },
    }),
    route({
      method: 'DELETE',
      url: '/api/alerts/rules/:id',
      summary: 'Delete an alert rule',
      params: IdParams,
      response: Ok,
      handler: async ({ caller, params }) => {
        const { tenantId, actor } = await manager(caller);
        await clearly(() => alerts.deleteRule(tenantId, params.id, actor));
        return { ok: true as const };
      },
    }),
    route({ method: 'GET', url: '/api/alerts/webhooks', summary: 'Webhooks, with whether each is disabled and why', response: z.array(Webhook), handler: async ({ caller }) => alerts.webhooks((await manager(caller)).tenantId) }),
    route({
      method: 'POST',
      url: '/api/alerts/webhooks',
      summary: 'Add a webhook (http or https, not this server); its signing secret is returned this once',
      body: WebhookInput,
      response: WebhookCreated,
      status: 201,
      handler: async ({ caller, body }) => {
        const { tenantId, actor } = await manager(caller);
        return clearly(() => alerts.addWebhook(tenantId, body as Required<typeof body>, actor));
      },
    }),
    route({
      method: 'DELETE',
      url: '/api/alerts/webhooks/:id',
      summary: 'Remove a webhook no rule uses',
      params: IdParams,
      response: Ok,
      handler: async ({ caller, params }) => {
        const { tenantId, actor } = await manager(caller);
        await clearly(() => alerts.deleteWebhook(tenantId, params.id, actor));
        return { ok: true as const };
      },
    }),
    route({ method: 'GET', url: '/api/alerts/deliveries', summary: 'The newest deliveries: pending, delivered or given up', response: z.array(Delivery), handler: async ({ caller }) => alerts.deliveries((await manager(caller)).tenantId) }),
    route({
      method: 'GET',
      url: '/api/alerts/deliveries/:id/attempts',
      summary: 'Every attempt of one delivery, with its status',
      params: IdParams,
      response: z.array(z.strictObject({ at: z.string(), status: z.string() })),
      handler: async ({ caller, params }) => clearly(async () => alerts.attempts((await manager(caller)).tenantId, params.id)),
    }),
    ...(mailCatcher
      ? [
          route({
            method: 'GET',
            url: '/api/dev/mail',
            summary: 'Mail the development catcher received (npm start only)',
            response: z.array(CaughtMail),
            handler: async ({ caller }) => {
              await manager(caller);
              return mailCatcher.mail();
            },
          }),
        ]
      : []),
  ];
}
