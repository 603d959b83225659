import type { InputPointer, PointerButton, Unversioned } from '@roomlink/shared';

const buttons: Record<number, PointerButton> = { 0: 'left', 1: 'middle', 2: 'right' };

/**
 * Where a point on the screen falls on the room's picture, as fractions of
 * its width and height; null on the letterbox around it. The canvas shows
 * the picture scaled to fit (object-fit: contain), centred.
 */
export function pictureFraction(canvas: { width: number; height: number; getBoundingClientRect(): DOMRect }, clientX: number, clientY: number): { x: number; y: number } | null {
  const box = canvas.getBoundingClientRect();
  if (!canvas.width || !canvas.height || !box.width || !box.height) return null;
  const scale = Math.min(box.width / canvas.width, box.height / canvas.height);
  const width = canvas.width * scale;
  const height = canvas.height * scale;
  const x = (clientX - box.left - (box.width - width) / 2) / width;
  const y = (clientY - box.top - (box.height - height) / 2) / height;
  return x >= 0 && x <= 1 && y >= 0 && y <= 1 ? { x, y } : null;
}

/** A pointer event as the room takes it; null for what it does not (a fourth button, a point off the picture). */
export function pointerMessage(kind: 'move' | 'down' | 'up', at: { x: number; y: number } | null, button: number): Unversioned<InputPointer> | null {
  if (!at) return null;
  if (kind === 'move') return { type: 'input.pointer', action: 'move', ...at };
  const named = buttons[button];
  return named ? { type: 'input.pointer', action: kind, ...at, button: named } : null;
}

/** Wheel notches from a wheel event: about 100 px or 3 lines a notch, at least one, at most 20. */
export function wheelNotches(deltaY: number, deltaMode: number): number {
  if (deltaY === 0) return 0;
  const notches = deltaMode === 0 ? deltaY / 100 : deltaMode === 1 ? deltaY / 3 : deltaY;
  return Math.sign(deltaY) * Math.min(20, Math.max(1, Math.round(Math.abs(notches))));
}
