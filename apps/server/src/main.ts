#!/usr/bin/env -S node --import tsx
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { SmtpConfig } from './alerts/senders';
import { DEFAULT_SERVER_PORT, defaultTimings, startServer } from './server';
import { DEFAULT_TURN_TTL_SECONDS, type IceConfig } from './sessions/ice';

const usage = `roomlink-server: the Roomlink management service

Options (environment variable in brackets):
  --data-dir DIR      database and keys [ROOMLINK_DATA_DIR] (default ./.roomlink/server)
  --database-url URL  keep the data in PostgreSQL (postgres://user@host:port/db) instead of SQLite in the
                      data directory: what several nodes share [ROOMLINK_DATABASE_URL]
  --redis-url URL     join a cluster: nodes on one PostgreSQL share presence and messages through this Redis
                      (redis://host:port) [ROOMLINK_REDIS_URL]; any node then serves any agent, console or call
  --tenants LIST      tenant ids (Entra tid) this server serves, comma-separated [ROOMLINK_TENANTS]
                      (default the local dev provider's: contoso,fabrikam); tokens of any other are refused
  --host HOST         listen address [ROOMLINK_HOST] (default 127.0.0.1)
  --port PORT         listen port [ROOMLINK_PORT] (default ${DEFAULT_SERVER_PORT})
  --issuer URL        OIDC issuer [ROOMLINK_ISSUER] (default the local dev provider, https://127.0.0.1:47801)
  --audience AUD      access-token audience [ROOMLINK_AUDIENCE] (default api://roomlink)
  --jwks-uri URL      JWKS location [ROOMLINK_JWKS_URI] (default ISSUER/jwks)
  --ca-file FILE      extra CA for the issuer [ROOMLINK_CA_FILE] (default ./.roomlink/idp/ca.pem when present)
  --token-typ LIST    accepted access-token typ values [ROOMLINK_TOKEN_TYP] (default at+jwt,JWT)
  --groups-claim NAME claim with group ids [ROOMLINK_GROUPS_CLAIM] (default groups)
  --log-level LEVEL   pino level [ROOMLINK_LOG_LEVEL] (default info)
  --session-rate B/S  session starts per user: burst/per-second [ROOMLINK_SESSION_RATE] (default 10/1)
  --agent-limits N/B/S  agent sockets per client address: open at once / connect burst / connects per second
                      [ROOMLINK_AGENT_LIMITS] (default 10000/200/20; a site's rooms may share one NAT address)
  --checkpoint-dir DIR  where the signed audit checkpoints are appended [ROOMLINK_CHECKPOINT_DIR]
                      (default DATA_DIR/audit-checkpoints; best on storage the database's owner cannot rewrite)
  --smtp URL          where alert mail goes: smtp://[user:pass@]host:port or smtps://… [ROOMLINK_SMTP]
  --smtp-from ADDRESS the alerts' sender (default roomlink@localhost) [ROOMLINK_SMTP_FROM]
  --stun URLS         STUN servers for sessions, comma-separated stun:host:port [ROOMLINK_STUN]
  --turn URLS         TURN servers (coturn), comma-separated turn:host:port?transport=udp … [ROOMLINK_TURN]
  --turn-secret-file FILE  the secret coturn shares (static-auth-secret) [ROOMLINK_TURN_SECRET_FILE];
                      each session gets its own credentials, valid --turn-ttl seconds
  --turn-ttl SECONDS  lifetime of a session's TURN credentials [ROOMLINK_TURN_TTL] (default ${DEFAULT_TURN_TTL_SECONDS})
  --relay-only        media only through TURN, never a direct path [ROOMLINK_RELAY_ONLY=1]
  --trusted-proxies LIST  load balancers in front, comma-separated addresses or CIDRs [ROOMLINK_TRUSTED_PROXIES]:
                      from them the client's address comes from X-Forwarded-For (caps, audit); from others never
`;

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'database-url': { type: 'string' },
    'redis-url': { type: 'string' },
    tenants: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    issuer: { type: 'string' },
    audience: { type: 'string' },
    'jwks-uri': { type: 'string' },
    'ca-file': { type: 'string' },
    'token-typ': { type: 'string' },
    'groups-claim': { type: 'string' },
    'log-level': { type: 'string' },
    'session-rate': { type: 'string' },
    'checkpoint-dir': { type: 'string' },
    'agent-limits': { type: 'string' },
    smtp: { type: 'string' },
    'smtp-from': { type: 'string' },
    stun: { type: 'string' },
    turn: { type: 'string' },
    'turn-secret-file': { type: 'string' },
    'turn-ttl': { type: 'string' },
    'relay-only': { type: 'boolean' },
    'trusted-proxies': { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const env = process.env;
const [burst, perSecond] = (values['session-rate'] ?? env.ROOMLINK_SESSION_RATE ?? '10/1').split('/').map(Number);
if (!(burst! > 0 && perSecond! > 0)) throw new Error('--session-rate takes BURST/PER_SECOND, e.g. 10/1');
const [agentSockets, agentBurst, agentRate] = (values['agent-limits'] ?? env.ROOMLINK_AGENT_LIMITS ?? '10000/200/20').split('/').map(Number);
if (!(agentSockets! > 0 && agentBurst! > 0 && agentRate! > 0)) throw new Error('--agent-limits takes SOCKETS/BURST/PER_SECOND, e.g. 10000/200/20');
const checkpointDir = values['checkpoint-dir'] ?? env.ROOMLINK_CHECKPOINT_DIR;
const caFile = values['ca-file'] ?? env.ROOMLINK_CA_FILE ?? (existsSync('.roomlink/idp/ca.pem') ? '.roomlink/idp/ca.pem' : undefined);
const smtpUrl = values.smtp ?? env.ROOMLINK_SMTP;
const list = (text: string | undefined) => (text ?? '').split(',').map((x) => x.trim()).filter(Boolean);
const turnUrls = list(values.turn ?? env.ROOMLINK_TURN);
const turnSecretFile = values['turn-secret-file'] ?? env.ROOMLINK_TURN_SECRET_FILE;
if (turnUrls.length > 0 && !turnSecretFile) throw new Error('--turn needs --turn-secret-file: the secret coturn shares');
const ice: IceConfig = {
  stunUrls: list(values.stun ?? env.ROOMLINK_STUN),
  turn: turnUrls.length > 0 ? { urls: turnUrls, secret: readFileSync(turnSecretFile!, 'utf8').trim(), ttlSeconds: Number(values['turn-ttl'] ?? env.ROOMLINK_TURN_TTL ?? DEFAULT_TURN_TTL_SECONDS) } : null,
  relayOnly: values['relay-only'] ?? env.ROOMLINK_RELAY_ONLY === '1',
};
const smtp = smtpUrl ? smtpConfig(smtpUrl, values['smtp-from'] ?? env.ROOMLINK_SMTP_FROM ?? 'roomlink@localhost') : null;
const databaseUrl = values['database-url'] ?? env.ROOMLINK_DATABASE_URL;
const redisUrl = values['redis-url'] ?? env.ROOMLINK_REDIS_URL;
if (redisUrl && !databaseUrl) throw new Error('--redis-url needs --database-url: the nodes of a cluster share one PostgreSQL');
const server = await startServer({
  dataDir: resolve(values['data-dir'] ?? env.ROOMLINK_DATA_DIR ?? '.roomlink/server'),
  ...(databaseUrl && { store: { engine: 'postgres' as const, url: databaseUrl } }),
  ...(redisUrl && { redisUrl }),
  tenants: (values.tenants ?? env.ROOMLINK_TENANTS ?? 'contoso,fabrikam').split(',').map((t) => t.trim()).filter(Boolean),
  host: values.host ?? env.ROOMLINK_HOST ?? '127.0.0.1',
  port: Number(values.port ?? env.ROOMLINK_PORT ?? DEFAULT_SERVER_PORT),
  auth: {
    issuer: values.issuer ?? env.ROOMLINK_ISSUER ?? 'https://127.0.0.1:47801',
    audience: values.audience ?? env.ROOMLINK_AUDIENCE ?? 'api://roomlink',
    jwksUri: values['jwks-uri'] ?? env.ROOMLINK_JWKS_URI,
    acceptedTypes: (values['token-typ'] ?? env.ROOMLINK_TOKEN_TYP ?? 'at+jwt,JWT').split(','),
    groupsClaim: values['groups-claim'] ?? env.ROOMLINK_GROUPS_CLAIM ?? 'groups',
    caPem: caFile ? readFileSync(caFile, 'utf8') : undefined,
  },
  ice,
  trustedProxies: list(values['trusted-proxies'] ?? env.ROOMLINK_TRUSTED_PROXIES),
  ...defaultTimings,
  sessionStartRate: { burst: burst!, perSecond: perSecond! },
  ...(checkpointDir && { auditCheckpointDir: resolve(checkpointDir) }),
  agentLimits: { socketsPerAddress: agentSockets!, connectsPerAddress: { burst: agentBurst!, perSecond: agentRate! } },
  smtp,
  logLevel: values['log-level'] ?? env.ROOMLINK_LOG_LEVEL ?? 'info',
  now: () => new Date(),
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}

/** `smtp://[user:pass@]host:port` (STARTTLS when offered) or `smtps://…` (TLS from the start). */
function smtpConfig(text: string, from: string): SmtpConfig {
  const url = new URL(text);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new Error('--smtp takes smtp://host:port or smtps://host:port');
  return {
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 25)),
    secure: url.protocol === 'smtps:',
    from,
    ...(url.username && { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }),
  };
}
