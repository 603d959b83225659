import { createHmac } from 'node:crypto';
import type { IceServer, IceTransportPolicy } from '@roomlink/shared';

/**
 * Where a session's media may go besides a direct path: STUN servers as
 * configured, and TURN (coturn) with credentials the server mints per
 * session. With none, peers use their host candidates (a LAN, loopback).
 */
export interface IceConfig {
  stunUrls: string[];
  turn: TurnConfig | null;
  /** Media only through TURN: for networks where rooms and technicians must not reach each other directly. */
  relayOnly: boolean;
}

export interface TurnConfig {
  /** `turn:host:port?transport=udp`, `turns:host:5349?transport=tcp`, … */
  urls: string[];
  /** The secret coturn shares (`static-auth-secret` with `use-auth-secret`). */
  secret: string;
  /** How long a session's credentials allow new allocations and refreshes: longer than any session should last. */
  ttlSeconds: number;
}

/** A working day: an allocation lives by refreshes, and a refresh with expired credentials ends the relay mid-session. */
export const DEFAULT_TURN_TTL_SECONDS = 8 * 3600;

export const noIce: IceConfig = { stunUrls: [], turn: null, relayOnly: false };

/** What both ends of one session are given: the servers and whether only relayed paths may be used. */
export interface IcePlan {
  iceServers: IceServer[];
  iceTransportPolicy: IceTransportPolicy;
}

/**
 * TURN credentials in the shared-secret scheme of the TURN REST API, as
 * coturn checks them: the username is the expiry (Unix seconds) and the
 * session id, the password the base64 HMAC-SHA1 of the username under the
 * shared secret. Nothing is stored: coturn recomputes the password and
 * refuses a username whose time has passed.
 */
export function turnCredentials(secret: string, sessionId: string, expiresAt: number): { username: string; credential: string } {
  const username = `${expiresAt}:${sessionId}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

export function icePlan(config: IceConfig, sessionId: string, now: Date): IcePlan {
  const iceServers: IceServer[] = [];
  if (config.stunUrls.length > 0) iceServers.push({ urls: config.stunUrls });
  if (config.turn) {
    const expiresAt = Math.floor(now.getTime() / 1000) + config.turn.ttlSeconds;
    iceServers.push({ urls: config.turn.urls, ...turnCredentials(config.turn.secret, sessionId, expiresAt) });
  }
  return { iceServers, iceTransportPolicy: config.relayOnly ? 'relay' : 'all' };
}

/** Refuses a configuration that cannot work, at startup rather than at the first session. */
export function checkIceConfig(config: IceConfig): void {
  if (config.relayOnly && !config.turn) throw new Error('Relay-only media needs a TURN server (--turn and --turn-secret-file).');
  for (const url of config.stunUrls) if (!/^stuns?:/.test(url)) throw new Error(`Not a STUN URL: ${url}`);
  for (const url of config.turn?.urls ?? []) if (!/^turns?:/.test(url)) throw new Error(`Not a TURN URL: ${url}`);
  if (config.turn && config.turn.secret.length < 16) throw new Error('The TURN secret is too short (16 characters at least).');
  if (config.turn && !(config.turn.ttlSeconds >= 60)) throw new Error('The TURN credential lifetime is at least 60 seconds.');
}
