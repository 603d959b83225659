import type { DisplayInfo, HealthSignals, Platform as PlatformName, PointerButton } from '@roomlink/shared';

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

/** One captured frame, 4 bytes per pixel in RGBA order, rows packed. */
export interface Frame {
  width: number;
  height: number;
  /** A buffer of its own, unless `changed` is given: the pump then neither compares nor keeps it past the next grab. */
  data: Uint8Array;
  /** Whether any pixel differs from the previous grab of this monitor, when the platform can tell (x11 compares what DAMAGE reported). */
  changed?: boolean;
  /** Where pixels may differ from the previous grab, monitor-relative, when the platform knows (x11: what DAMAGE reported); else anywhere. */
  area?: { x: number; y: number; w: number; h: number };
}

export interface Capture {
  grab(monitor: Monitor): Promise<Frame>;
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
