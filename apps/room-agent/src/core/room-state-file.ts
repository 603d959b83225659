import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { z } from 'zod';
import { HealthSignals, SignalStatus } from '@roomlink/shared';
import type { RoomState, RoomStatus } from './platform';

/**
 * The room app's state as a small JSON file, e.g.
 * `{"inCall": true, "signals": {"camera": "error"}}`. Missing signals are ok;
 * a missing file means an idle, healthy room. This is how the x11 and
 * synthetic platforms learn about calls, and how tests and the demo drive them.
 */
const RoomStateFile = z.strictObject({
  inCall: z.boolean().default(false),
  signals: z.strictObject(Object.fromEntries(HealthSignals.keyof().options.map((s) => [s, SignalStatus.optional()]))).default({}),
});

const healthy: HealthSignals = { app: 'ok', audio: 'ok', camera: 'ok', display: 'ok', network: 'ok', signIn: 'ok' };

export class FileRoomState implements RoomState {
  private status: RoomStatus;
  private readonly listeners = new Set<(status: RoomStatus) => void>();
  private readonly watcher: FSWatcher;
  private readonly poll: NodeJS.Timeout;

  constructor(
    private readonly file: string,
    private readonly onInvalid: (why: string) => void = () => undefined,
  ) {
    this.status = this.read() ?? { inCall: false, signals: healthy };
    // Watching the folder sees a file replaced by rename, which is how careful writers update it.
    this.watcher = watch(dirname(file), (_event, name) => {
      if (name === null || name === basename(file)) this.refresh();
    });
    // inotify can miss changes on some file systems; a slow poll is the safety net.
    this.poll = setInterval(() => this.refresh(), 5000);
    this.poll.unref();
  }

  current(): RoomStatus {
    return this.status;
  }

  onChange(listener: (status: RoomStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.watcher.close();
    clearInterval(this.poll);
  }

  private read(): RoomStatus | null {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return { inCall: false, signals: healthy };
    }
    try {
      const parsed = RoomStateFile.parse(JSON.parse(text));
      return { inCall: parsed.inCall, signals: { ...healthy, ...parsed.signals } as HealthSignals };
    } catch (error) {
      // A half-written or wrong file keeps the last good state rather than inventing one.
      this.onInvalid(error instanceof Error ? error.message : String(error));
      return null;
    }
  }

  private refresh(): void {
    const next = this.read();
    if (!next || JSON.stringify(next) === JSON.stringify(this.status)) return;
    this.status = next;
    for (const listener of this.listeners) listener(next);
  }
}
