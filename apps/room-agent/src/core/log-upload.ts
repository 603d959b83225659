import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { LOG_BUNDLE_MAX_BYTES } from '@roomlink/shared';

const gzipped = promisify(gzip);

/**
 * One bundle from the platform's file and what the agent knows of itself,
 * gzip-compressed, sent to the server with the one-time token of the
 * request. Oldest log lines are dropped until it fits the server's cap.
 */
export async function uploadLogBundle(options: { serverUrl: string; bundleId: string; token: string; platformFile: string; agent: Record<string, unknown>; recentLog: string[] }): Promise<{ size: number }> {
  const platform = JSON.parse(readFileSync(options.platformFile, 'utf8')) as Record<string, unknown>;
  let lines = options.recentLog;
  let body = await gzipped(JSON.stringify({ ...platform, agent: options.agent, recentLog: lines }, null, 2));
  while (body.length > LOG_BUNDLE_MAX_BYTES && lines.length > 0) {
    lines = lines.slice(Math.ceil(lines.length / 2));
    body = await gzipped(JSON.stringify({ ...platform, agent: options.agent, recentLog: lines, recentLogTrimmed: true }, null, 2));
  }
  const response = await fetch(new URL(`/api/agent/logs/${encodeURIComponent(options.bundleId)}`, options.serverUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/gzip' },
    body,
  });
  if (!response.ok) throw new Error(`the server refused the log bundle: ${response.status} ${await response.text()}`);
  return { size: body.length };
}
