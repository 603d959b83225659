import libnut from '@nut-tree-fork/libnut-linux';
import { libnutKey } from '../../core/key-names';
import type { Keyboard } from '../../core/platform';

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
