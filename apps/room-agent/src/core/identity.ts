import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { EnrollRequest} from '@roomlink/shared';
import { EnrollResponse, isErrorCode, type Platform, type RoomId, type TenantId } from '@roomlink/shared';

/** Setup problems the CLI reports as one clear sentence, by code. */
export class AgentSetupError extends Error {
  constructor(
    readonly code: 'usage' | 'not_enrolled' | 'corrupt_data_dir' | 'server_unreachable' | 'enrollment_refused' | 'bad_server_answer',
    message: string,
  ) {
    super(message);
  }
}

const IdentityFile = z.strictObject({
  version: z.literal(1),
  serverUrl: z.url(),
  roomId: z.string().min(1),
  tenantId: z.string().min(1),
  roomName: z.string(),
  /** The device key, PKCS#8 PEM. Never leaves this file. */
  deviceKey: z.string().min(1),
  /** The server's grant-signing key, raw Ed25519, pinned at enrollment. */
  grantPublicKey: z.string().min(1),
});

export interface AgentIdentity {
  serverUrl: string;
  roomId: RoomId;
  tenantId: TenantId;
  roomName: string;
  deviceKey: KeyObject;
  grantPublicKey: string;
}

export const identityPath = (dataDir: string) => join(dataDir, 'identity.json');

/** Creates the data directory readable by this account only. */
export function ensureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
}

export function loadIdentity(dataDir: string): AgentIdentity {
  const file = identityPath(dataDir);
  if (!existsSync(file)) throw new AgentSetupError('not_enrolled', `This device is not enrolled (no ${file}). Run "roomlink-agent enroll --server URL --code CODE" first.`);
  let parsed: z.infer<typeof IdentityFile>;
  let deviceKey: KeyObject;
  try {
    parsed = IdentityFile.parse(JSON.parse(readFileSync(file, 'utf8')));
    deviceKey = createPrivateKey(parsed.deviceKey);
  } catch {
    throw new AgentSetupError('corrupt_data_dir', `The agent's data in ${file} is damaged. Enroll the device again with a new code.`);
  }
  return { ...parsed, roomId: parsed.roomId as RoomId, tenantId: parsed.tenantId as TenantId, deviceKey };
}

export interface EnrollOptions {
  serverUrl: string;
  code: string;
  dataDir: string;
  platform: Platform;
  agentVersion: string;
  fetch?: typeof fetch;
}

/**
 * Trades a one-time enrollment code for the room's identity: a new device key
 * pair is made here, its public half goes to the server, and the server's
 * grant key comes back to be pinned. Nothing is written unless it all worked.
 */
export async function enroll(options: EnrollOptions): Promise<AgentIdentity> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const rawPublic = publicKey.export({ format: 'jwk' }).x!;
  const body: EnrollRequest = { code: options.code, publicKey: rawPublic, platform: options.platform, agentVersion: options.agentVersion };
  const url = new URL('/api/agent/enroll', options.serverUrl);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
  } catch (error) {
    throw new AgentSetupError('server_unreachable', `Cannot reach the Roomlink server at ${options.serverUrl}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
  }
  const answer: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const code = (answer as { error?: { code?: unknown } } | null)?.error?.code;
    const message = (answer as { error?: { message?: unknown } } | null)?.error?.message;
    throw new AgentSetupError('enrollment_refused', `The server refused the enrollment${isErrorCode(code) ? ` (${code})` : ''}: ${typeof message === 'string' ? message : `HTTP ${response.status}`}`);
  }
  const parsed = EnrollResponse.safeParse(answer);
  if (!parsed.success) throw new AgentSetupError('bad_server_answer', `${options.serverUrl} answered the enrollment with something that is not a Roomlink enrollment.`);
  const file: z.infer<typeof IdentityFile> = {
    version: 1,
    serverUrl: options.serverUrl,
    roomId: parsed.data.roomId,
    tenantId: parsed.data.tenantId,
    roomName: parsed.data.roomName,
    deviceKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    grantPublicKey: parsed.data.grantPublicKey,
  };
  ensureDataDir(options.dataDir);
  const path = identityPath(options.dataDir);
  writeFileSync(`${path}.tmp`, JSON.stringify(file, null, 2), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return loadIdentity(options.dataDir);
}
