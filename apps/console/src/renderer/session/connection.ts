import Peer from 'simple-peer';
import {
  AgentToConsole,
  answerAsDtlsServer,
  decodeMessage,
  encodeMessage,
  endReasonMessages,
  errorMessages,
  PICTURE_CHANNEL_ID,
  PICTURE_CHANNEL_LABEL,
  type ConsoleToAgent,
  type EndReason,
  type SessionInfo,
  type SessionStarted,
  type SignalData,
  type Unversioned,
} from '@roomlink/shared';
import type { ConsoleApi, ConsoleEvents } from '../../api/console-api';
import type { ConsoleEventBus } from '../../api/rpc';

/** The receiver's picture-loss requests (PLI, FIR) for video so far, and the video packets it lost. */
export interface PictureLoss {
  requests: number;
  packetsLost: number;
}

export function pictureLoss(report: RTCStatsReport): PictureLoss {
  const loss = { requests: 0, packetsLost: 0 };
  report.forEach((stats: { type?: string; kind?: string; pliCount?: number; firCount?: number; packetsLost?: number }) => {
    if (stats.type !== 'inbound-rtp' || stats.kind !== 'video') return;
    loss.requests += (stats.pliCount ?? 0) + (stats.firCount ?? 0);
    loss.packetsLost += stats.packetsLost ?? 0;
  });
  return loss;
}

/**
 * Whether the room should send its picture again. The room encodes only when
 * its screen changes, so a request after real loss would otherwise wait for
 * the next change. Chromium also asks for a keyframe when a stream carries
 * packets but no frames — which a still screen's bandwidth probes look like —
 * and answering those would keep the room sending keyframes, and probing, for
 * a screen that does not move (measured: 3 requests in 10 s, 9.5 KB/s).
 */
export function pictureLost(before: PictureLoss, now: PictureLoss): boolean {
  return now.requests > before.requests && now.packetsLost > before.packetsLost;
}

const PICTURE_LOSS_CHECK_MS = 1000;

/** A hub event for one session, as kept while the start request was still in flight. */
export type SessionEvent = { signal: ConsoleEvents['session.signal'] } | { state: ConsoleEvents['session.state'] };

export type SessionPhase = 'requesting' | 'waiting' | 'connecting' | 'live' | 'ended';

export interface SessionCallbacks {
  phase(phase: SessionPhase): void;
  info(info: SessionInfo): void;
  stream(stream: MediaStream): void;
  /** The session is over; `why` is for the technician. */
  /** `restarting`: the room restarts now (restart after session, or a restart asked for). */
  ended(why: string, restarting: boolean): void;
  /** A command the room refused; the session goes on. */
  refused(message: string): void;
}

/** Whatever draws the picture channel's messages and the video track's moving region (a `PictureReceiver`). */
export interface PictureSink {
  receive(fragment: ArrayBuffer): void;
  showVideo(track: MediaStreamTrack): void;
}

/**
 * The console's end of one session: simple-peer answering the room's offer,
 * signaling through the host, the `roomlink` data channel for commands and
 * keys, the picture channel for tiles. Media goes straight between the two
 * peers.
 */
export class SessionConnection {
  private readonly peer: Peer.Instance;
  private readonly offs: (() => void)[] = [];
  private over = false;
  /** What the room last said about restart after session; null until it has said anything (the session never went live). */
  private restartAfterSession: boolean | null = null;
  private loss: PictureLoss = { requests: 0, packetsLost: 0 };
  private pictureSink: PictureSink | null = null;
  /** Picture messages that arrived before anything could draw them: the first picture, typically. */
  private early: ArrayBuffer[] = [];
  private videoTrack: MediaStreamTrack | null = null;

