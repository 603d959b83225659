import {
  ConsoleToAgent,
  decodeMessage,
  encodeMessage,
  errorMessages,
  type AgentToConsole,
  type AgentToServer,
  type EndReason,
  type ErrorCode,
  type SessionId,
  type SessionLevel,
  type SignalData,
  type Unversioned,
} from '@roomlink/shared';
import type { NamedDisplay } from './displays';
import { InputController } from './input';
import type { Logger } from './log';
import { MediaLink, type MediaOptions, type SenderStats } from './media';
import { PicturePump, type PumpOptions, type PumpStats } from './picture/picture-pump';
import type { Platform } from './platform';

export type AgentSessionState = 'connecting' | 'active' | 'ending' | 'ended';

export interface SessionSetup {
  sessionId: SessionId;
  level: SessionLevel;
  /** The grant allows pointer control (the tenant's setting when the session began). */
  pointer: boolean;
  userId: string;
  media: MediaOptions;
  pump: PumpOptions;
}

export interface SessionContext {
  platform: Platform;
  displays: NamedDisplay[];
  send(message: Unversioned<AgentToServer>): boolean;
  inCall(): boolean;
  log: Logger;
  /** Called once the session has fully ended; restarts the device when the summary says so. */
  ended(session: AgentSession): void;
}

export interface SessionSummary {
  reason: EndReason;
  active: boolean;
  restarting: boolean;
  invalidMessages: number;
  /** The video encoder's and pacer's share of each frame's time; null when the media never came up. */
  sender: SenderStats | null;
  /** What the picture pumps captured and sent, tiles and video. */
  picture: PictureTotals;
}

export type PictureTotals = Omit<PumpStats, 'latenciesMs' | 'firstFrameAt'> & { latencyP50Ms: number; latencyP95Ms: number };

/** How long the end path waits for the console to receive the reason before closing the media anyway. */
const ENDING_FLUSH_MS = 200;
/** Ends after which restarting the device would hurt the room: a meeting has just started in it. */
const noRestartAfter: ReadonlySet<EndReason> = new Set(['call_started', 'grant_rejected']);

/**
 * One session on the room PC, from an accepted grant to the lowered ring.
 * The ring is raised before anything is captured and lowered only after the
 * media connection is closed, on every path through `end` (rule 8); input is
 * gated by level (rule 7); restart after session is on unless this session
 * turned it off (rule 11).
 */
export class AgentSession {
  state: AgentSessionState = 'connecting';
  restartAfterSession = true;
  summary: SessionSummary | null = null;
  readonly input: InputController;
  private media: MediaLink | null = null;
  private pump: PicturePump | null = null;
  /** Counts display switches: the console ignores pictures of a display it has left. */
  private epoch = 0;
  private selected: NamedDisplay;
  private invalidMessages = 0;
  private toldViewOnly = false;
  private endedPromise: Promise<void> | null = null;
  private readonly startedAt = Date.now();
  /** The grant's level, lowered to view if the technician's access drops mid-session; never raised. */
  private level: SessionLevel;
  private firstFrameMs: number | null = null;
  private connectedAt: number | null = null;

  constructor(
    readonly setup: SessionSetup,
    private readonly context: SessionContext,
  ) {
    this.level = setup.level;
    this.input = new InputController(setup.level, context.platform.keyboard, setup.pointer ? context.platform.pointer : null);
    const first = context.displays[0];
    if (!first) throw new Error('no display to show');
    this.selected = first;
  }

  get id(): SessionId {
    return this.setup.sessionId;
  }

  get selectedDisplay(): NamedDisplay {
    return this.selected;
  }

