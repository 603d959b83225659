import wrtc from '@roamhq/wrtc';
import Peer from 'simple-peer';
import { encodePicture, fragmentPicture, PICTURE_CHANNEL_ID, PICTURE_CHANNEL_LABEL, sdpRequestsAudio, type IceServer, type IceTransportPolicy, type PictureMessage, type SignalData } from '@roomlink/shared';
import type { PictureOut } from './picture/picture-pump';
import { raiseVideoBitrate } from './sdp-bitrate';

export interface MediaOptions {
  iceServers: IceServer[];
  iceTransportPolicy: IceTransportPolicy;
  /** Gather and accept only loopback candidates (tests and the local demo keep traffic on 127.0.0.1/::1). */
  loopbackOnly: boolean;
  maxKbps: number;
  startKbps: number;
}

/**
 * The video region's ceiling. Large changes travel as tiles now, so the
 * video track carries only regions in motion: 7 Mbps is ample for them, and
 * a higher ceiling let the encoder spend 22 Mbps and most of a core on a
 * noisy 640x360 region (bench workload 4) for no visible gain. The wire
 * carries more than the encoder's rate (RTP and RTCP, the picture channel):
 * with an 8 Mbps ceiling the bench measured 7.3-8.7 Mbps, with 7 Mbps 7.7.
 * The congestion controller still adapts below it on a slow link.
 */
export const defaultMediaOptions = { loopbackOnly: false, maxKbps: 7000, startKbps: 4000 };

export interface MediaEvents {
  signal(data: SignalData): void;
  connect(): void;
  data(text: string): void;
  /** The connection failed or was closed by the other side. */
  closed(error: Error | null): void;
  /** The other side asked for audio (rule 9); the link is already closed. */
  audioRefused(): void;
  /** A message could not be sent: the channel is closing. */
  sendFailed(error: Error): void;
  /** The picture channel is open: pictures may go. */
  pictureOpen(): void;
}

type VideoSource = InstanceType<typeof wrtc.nonstandard.RTCVideoSource>;

/** Where a frame's time went after the pump handed it over, from the sender's own stats. */
export interface SenderStats {
  framesEncoded: number;
  encodeMsPerFrame: number;
  /** Media and padding packets; the pacer's bandwidth probes count too. */
  packetsSent: number;
  /** Time a packet waits in the pacer before it leaves. */
  pacerMsPerPacket: number;
  bytesSent: number;
  /** The congestion controller's estimate at the end, which sets the pacer's rate. */
  estimateKbps: number | null;
}

const STATS_TIMEOUT_MS = 100;

/** The fields of WebRTC's stats this link reads. */
interface StatsEntry {
  id?: string;
  type?: string;
  kind?: string;
  selectedCandidatePairId?: string;
  nominated?: boolean;
  availableOutgoingBitrate?: number;
  currentRoundTripTime?: number;
  framesEncoded?: number;
  totalEncodeTime?: number;
  packetsSent?: number;
  totalPacketSendDelay?: number;
  bytesSent?: number;
}

const loopback = /\s(127\.\d+\.\d+\.\d+|::1)\s/;

/**
 * The WebRTC side of a session: the agent offers one video track (no audio,
 * ever), the `roomlink` data channel for commands and input, and the
 * picture channel for tiles (see `picture.ts` in the shared package). The
 * picture channel is negotiated out of band with a fixed id, so simple-peer
 * on either end never takes it for its own.
 */
export class MediaLink implements PictureOut {
  private readonly peer: Peer.Instance;
  private readonly stream = new wrtc.MediaStream();
  private readonly source: VideoSource;
  private readonly track: MediaStreamTrack;
  private readonly picture: RTCDataChannel;
  /**
   * Kept from the channel's events: wrtc answers `readyState` with a blocking
   * call to its signaling thread, which cost the pump ~5 % of its time when
   * asked at every damage report.
   */
  private pictureOpen = false;
  private closed = false;

  constructor(
    private readonly options: MediaOptions,
    private readonly events: MediaEvents,
  ) {
    // The track carries only regions in motion (text and UI go as tiles): camera-like, so under load WebRTC keeps the frame rate and gives up resolution, not the other way round.
    this.source = new wrtc.nonstandard.RTCVideoSource({ isScreencast: false });
    this.track = this.source.createTrack();
    this.stream.addTrack(this.track);
    this.peer = new Peer({
      initiator: true,
      wrtc,
      trickle: true,
      channelName: 'roomlink',
      config: { iceServers: options.iceServers, iceTransportPolicy: options.iceTransportPolicy },
      streams: [this.stream as unknown as MediaStream],
      offerOptions: { offerToReceiveAudio: false, offerToReceiveVideo: false },
      sdpTransform: (sdp) => raiseVideoBitrate(sdp, options.maxKbps, options.startKbps),
    });
    const pc = (this.peer as unknown as { _pc: RTCPeerConnection })._pc;
    this.picture = pc.createDataChannel(PICTURE_CHANNEL_LABEL, { negotiated: true, id: PICTURE_CHANNEL_ID, ordered: true });
    this.picture.binaryType = 'arraybuffer';
    this.picture.onopen = () => {
      this.pictureOpen = true;
      events.pictureOpen();
    };
    this.picture.onclose = () => (this.pictureOpen = false);
    this.peer.on('signal', (data: SignalData) => {
      if (data.type === 'candidate' && options.loopbackOnly && !loopback.test(` ${data.candidate.candidate} `)) return;
      if ((data.type === 'offer' || data.type === 'answer') && sdpRequestsAudio(data.sdp)) return this.refuseAudio();
      events.signal(data);
    });
    this.peer.on('connect', () => events.connect());
    this.peer.on('data', (chunk: Uint8Array) => events.data(Buffer.from(chunk).toString('utf8')));
    this.peer.on('error', (error: Error) => this.finish(error));
    this.peer.on('close', () => this.finish(null));
  }