  constructor(
    private readonly api: ConsoleApi,
    events: ConsoleEventBus,
    readonly started: SessionStarted,
    private readonly on: SessionCallbacks,
    /** This session's events that arrived before the server's answer to the start request did. */
    backlog: readonly SessionEvent[] = [],
  ) {
    const { sessionId } = started;
    // The room starts the DTLS handshake: about 50 ms sooner to the first frame (see answerAsDtlsServer).
    this.peer = new Peer({ initiator: false, trickle: true, config: { iceServers: started.iceServers, iceTransportPolicy: started.iceTransportPolicy }, sdpTransform: answerAsDtlsServer });
    this.peer.on('signal', (data: SignalData) => void api.sendSignal(sessionId, data).catch((error: Error) => this.finish(error.message)));
    this.peer.on('stream', (stream: MediaStream) => {
      this.playWithoutBuffering();
      this.watchPictureLoss();
      this.videoTrack = stream.getVideoTracks()[0] ?? null;
      if (this.videoTrack) this.pictureSink?.showVideo(this.videoTrack);
      on.stream(stream);
    });
    this.peer.on('data', (raw: Uint8Array) => this.onData(new TextDecoder().decode(raw)));
    const picture = this.pc()!.createDataChannel(PICTURE_CHANNEL_LABEL, { negotiated: true, id: PICTURE_CHANNEL_ID });
    picture.binaryType = 'arraybuffer';
    picture.onmessage = (event: MessageEvent<ArrayBuffer>) => {
      if (this.pictureSink) this.pictureSink.receive(event.data);
      else this.early.push(event.data);
    };
    this.peer.on('error', (error: Error) => this.finish(`The connection to the room failed: ${error.message}`));
    this.peer.on('close', () => this.finish(endReasonMessages.agent_ended));
    this.offs.push(
      events.on('session.signal', (event) => {
        if (event.sessionId === sessionId) this.onSignal(event);
      }),
      events.on('session.state', (event) => {
        if (event.sessionId === sessionId) this.onState(event);
      }),
    );
    for (const event of backlog) {
      if ('signal' in event) this.onSignal(event.signal);
      else this.onState(event.state);
    }
  }

  /** Where picture messages and the video track go from now on, starting with those that came before. */
  drawPictureOn(sink: PictureSink): void {
    this.pictureSink = sink;
    if (this.videoTrack) sink.showVideo(this.videoTrack);
    for (const fragment of this.early) sink.receive(fragment);
    this.early = [];
  }

  send(message: Unversioned<ConsoleToAgent>): void {
    if (!this.over && this.peer.connected) this.peer.send(encodeMessage(message));
  }

  /** The technician ends it: tell the room over the channel and the server, then close. */
  end(): void {
    if (this.over) return;
    this.send({ type: 'control.end' });
    void this.api.endSession(this.started.sessionId).catch(() => undefined);
    // The room restarts after a live session unless the technician turned that off (rule 11); they should read it here.
    this.finish(...ended('user_ended', this.restartAfterSession === true));
  }

  /**
   * Screens are not conversations: a frame shown late is worse than a frame
   * dropped, so the receiver is asked to hold no extra jitter buffer
   * (Chromium's `jitterBufferTarget`, in ms).
   */
  private playWithoutBuffering(): void {
    for (const receiver of this.pc()?.getReceivers() ?? []) (receiver as RTCRtpReceiver & { jitterBufferTarget: number | null }).jitterBufferTarget = 0;
  }

  private watchPictureLoss(): void {
    const pc = this.pc();
    if (!pc) return;
    const timer = setInterval(() => {
      void pc.getStats().then((report) => {
        const loss = pictureLoss(report);
        if (pictureLost(this.loss, loss)) this.send({ type: 'control.requestKeyframe' });
        this.loss = loss;
      }, () => undefined);
    }, PICTURE_LOSS_CHECK_MS);
    this.offs.push(() => clearInterval(timer));
  }

  /** simple-peer keeps its RTCPeerConnection private; receivers and stats are only reachable through it. */
  private pc(): RTCPeerConnection | undefined {
    return (this.peer as unknown as { _pc?: RTCPeerConnection })._pc;
  }

  private onSignal(event: ConsoleEvents['session.signal']): void {
    if (!this.over) this.peer.signal(event.data as Peer.SignalData);
  }

  private onState(event: ConsoleEvents['session.state']): void {
    if (event.state === 'offered') this.on.phase('waiting');
    else if (event.state === 'connecting') this.on.phase('connecting');
    else if (event.state === 'ended') this.finish(...(event.code ? ([errorMessages[event.code], false] as [string, boolean]) : ended(event.reason ?? 'agent_ended', event.restarting ?? false)));
  }

  private onData(raw: string): void {
    const parsed = decodeMessage(AgentToConsole, raw);
    if (!parsed.ok) return;
    const message = parsed.value;
    if (message.type === 'session.info') {
      this.restartAfterSession = message.restartAfterSession;
      this.on.info(message);
    }
    else if (message.type === 'error') this.on.refused(message.message);
    else if (message.type === 'session.ending') this.finish(...ended(message.reason, message.restarting));
  }

  private finish(why: string, restarting = false): void {
    if (this.over) return;
    this.over = true;
    for (const off of this.offs) off();
    this.peer.destroy();
    this.on.ended(why, restarting);
  }
}

/** Why the session ended, and that the room restarts now when it does (a device restart already says so). */
function ended(reason: EndReason, restarting: boolean): [string, boolean] {
  const restarts = restarting || reason === 'device_restart';
  return [`${endReasonMessages[reason]}${restarting && reason !== 'device_restart' ? ' The room restarts now.' : ''}`, restarts];
}
