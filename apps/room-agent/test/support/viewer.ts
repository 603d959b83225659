import { inflateRawSync } from 'node:zlib';
import wrtc from '@roamhq/wrtc';
import Peer from 'simple-peer';
import sharp from 'sharp';
import {
  AgentToConsole,
  cachedSlot,
  checkTile,
  decodeMessage,
  decodePicture,
  encodeMessage,
  PICTURE_CHANNEL_ID,
  PICTURE_CHANNEL_LABEL,
  PictureAssembler,
  type ConsoleToAgent,
  type PictureMessage,
  type Rect,
  rgbToRgba,
  type SignalData,
  type Tile,
  type Unversioned,
} from '@roomlink/shared';
import { loopbackIce, type ControlPlane, type Ice } from './control-plane';

type VideoFrame = { width: number; height: number; data: Uint8Array };
/** A tile as logged: where it is and how it was encoded, without its bytes. */
export type LoggedTile = Omit<Tile, 'image'> & { epoch: number; frame: number; bytes: number };
/** A picture message as logged: each tile on its own, then the frame's end. */
export type LoggedPicture = Exclude<PictureMessage, { kind: 'tiles' }> | ({ kind: 'tile' } & LoggedTile) | { kind: 'frameEnd'; epoch: number; frame: number };

/** The room's display as this viewer has drawn it, RGBA. */
export interface Picture {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/**
 * The technician's end of a session, in Node: a wrtc peer that answers the
 * agent's offer through the control plane, draws its picture (tiles decoded
 * with sharp, the video region from the video track) like the console does,
 * and talks on the data channel.
 */
export class Viewer {
  readonly peer: Peer.Instance;
  readonly messages: AgentToConsole[] = [];
  readonly offers: string[] = [];
  /** What the viewer shows, updated at each frame end and video frame. */
  frame: Picture | null = null;
  /** Picture frames drawn (tiles at a frame end, and video frames in the region). */
  framesReceived = 0;
  /** Every picture message, in arrival order, without image bytes. */
  readonly pictureLog: LoggedPicture[] = [];
  videoFrames = 0;
  region: Rect | null = null;
  /** Rule 9 from the attacker's side: the answer this viewer sends asks for audio. */
  askForAudio = false;
  connected: Promise<void>;
  readonly picture: RTCDataChannel;
  private sink: InstanceType<typeof wrtc.nonstandard.RTCVideoSink> | null = null;
  private readonly assembler = new PictureAssembler();
  private pendingTiles: Promise<{ tile: Tile; rgba: Uint8Array | null }>[] = [];
  /** The tile cache, as the console keeps it: slot → the cell's pixels when it was kept. */
  private readonly cache = new Map<number, { w: number; h: number; rgba: Uint8Array }>();
  private drawing: Promise<void> = Promise.resolve();
  /** The display the room last announced, as messages arrive (drawing follows behind). */
  private display = { epoch: -1, width: 0, height: 0 };

  constructor(
    private readonly plane: ControlPlane,
    readonly sessionId: string,
    ice: Ice = loopbackIce,
  ) {
    this.peer = new Peer({ initiator: false, wrtc, trickle: true, config: ice });
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
    const pc = (this.peer as unknown as { _pc: RTCPeerConnection })._pc;
    this.picture = pc.createDataChannel(PICTURE_CHANNEL_LABEL, { negotiated: true, id: PICTURE_CHANNEL_ID });
    this.picture.binaryType = 'arraybuffer';
    this.picture.onmessage = (event: MessageEvent<ArrayBuffer>) => this.onPicture(new Uint8Array(event.data));
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
      const region = this.region;
      if (!region || !this.frame || frame.width !== region.w || frame.height !== region.h) return;
      const rgba = new Uint8Array(frame.width * frame.height * 4);
      wrtc.nonstandard.i420ToRgba({ width: frame.width, height: frame.height, data: frame.data }, { width: frame.width, height: frame.height, data: rgba });
      blit(this.frame, region, rgba);
      this.videoFrames += 1;
      this.framesReceived += 1;
    };
  }