  /** Raises the ring, accepts, and opens the media link. */
  async start(): Promise<void> {
    await this.context.platform.overlay.show(this.context.displays.map((d) => d.monitor));
    if (this.state !== 'connecting') {
      // Ended while the ring was going up: the end path may have run before the ring existed.
      await this.context.platform.overlay.hide();
      return;
    }
    this.context.send({ type: 'session.accept', sessionId: this.id });
    this.media = new MediaLink(this.setup.media, {
      signal: (data) => {
        this.context.send({ type: 'session.signal', sessionId: this.id, data });
        // Captured and encoded once the offer has left, while the console answers and ICE and DTLS come up: started
        // before it, a whole screen's capture and encode held the offer back 100-200 ms on two cores.
        if (!this.pump) this.startPump();
      },
      connect: () => this.connected(),
      data: (text) => this.receive(text),
      closed: (error) => {
        if (error) this.context.log.warn({ sessionId: this.id, err: error.message }, 'media connection failed');
        void this.end(error ? 'error' : 'user_ended');
      },
      audioRefused: () => {
        this.context.log.warn({ sessionId: this.id }, 'refused an SDP that asks for audio');
        void this.end('error');
      },
      sendFailed: (error) => this.context.log.debug({ sessionId: this.id, err: error.message }, 'channel message not sent'),
      pictureOpen: () => this.pump?.opened(),
    });
  }

  signal(data: SignalData): void {
    this.media?.signal(data);
  }

  /**
   * Every end path comes here: stop capturing, let go of held keys, close
   * the media, and only then lower the ring and report.
   */
  end(reason: EndReason): Promise<void> {
    this.endedPromise ??= this.finish(reason);
    return this.endedPromise;
  }

  private async finish(reason: EndReason): Promise<void> {
    const wasActive = this.state === 'active';
    this.state = 'ending';
    this.pump?.stop();
    this.recordFrames();
    this.input.releaseAll();
    const sender = await this.media?.senderStats();
    const restarting = reason === 'device_restart' || (wasActive && this.restartAfterSession && !noRestartAfter.has(reason) && !this.context.inCall());
    // The console hears why (and whether the room restarts) before the media goes; the ring stays up until it has gone (rule 8).
    await this.media?.closeWith(encodeMessage({ type: 'session.ending', reason, restarting } satisfies Unversioned<AgentToConsole>), ENDING_FLUSH_MS);
    try {
      await this.context.platform.overlay.hide();
    } catch (error) {
      this.context.log.error({ err: (error as Error).message }, 'lowering the ring failed');
    }
    this.summary = { reason, active: wasActive, restarting, invalidMessages: this.invalidMessages, sender: sender ?? null, picture: this.frames };
    this.state = 'ended';
    this.context.send({ type: 'session.end', sessionId: this.id, reason, input: this.input.input, restarting, endedAt: new Date().toISOString() });
    this.context.log.info({ sessionId: this.id, reason, input: this.input.input, invalidMessages: this.invalidMessages, restarting, frames: this.frames, sender, firstFrameMs: this.firstFrameMs }, 'session ended');
    this.context.ended(this);
  }

  private connected(): void {
    if (this.state !== 'connecting' || !this.media) return;
    this.state = 'active';
    this.connectedAt = Date.now();
    this.context.send({ type: 'session.active', sessionId: this.id });
    this.sendInfo();
  }

  private startPump(): void {
    this.pump?.stop();
    this.recordFrames();
    if (!this.media) return;
    this.pump = new PicturePump(this.context.platform.capture, this.selected.monitor, this.media, ++this.epoch, this.setup.pump, (error) =>
      this.context.log.warn({ err: error.message }, 'capture failed'),
    );
    this.pump.start();
    if (this.media.open) this.pump.opened();
  }

  /** Picture counts of every pump this session ran, for the end-of-session log. */
  private readonly frames: PictureTotals = { captured: 0, frames: 0, tiles: 0, tileBytes: 0, lossyTiles: 0, refinedTiles: 0, cachedTiles: 0, videoFrames: 0, heldBack: 0, latencyP50Ms: 0, latencyP95Ms: 0 };
  private readonly latencies: number[] = [];

