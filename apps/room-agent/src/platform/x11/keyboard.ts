import libnut from '@nut-tree-fork/libnut-linux';
import type { PointerButton } from '@roomlink/shared';
import { libnutKey } from '../../core/key-names';
import type { Keyboard, Pointer } from '../../core/platform';

/** Physical keys through XTEST; modifiers arrive as their own key events from the core. */
export class X11Keyboard implements Keyboard {
  constructor(display: string) {
    // Present at run time on Linux, missing from the package's types.
    (libnut as typeof libnut & { setXDisplayName(name: string): void }).setXDisplayName(display);
    libnut.setKeyboardDelay(0);
  }

  supports(code: string): boolean {
    return libnutKey(code) !== null;
  }

  toggle(code: string, down: boolean): void {
    const key = libnutKey(code);
    if (key !== null) libnut.keyToggle(key, down ? 'down' : 'up');
  }
}

/** The pointer through XTEST, on the same display as the keyboard (whose constructor names it to libnut). */
export class X11Pointer implements Pointer {
  move(x: number, y: number): void {
    libnut.moveMouse(x, y);
  }

  button(button: PointerButton, down: boolean): void {
    libnut.mouseToggle(down ? 'down' : 'up', button);
  }

  wheel(notches: number): void {
    libnut.scrollMouse(0, -notches);
  }
}
