import type { LogBundle, Room } from '@roomlink/shared';
import { useCallback, useEffect, useState } from 'react';
import type { ConsoleFailure } from '../../api/console-api';
import { failureOf } from '../errors';
import { usePlatform } from '../store/store';
import { saveFile } from './save-file';
import { Ago, ErrorNote } from './ui';

const kib = (bytes: number) => (bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`);

/**
 * Collect logs from the room outside a session: ask, watch the request
 * until the room has sent them (or failed to), download. Bundles are kept
 * 30 days on the server.
 */
export function RoomLogs({ room }: { room: Room }) {
  const { api } = usePlatform();
  const [bundles, setBundles] = useState<LogBundle[]>([]);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  const load = useCallback(() => api.logBundles(room.id).then(setBundles, (e: unknown) => setError(failureOf(e))), [api, room.id]);
  useEffect(() => void load(), [load]);
  const waiting = bundles.some((b) => b.status === 'requested');
  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(() => void load(), 1000);
    return () => clearInterval(timer);
  }, [waiting, load]);

  const collect = async () => {
    setError(null);
    try {
      const bundle = await api.collectLogs(room.id);
      setBundles((all) => [bundle, ...all]);
    } catch (e) {
      setError(failureOf(e));
    }
  };
  const download = async (bundle: LogBundle) => {
    try {
      const { filename, base64 } = await api.downloadLogs(room.id, bundle.id);
      saveFile(filename, Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)), 'application/gzip');
    } catch (e) {
      setError(failureOf(e));
    }
  };

  return (
    <section className="room-logs" aria-label="Logs">
      <button type="button" onClick={() => void collect()} disabled={!room.online || waiting}>
        Collect logs
      </button>
      <ErrorNote error={error} />
      {bundles.length > 0 && (
        <ul className="bundles">
          {bundles.slice(0, 5).map((b) => (
            <li key={b.id} data-status={b.status}>
              <span>
                Asked by {b.requestedBy} <Ago at={b.requestedAt} />:{' '}
              </span>
              {b.status === 'requested' && <span role="status">waiting for the room to send them…</span>}
              {b.status === 'failed' && <span className="problem">{b.problem}</span>}
              {b.status === 'ready' && (
                <button type="button" className="link" onClick={() => void download(b)}>
                  Download ({kib(b.size ?? 0)})
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
