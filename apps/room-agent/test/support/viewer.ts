import wrtc from '@roamhq/wrtc';
import Peer from 'simple-peer';
import { AgentToConsole, decodeMessage, encodeMessage, type ConsoleToAgent, type SignalData, type Unversioned } from '@roomlink/shared';
import type { ControlPlane } from './control-plane';

type VideoFrame = { width: number; height: number; data: Uint8Array };

/**
 * The technician's end of a session, in Node: a wrtc peer that answers the
 * agent's offer through the control plane, receives its video and talks on
 * the data channel like the console does.
 */
export class Viewer {
  readonly peer: Peer.Instance;
  readonly messages: AgentToConsole[] = [];
  readonly offers: string[] = [];
  frame: VideoFrame | null = null;
  framesReceived = 0;
  /** Rule 9 from the attacker's side: the answer this viewer sends asks for audio. */
  askForAudio = false;
  connected: Promise<void>;
  private sink: InstanceType<typeof wrtc.nonstandard.RTCVideoSink> | null = null;

  constructor(
    private readonly plane: ControlPlane,
    readonly sessionId: string,
  ) {
    this.peer = new Peer({ initiator: false, wrtc, trickle: true, config: { iceServers: [] } });
    this.peer.on('signal', (data: SignalData) => {
      const sdp = data.type === 'answer' && this.askForAudio ? `${data.sdp}m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n` : null;
      plane.send({ type: 'session.signal', sessionId: sessionId as never, data: sdp ? { type: 'answer', sdp } : data });
    });
    this.peer.on('track', (track: MediaStreamTrack) => this.watch(track));
    this.peer.on('data', (chunk: Uint8Array) => {
      const parsed = decodeMessage(AgentToConsole, Buffer.from(chunk).toString());
      if (parsed.ok) this.messages.push(parsed.value);
    });
    this.peer.on('error', () => undefined);
    this.connected = new Promise((resolve) => this.peer.once('connect', () => resolve()));
    plane.onAgentMessage = (message) => {
      if (message.type !== 'session.signal' || message.sessionId !== sessionId) return;
      if (message.data.type === 'offer') this.offers.push(message.data.sdp);
      this.peer.signal(message.data as Peer.SignalData);
    };
  }

  private watch(track: MediaStreamTrack): void {
    this.sink?.stop();
    this.sink = new wrtc.nonstandard.RTCVideoSink(track);
    this.sink.onframe = ({ frame }: { frame: VideoFrame }) => {
      this.frame = { width: frame.width, height: frame.height, data: new Uint8Array(frame.data) };
      this.framesReceived += 1;
    };
  }

  send(message: Unversioned<ConsoleToAgent>): void {
    this.peer.send(encodeMessage(message));
  }

  sendRaw(text: string): void {
    this.peer.send(text);
  }

  /** RGB of one pixel of the last frame. */
  pixel(x: number, y: number): [number, number, number] {
    const f = this.frame;
    if (!f) throw new Error('no frame yet');
    const rgba = new Uint8Array(f.width * f.height * 4);
    wrtc.nonstandard.i420ToRgba({ width: f.width, height: f.height, data: f.data }, { width: f.width, height: f.height, data: rgba });
    const i = (y * f.width + x) * 4;
    return [rgba[i]!, rgba[i + 1]!, rgba[i + 2]!];
  }

  async waitForMessage<T extends AgentToConsole['type']>(type: T, match: (m: Extract<AgentToConsole, { type: T }>) => boolean = () => true, timeoutMs = 10_000): Promise<Extract<AgentToConsole, { type: T }>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => m.type === type && match(m as Extract<AgentToConsole, { type: T }>));
      if (found) return found as Extract<AgentToConsole, { type: T }>;
      if (Date.now() > until) throw new Error(`timed out waiting for ${type}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.sink?.stop();
    this.peer.destroy();
  }
}

/** Polls until `check` returns a value or throws when time runs out. */
export async function eventually<T>(check: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
