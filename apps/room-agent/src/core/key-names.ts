const named: Record<string, string> = {
  Minus: '-',
  Equal: '=',
  BracketLeft: '[',
  BracketRight: ']',
  Backslash: '\\',
  Semicolon: ';',
  Quote: "'",
  Backquote: '`',
  Comma: ',',
  Period: '.',
  Slash: '/',
  Space: 'space',
  // libnut's "enter" is the keypad's (it sits with its numpad keys); the main key is "return".
  Enter: 'return',
  NumpadEnter: 'enter',
  Tab: 'tab',
  Backspace: 'backspace',
  Escape: 'escape',
  Delete: 'delete',
  Insert: 'insert',
  Home: 'home',
  End: 'end',
  PageUp: 'pageup',
  PageDown: 'pagedown',
  ArrowUp: 'up',
  ArrowDown: 'down',
  ArrowLeft: 'left',
  ArrowRight: 'right',
  PrintScreen: 'printscreen',
  CapsLock: 'caps_lock',
  NumLock: 'num_lock',
  ScrollLock: 'scroll_lock',
  ContextMenu: 'menu',
  ShiftLeft: 'shift',
  ShiftRight: 'right_shift',
  ControlLeft: 'control',
  ControlRight: 'right_control',
  AltLeft: 'alt',
  AltRight: 'right_alt',
  MetaLeft: 'meta',
  MetaRight: 'right_meta',
  NumpadDecimal: 'numpad_decimal',
  NumpadAdd: 'add',
  NumpadSubtract: 'subtract',
  NumpadMultiply: 'multiply',
  NumpadDivide: 'divide',
};

/**
 * `KeyboardEvent.code` to the key names libnut uses on every operating system:
 * the physical key, never the character it makes, so Shift+Digit1 gives `!`
 * on a US layout and whatever that key gives on the room's own layout.
 */
export function libnutKey(code: string): string | null {
  if (/^Key[A-Z]$/.test(code)) return code.slice(3).toLowerCase();
  if (/^Digit[0-9]$/.test(code)) return code.slice(5);
  if (/^Numpad[0-9]$/.test(code)) return `numpad_${code.slice(6)}`;
  if (/^F([1-9]|1[0-9]|2[0-4])$/.test(code)) return code.toLowerCase();
  return named[code] ?? null;
}

