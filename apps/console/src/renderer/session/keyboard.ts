import type { InputKey, Unversioned } from '@roomlink/shared';

/**
 * A key event as the room receives it: the physical key (`KeyboardEvent.code`)
 * and the modifier state, never the character, so punctuation and layouts
 * arrive as typed.
 */
export function keyMessage(event: Pick<KeyboardEvent, 'code' | 'shiftKey' | 'ctrlKey' | 'altKey' | 'metaKey'>, down: boolean): Unversioned<InputKey> | null {
  if (!/^[A-Za-z][A-Za-z0-9]{0,31}$/.test(event.code)) return null;
  return { type: 'input.key', code: event.code, down, modifiers: { shift: event.shiftKey, ctrl: event.ctrlKey, alt: event.altKey, meta: event.metaKey } };
}

/** Keys held down on the console, so that losing focus releases exactly those on the room. */
export class HeldKeys {
  private readonly held = new Map<string, Unversioned<InputKey>>();

  track(message: Unversioned<InputKey>): void {
    if (message.down) this.held.set(message.code, message);
    else this.held.delete(message.code);
  }

  /** Key-up messages for everything still held, and forget them. */
  releaseAll(): Unversioned<InputKey>[] {
    const ups = [...this.held.values()].map((m) => ({ ...m, down: false, modifiers: { shift: false, ctrl: false, alt: false, meta: false } }));
    this.held.clear();
    return ups;
  }
}