  private onPicture(fragment: Uint8Array): void {
    const whole = this.assembler.push(fragment);
    if (!whole) return;
    const message = decodePicture(whole);
    if (message.kind === 'tiles') {
      for (const { image, ...tile } of message.tiles) this.pictureLog.push({ kind: 'tile', epoch: message.epoch, frame: message.frame, ...tile, bytes: image.byteLength });
      if (message.last) this.pictureLog.push({ kind: 'frameEnd', epoch: message.epoch, frame: message.frame });
    } else this.pictureLog.push(message);
    if (message.kind !== 'display' && message.epoch !== this.display.epoch) return;
    switch (message.kind) {
      case 'display':
        this.display = { epoch: message.epoch, width: message.width, height: message.height };
        // As the console does: tiles of the earlier display's unfinished frame are never drawn.
        this.pendingTiles = [];
        this.drawing = this.drawing.then(() => {
          this.cache.clear();
          if (this.frame?.width !== message.width || this.frame.height !== message.height) this.frame = { width: message.width, height: message.height, rgba: new Uint8Array(message.width * message.height * 4) };
        });
        return;
      case 'video':
        this.drawing = this.drawing.then(() => {
          this.region = message.w ? { x: message.x, y: message.y, w: message.w, h: message.h } : null;
        });
        return;
      case 'keep':
        this.drawing = this.drawing.then(() => {
          for (const { slot, ...cell } of message.cells) this.cache.set(slot, { w: cell.w, h: cell.h, rgba: crop(this.frame!, cell) });
        });
        return;
      case 'tiles': {
        for (const tile of message.tiles) {
          checkTile(tile, this.display);
          // A cached tile is read from the cache when its frame is drawn: after every keep before it.
          this.pendingTiles.push(tile.format === 'cached' ? Promise.resolve({ tile, rgba: null }) : decodeTile(tile).then((rgba) => ({ tile, rgba })));
        }
        if (!message.last) return;
        const tiles = this.pendingTiles;
        this.pendingTiles = [];
        this.drawing = this.drawing.then(async () => {
          for (const { tile, rgba } of await Promise.all(tiles)) blit(this.frame!, tile, rgba ?? this.cached(tile));
          this.framesReceived += 1;
        });
      }
    }
  }

  private cached(tile: Tile): Uint8Array {
    const kept = this.cache.get(cachedSlot(tile));
    if (!kept || kept.w !== tile.w || kept.h !== tile.h) throw new Error(`cached tile ${tile.w}x${tile.h}+${tile.x}+${tile.y} names slot ${cachedSlot(tile)}, which holds ${kept ? `${kept.w}x${kept.h}` : 'nothing'}`);
    return kept.rgba;
  }

  /** Resolves once every picture message received so far has been drawn. */
  drawn(): Promise<void> {
    return this.drawing;
  }

  send(message: Unversioned<ConsoleToAgent>): void {
    this.peer.send(encodeMessage(message));
  }

  sendRaw(text: string): void {
    this.peer.send(text);
  }

  /** RGB of one pixel of the picture. */
  pixel(x: number, y: number): [number, number, number] {
    const f = this.frame;
    if (!f) throw new Error('no frame yet');
    const i = (y * f.width + x) * 4;
    return [f.rgba[i]!, f.rgba[i + 1]!, f.rgba[i + 2]!];
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

/** A tile's pixels as RGBA, decoded the way the console does: image files with sharp here, fills and deflated rows by hand. */
async function decodeTile(tile: Tile): Promise<Uint8Array> {
  const rgba = new Uint8Array(tile.w * tile.h * 4);
  if (tile.format === 'fill') {
    for (let i = 0; i < rgba.length; i += 4) rgba.set([...tile.image, 255], i);
    return rgba;
  }
  if (tile.format === 'zlib') {
    rgbToRgba(inflateRawSync(tile.image, { maxOutputLength: tile.w * tile.h * 3 }), rgba);
    return rgba;
  }
  return sharp(Buffer.from(tile.image)).ensureAlpha().raw().toBuffer();
}

function crop(picture: Picture, rect: Rect): Uint8Array {
  const rgba = new Uint8Array(rect.w * rect.h * 4);
  for (let row = 0; row < rect.h; row++) rgba.set(picture.rgba.subarray(((rect.y + row) * picture.width + rect.x) * 4, ((rect.y + row) * picture.width + rect.x + rect.w) * 4), row * rect.w * 4);
  return rgba;
}

function blit(picture: Picture, rect: Rect, rgba: Uint8Array): void {
  for (let row = 0; row < rect.h; row++) picture.rgba.set(rgba.subarray(row * rect.w * 4, (row + 1) * rect.w * 4), ((rect.y + row) * picture.width + rect.x) * 4);
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