  get video(): VideoSource {
    return this.source;
  }

  get open(): boolean {
    return !this.closed && this.pictureOpen;
  }

  get buffered(): number {
    return this.picture.bufferedAmount;
  }

  /** Sends one picture message, in fragments; best effort, like `send`. */
  sendPicture(message: PictureMessage): void {
    if (!this.open) return;
    try {
      for (const fragment of fragmentPicture(encodePicture(message))) this.picture.send(fragment);
    } catch (error) {
      this.events.sendFailed(error as Error);
    }
  }

  /** Applies a signal from the console, refusing any SDP that asks for audio. */
  signal(data: SignalData): void {
    if (this.closed) return;
    if (data.type === 'offer' || data.type === 'answer') {
      if (sdpRequestsAudio(data.sdp)) return this.refuseAudio();
      // The console's answer is what the encoder obeys, so the bitrate ceiling goes there.
      this.peer.signal({ type: data.type, sdp: raiseVideoBitrate(data.sdp, this.options.maxKbps, this.options.startKbps) });
      return;
    }
    if (data.type === 'candidate' && this.options.loopbackOnly && !loopback.test(` ${data.candidate.candidate} `)) return;
    this.peer.signal(data as Peer.SignalData);
  }

  /**
   * Best effort, never throws: when the console hangs up first, the channel
   * is already closing while simple-peer still says connected, and wrtc
   * throws on send. A session's end path must not stop there (rule 8).
   */
  send(text: string): void {
    if (this.closed || !this.peer.connected) return;
    try {
      this.peer.send(text);
    } catch (error) {
      this.events.sendFailed(error as Error);
    }
  }

  /** The video sender's stats, or null when they cannot be had quickly: a session's end must not wait on them. */
  async senderStats(): Promise<SenderStats | null> {
    const entries = await this.stats();
    const video = entries.find((e) => e.type === 'outbound-rtp' && e.kind === 'video');
    if (!video) return null;
    const estimate = this.selectedPair(entries)?.availableOutgoingBitrate;
    const frames = video.framesEncoded ?? 0;
    const packets = video.packetsSent ?? 0;
    return {
      framesEncoded: frames,
      encodeMsPerFrame: frames ? ((video.totalEncodeTime ?? 0) / frames) * 1000 : 0,
      packetsSent: packets,
      pacerMsPerPacket: packets ? ((video.totalPacketSendDelay ?? 0) / packets) * 1000 : 0,
      bytesSent: video.bytesSent ?? 0,
      estimateKbps: estimate === undefined ? null : estimate / 1000,
    };
  }

  /** The last round trip measured on the link's candidate pair, in ms; null when not known (yet). */
  async roundTripMs(): Promise<number | null> {
    const rtt = this.selectedPair(await this.stats())?.currentRoundTripTime;
    return rtt === undefined ? null : rtt * 1000;
  }

  private async stats(): Promise<StatsEntry[]> {
    const pc = (this.peer as unknown as { _pc?: RTCPeerConnection })._pc;
    if (this.closed || !pc) return [];
    let timer: NodeJS.Timeout | undefined;
    const report = await Promise.race([pc.getStats(), new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), STATS_TIMEOUT_MS)))]).catch(() => null);
    clearTimeout(timer);
    const entries: StatsEntry[] = [];
    report?.forEach((entry: StatsEntry) => entries.push(entry));
    return entries;
  }

  private selectedPair(entries: StatsEntry[]): StatsEntry | undefined {
    // The transport names the pair in use; a pair's nominated flag is not always kept up to date as the call ends.
    const selected = entries.find((e) => e.type === 'transport')?.selectedCandidatePairId;
    return entries.find((e) => e.type === 'candidate-pair' && (selected ? e.id === selected : e.nominated));
  }

  /** Stops the track before closing the connection (wrtc may crash otherwise); resolves when closed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.track.stop();
    this.peer.destroy();
  }

  /**
   * Sends a last message and closes: the data channel is closed first, which
   * delivers what is queued on it, and the connection goes down when the
   * channel reports closed or after `timeoutMs`. Never throws: whatever the
   * channel does, the connection is closed at the end.
   */
  async closeWith(text: string, timeoutMs: number): Promise<void> {
    const channel = (this.peer as unknown as { _channel?: RTCDataChannel })._channel;
    try {
      if (!this.closed && channel?.readyState === 'open') {
        this.send(text);
        channel.close();
        // wrtc's channel has no addEventListener, and simple-peer owns its onclose: watch the state.
        for (const until = Date.now() + timeoutMs; (channel.readyState as RTCDataChannelState) !== 'closed' && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } catch (error) {
      this.events.sendFailed(error as Error);
    }
    this.close();
  }

  private refuseAudio(): void {
    this.close();
    this.events.audioRefused();
  }

  private finish(error: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.track.stop();
    this.peer.destroy();
    this.events.closed(error);
  }
}
