import type { InputCounts, InputKey, InputPointer, Modifiers, PointerButton, SessionLevel, ShortcutCommand } from '@roomlink/shared';
import type { Keyboard, Monitor, Pointer } from './platform';

type Modifier = keyof Modifiers;

/** The physical key the core presses for each modifier flag. */
const modifierKeys: Record<Modifier, string> = { shift: 'ShiftLeft', ctrl: 'ControlLeft', alt: 'AltLeft', meta: 'MetaLeft' };

const modifierOfCode: Record<string, Modifier> = {
  ShiftLeft: 'shift',
  ShiftRight: 'shift',
  ControlLeft: 'ctrl',
  ControlRight: 'ctrl',
  AltLeft: 'alt',
  AltRight: 'alt',
  MetaLeft: 'meta',
  MetaRight: 'meta',
};

/**
 * The fixed shortcut allowlist (modify sessions only), as key chords pressed
 * in order and released in reverse. Ctrl+Alt+Del cannot be injected from user
 * mode, so Task Manager stands in for it.
 */
export const shortcutChords: Record<ShortcutCommand, readonly string[]> = {
  taskManager: ['ControlLeft', 'ShiftLeft', 'Escape'],
  altTab: ['AltLeft', 'Tab'],
  altF4: ['AltLeft', 'F4'],
  win: ['MetaLeft'],
  winD: ['MetaLeft', 'KeyD'],
  escape: ['Escape'],
  enter: ['Enter'],
  f5: ['F5'],
};

/**
 * Rule 7 and key state in one place. View sessions never reach the keyboard:
 * their input is dropped here and counted. For modify sessions, the operating
 * system's modifier state is brought in line with each event's modifiers
 * before the key goes down (so a lost Shift-up cannot leave Shift stuck, and
 * `!` arrives as Shift+Digit1), and everything still held is released when
 * the session ends.
 */
export class InputController {
  private readonly held = new Set<string>();
  private readonly buttons = new Set<PointerButton>();
  private readonly counts = { accepted: 0, dropped: 0 };
  private readonly pointerCounts = { accepted: 0, dropped: 0 };

  /** `pointer`: the room's pointer when this session may drive it (the grant said so and the platform can), else null. */
  constructor(
    private level: SessionLevel,
    private readonly keyboard: Keyboard,
    private pointerDevice: Pointer | null = null,
  ) {}

  /** Whether mouse and touch from this session reach the room. */
  get pointerAllowed(): boolean {
    return this.level === 'modify' && this.pointerDevice !== null;
  }

  /** Pointer control withdrawn: held buttons are let go and nothing more reaches the pointer; the keyboard carries on. */
  stopPointer(): void {
    for (const button of [...this.buttons]) this.setButton(button, false);
    this.pointerDevice = null;
  }

  /** Access dropped to view: nothing more reaches the keyboard, and what this session holds is let go. */
  lowerToView(): void {
    this.releaseAll();
    this.level = 'view';
  }

  get input(): InputCounts {
    return { ...this.counts, pointer: { ...this.pointerCounts } };
  }

  /** Counts a message refused before it was understood, e.g. garbage on the data channel. */
  drop(): void {
    this.counts.dropped += 1;
  }

  /** Returns whether the event reached the keyboard. */
  key(event: Pick<InputKey, 'code' | 'down' | 'modifiers'>): boolean {
    if (this.level !== 'modify' || !this.keyboard.supports(event.code)) {
      this.counts.dropped += 1;
      return false;
    }
    this.counts.accepted += 1;
    const modifier = modifierOfCode[event.code];
    if (modifier) {
      this.set(event.code, event.down);
      return true;
    }
    if (event.down) this.syncModifiers(event.modifiers);
    this.set(event.code, event.down);
    return true;
  }

  shortcut(command: ShortcutCommand): boolean {
    const chord = shortcutChords[command];
    if (this.level !== 'modify' || !chord.every((code) => this.keyboard.supports(code))) {
      this.counts.dropped += 1;
      return false;
    }
    this.counts.accepted += 1;
    this.syncModifiers({ shift: false, ctrl: false, alt: false, meta: false });
    for (const code of chord) this.set(code, true);
    for (const code of [...chord].reverse()) this.set(code, false);
    return true;
  }

  /**
   * One pointer event on `monitor`, its position a fraction of the monitor's
   * size. Returns whether it reached the pointer; refused ones are counted
   * apart from keys (rule 7: a view session never moves the room's pointer).
   */
  pointer(event: InputPointer, monitor: Monitor): boolean {
    const device = this.pointerDevice;
    if (this.level !== 'modify' || !device) {
      this.pointerCounts.dropped += 1;
      return false;
    }
    this.pointerCounts.accepted += 1;
    device.move(monitor.x + Math.min(monitor.width - 1, Math.floor(event.x * monitor.width)), monitor.y + Math.min(monitor.height - 1, Math.floor(event.y * monitor.height)));
    if (event.action === 'wheel') device.wheel(event.deltaY);
    if (event.action === 'down' || event.action === 'up') this.setButton(event.button, event.action === 'down');
    return true;
  }

  /** Counts a pointer event refused before it was understood. */
  dropPointer(): void {
    this.pointerCounts.dropped += 1;
  }

  /** Lets go of every key and button this session pressed. Called on every end path. */
  releaseAll(): void {
    for (const code of [...this.held].reverse()) this.set(code, false);
    for (const button of [...this.buttons]) this.setButton(button, false);
  }

  private setButton(button: PointerButton, down: boolean): void {
    // As with keys: never release a button this session did not press.
    if (!down && !this.buttons.has(button)) return;
    if (down && this.buttons.has(button)) return;
    this.pointerDevice?.button(button, down);
    if (down) this.buttons.add(button);
    else this.buttons.delete(button);
  }

  private syncModifiers(wanted: Modifiers): void {
    for (const modifier of Object.keys(modifierKeys) as Modifier[]) {
      const heldCodes = [...this.held].filter((code) => modifierOfCode[code] === modifier);
      if (wanted[modifier] && heldCodes.length === 0) this.set(modifierKeys[modifier], true);
      if (!wanted[modifier]) for (const code of heldCodes) this.set(code, false);
    }
  }

  private set(code: string, down: boolean): void {
    // An up for a key this session never pressed would reach someone else's key state.
    if (!down && !this.held.has(code)) return;
    this.keyboard.toggle(code, down);
    if (down) this.held.add(code);
    else this.held.delete(code);
  }
}