  private recordFrames(): void {
    const stats = this.pump?.stats;
    if (!stats) return;
    if (stats.firstFrameAt !== null && this.connectedAt !== null) this.firstFrameMs ??= Math.max(stats.firstFrameAt, this.connectedAt) - this.startedAt;
    for (const key of ['captured', 'frames', 'tiles', 'tileBytes', 'lossyTiles', 'refinedTiles', 'cachedTiles', 'videoFrames', 'heldBack'] as const) this.frames[key] += stats[key];
    this.latencies.push(...stats.latenciesMs);
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) * 100) / 100;
    this.frames.latencyP50Ms = at(0.5);
    this.frames.latencyP95Ms = at(0.95);
    this.pump = null;
  }

  private sendInfo(): void {
    this.reply({
      type: 'session.info',
      level: this.level,
      displays: this.context.displays.map((d) => d.info),
      selectedDisplay: this.selected.info.id,
      restartAfterSession: this.restartAfterSession,
      pointer: this.input.pointerAllowed,
    });
  }

  private reply(message: Unversioned<AgentToConsole>): void {
    this.media?.send(encodeMessage(message));
  }

  private error(code: ErrorCode): void {
    this.reply({ type: 'error', code, message: errorMessages[code] });
  }

  private receive(text: string): void {
    if (this.state !== 'active') return;
    const parsed = decodeMessage(ConsoleToAgent, text);
    if (!parsed.ok) {
      this.invalidMessages += 1;
      // Rule 7 counts what a view session sent and did not get, malformed messages too: they go in the audited dropped count.
      this.input.drop();
      return this.error(parsed.error.code);
    }
    const message = parsed.value;
    switch (message.type) {
      case 'input.key':
        if (this.input.key(message)) this.pump?.input();
        else this.refusedInput();
        return;
      case 'control.shortcut':
        if (this.input.shortcut(message.command)) this.pump?.input();
        else this.refusedInput();
        return;
      case 'input.pointer':
        if (this.input.pointer(message, this.selected.monitor)) this.pump?.input();
        else this.refusedInput();
        return;
      case 'control.selectDisplay':
        return this.select(message.displayId);
      case 'control.restartAfterSession':
        this.restartAfterSession = message.enabled;
        return this.sendInfo();
      case 'control.restartDevice':
        void this.end('device_restart');
        return;
      case 'control.requestKeyframe':
        this.pump?.refresh();
        return;
      case 'control.end':
        void this.end('user_ended');
        return;
      case 'ping':
        return this.reply({ type: 'pong', t: message.t });
    }
  }

  /** A view session's input: dropped and counted; the console is told once, not per key. */
  private refusedInput(): void {
    if (this.level !== 'view' || this.toldViewOnly) return;
    this.toldViewOnly = true;
    this.error('input_not_permitted');
  }

  /**
   * The server says the technician's access dropped (rule 14): to view, keys
   * stop at once; without pointer control, the pointer does. Whatever was
   * held is let go and the console hears what it may do now. Never raises.
   */
  lower(to: { level: SessionLevel; pointer: boolean }): void {
    if (this.state === 'ending' || this.state === 'ended') return;
    const toView = to.level === 'view' && this.level === 'modify';
    const stopPointer = !to.pointer && this.input.pointerAllowed;
    if (!toView && !stopPointer) return;
    if (toView) {
      this.level = 'view';
      this.input.lowerToView();
    }
    if (stopPointer) this.input.stopPointer();
    this.context.log.info({ sessionId: this.id, level: this.level, pointer: this.input.pointerAllowed }, 'session lowered');
    if (this.state === 'active') this.sendInfo();
  }

  private select(displayId: string): void {
    const display = this.context.displays.find((d) => d.info.id === displayId);
    if (!display || !this.media) return this.error('display_not_found');
    if (display === this.selected) return this.sendInfo();
    this.selected = display;
    this.startPump();
    this.sendInfo();
  }
}
