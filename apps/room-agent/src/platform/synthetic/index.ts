import { writeLogBundle } from '../../core/log-bundle';
import type { Capture, Device, Displays, Frame, Keyboard, Monitor, Overlay, Platform, Pointer, RoomState } from '../../core/platform';
import type { PointerButton } from '@roomlink/shared';
import { drawTestPattern } from './pattern';

export interface SyntheticOptions {
  roomState: RoomState;
  logDir: string;
  width?: number;
  height?: number;
  /** How often the moving content moves. */
  fps?: number;
}

/** A keyboard that records what it was asked to press, for tests and the demo. */
export class RecordingKeyboard implements Keyboard {
  readonly events: { code: string; down: boolean }[] = [];
  supports(code: string): boolean {
    return /^[A-Za-z][A-Za-z0-9]{0,31}$/.test(code);
  }
  toggle(code: string, down: boolean): void {
    this.events.push({ code, down });
  }
}

/** A pointer that records where it was moved and what it pressed. */
export class RecordingPointer implements Pointer {
  readonly events: ({ move: [number, number] } | { button: PointerButton; down: boolean } | { wheel: number })[] = [];
  move(x: number, y: number): void {
    this.events.push({ move: [x, y] });
  }
  button(button: PointerButton, down: boolean): void {
    this.events.push({ button, down });
  }
  wheel(notches: number): void {
    this.events.push({ wheel: notches });
  }
}

/** A ring that records when it went up and down. */
export class RecordingOverlay implements Overlay {
  visible = false;
  readonly history: ('show' | 'hide')[] = [];
  async show(): Promise<void> {
    this.visible = true;
    this.history.push('show');
  }
  async hide(): Promise<void> {
    this.visible = false;
    this.history.push('hide');
  }
}

export class RecordingDevice implements Device {
  restarts = 0;
  constructor(private readonly logDir: string) {}
  async restart(): Promise<void> {
    this.restarts += 1;
  }
  async collectLogs(): Promise<string> {
    return writeLogBundle(this.logDir, 'synthetic');
  }
}

/**
 * A room PC with no screen: three generated displays (a colour per display,
 * a moving bar and a clock), with keyboard, ring and device that record what
 * they are asked to do. Everything in the core runs against it unchanged.
 */
export function syntheticPlatform(options: SyntheticOptions): Platform & { keyboard: RecordingKeyboard; pointer: RecordingPointer; overlay: RecordingOverlay; device: RecordingDevice } {
  const width = options.width ?? 1280;
  const height = options.height ?? 720;
  const monitors: Monitor[] = ['SYNTH0', 'SYNTH1', 'SYNTH2'].map((name, i) => ({ id: name, name, primary: i === 0, x: i * width, y: 0, width, height }));
  const displays: Displays = { list: async () => monitors };
  const capture: Capture = {
    grab: async (monitor): Promise<Frame> => ({ width, height, area: { x: 0, y: 0, w: width, h: height }, data: drawTestPattern(monitors.indexOf(monitor), width, height, Date.now()) }),
    watch: (_monitor, changed) => {
      const timer = setInterval(changed, 1000 / (options.fps ?? 10));
      return () => clearInterval(timer);
    },
  };
  const device = new RecordingDevice(options.logDir);
  return {
    name: 'synthetic',
    displays,
    capture,
    keyboard: new RecordingKeyboard(),
    pointer: new RecordingPointer(),
    overlay: new RecordingOverlay(),
    device,
    roomState: options.roomState,
    close: async () => options.roomState.close(),
  };
}
