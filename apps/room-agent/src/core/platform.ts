import type { DisplayInfo, HealthSignals, Platform as PlatformName, PointerButton, Rect } from '@roomlink/shared';

/**
 * What the core needs from the operating system, one interface per concern.
 * Adapters (x11, synthetic, windows) implement these and nothing else; the
 * core never imports an adapter.
 */

/** A physical monitor as the operating system reports it. */
export interface Monitor {
  id: string;
  /** The system's name for the output, e.g. `DUMMY1` or `\\.\DISPLAY2`: what a display mapping refers to. */
  name: string;
  primary: boolean;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Displays {
  list(): Promise<Monitor[]>;
}

/**
 * One capture of a monitor: the pixels of `area`, rows packed, 4 bytes a
 * pixel in the order X and GDI hold them: blue, green, red, unused (the
 * little-endian word 0x__RRGGBB). The core keeps that order end to end and
 * swaps red and blue only where an encoder needs RGB, so a capture costs no
 * conversion pass.
 */
export interface Frame {
  /** The monitor's size. */
  width: number;
  height: number;
  /**
   * The part of the monitor that was read, monitor-relative: where pixels may
   * differ from the last grab (X: what DAMAGE reported), the whole monitor
   * when the platform cannot tell or `whole` was asked for; null when
   * nothing can have changed.
   */
  area: Rect | null;
  /** Starts on a 4-byte boundary; valid until the next grab: read it before awaiting anything. */
  data: Uint8Array;
}

export interface Capture {
  /** `whole`: read the whole monitor, whatever changed (the caller has no earlier picture). */
  grab(monitor: Monitor, whole: boolean): Promise<Frame>;
  /**
   * Calls `changed` whenever pixels on the monitor may have changed, and
   * returns the unsubscribe function. `null` when the platform gives no such
   * hints: the frame pump then polls slowly and compares frames.
   */
  watch(monitor: Monitor, changed: () => void): (() => void) | null;
}

/** Physical keys by `KeyboardEvent.code`; the core keeps modifier state and releases what it pressed. */
export interface Keyboard {
  supports(code: string): boolean;
  toggle(code: string, down: boolean): void;
}

/** The room's pointer, in the desktop's pixel coordinates (a monitor's x and y included). */
export interface Pointer {
  move(x: number, y: number): void;
  button(button: PointerButton, down: boolean): void;
  /** Wheel notches: positive scrolls down. */
  wheel(notches: number): void;
}

/** The red ring of rule 8: one around every display while any frame can leave the device. */
export interface Overlay {
  /** Resolves once the ring is on screen, so capture may start. */
  show(monitors: readonly Monitor[]): Promise<void>;
  /** Resolves once the ring is gone. */
  hide(): Promise<void>;
}

export interface Device {
  restart(): Promise<void>;
  /** Writes a log bundle and returns where it is. */
  collectLogs(): Promise<string>;
}

export interface RoomStatus {
  inCall: boolean;
  signals: HealthSignals;
}

/** The room app's view of the room: call state and health signals. */
export interface RoomState {
  current(): RoomStatus;
  onChange(listener: (status: RoomStatus) => void): () => void;
  close(): void;
}

export interface Platform {
  name: PlatformName;
  displays: Displays;
  capture: Capture;
  keyboard: Keyboard;
  /** Null where the platform cannot drive the pointer: sessions there are keyboard-only. */
  pointer: Pointer | null;
  overlay: Overlay;
  device: Device;
  roomState: RoomState;
  /**
   * Resolves if the platform can no longer work (its X server went away):
   * the agent ends any session, and the CLI exits so that the service
   * manager starts it afresh on the new display.
   */
  lost?: Promise<Error>;
  close(): Promise<void>;
}

export type { DisplayInfo };
