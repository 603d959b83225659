import type { InputCounts, InputKey, Modifiers, SessionLevel, ShortcutCommand } from '@roomlink/shared';
import type { Keyboard } from './platform';

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
  private readonly counts = { accepted: 0, dropped: 0 };

  constructor(
    private level: SessionLevel,
    private readonly keyboard: Keyboard,
  ) {}

  /** Access dropped to view: nothing more reaches the keyboard, and what this session holds is let go. */
  lowerToView(): void {
    this.releaseAll();
    this.level = 'view';
  }

  get input(): InputCounts {
    return { ...this.counts };
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

  /** Lets go of every key this session pressed. Called on every end path. */
  releaseAll(): void {
    for (const code of [...this.held].reverse()) this.set(code, false);
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
