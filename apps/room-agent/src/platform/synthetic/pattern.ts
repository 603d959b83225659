/** Display colours, RGB: the console blue, front of room green and orange, so a viewer can tell them apart. */
const palette: readonly [number, number, number][] = [
  [30, 60, 160],
  [30, 140, 70],
  [200, 110, 20],
];

/** Which of the seven segments (a–g) light up for each digit. */
const segments = ['abcdef', 'bc', 'abdeg', 'abcdg', 'bcfg', 'acdfg', 'acdefg', 'abc', 'abcdefg', 'abcdfg'];

function fillRect(data: Uint8Array, stride: number, x: number, y: number, w: number, h: number, rgb: readonly number[]): void {
  const view = new Uint32Array(data.buffer, data.byteOffset, data.byteLength / 4);
  // B, G, R, X as the core takes pixels (see `Frame`): the little-endian word 0x__RRGGBB.
  const word = ((rgb[0]! & 255) << 16) | ((rgb[1]! & 255) << 8) | (rgb[2]! & 255);
  for (let row = y; row < y + h; row++) view.fill(word, row * stride + x, row * stride + x + w);
}

function drawDigit(data: Uint8Array, stride: number, digit: number, x: number, y: number, size: number): void {
  const t = Math.max(2, Math.round(size / 6));
  const white = [255, 255, 255];
  const on = segments[digit] ?? '';
  const parts: Record<string, [number, number, number, number]> = {
    a: [x, y, size, t],
    b: [x + size - t, y, t, size],
    c: [x + size - t, y + size, t, size],
    d: [x, y + 2 * size - t, size, t],
    e: [x, y + size, t, size],
    f: [x, y, t, size],
    g: [x, y + size - t / 2, size, t],
  };
  for (const s of on) {
    const [px, py, w, h] = parts[s]!;
    fillRect(data, stride, px, Math.round(py), w, h, white);
  }
}

/**
 * One frame of the synthetic display `index`: its colour, a bar that moves
 * across once every four seconds and the time as HH:MM:SS.
 */
export function drawTestPattern(index: number, width: number, height: number, now: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  fillRect(data, width, 0, 0, width, height, palette[index % palette.length]!);
  const barWidth = Math.max(8, Math.round(width / 20));
  const barX = Math.floor(((now % 4000) / 4000) * (width - barWidth));
  fillRect(data, width, barX, 0, barWidth, height, [230, 230, 230]);
  const time = new Date(now).toISOString().slice(11, 19).replace(/:/g, '');
  const size = Math.round(height / 12);
  let x = Math.round(width / 2 - 4 * size);
  for (const [i, char] of [...time].entries()) {
    drawDigit(data, width, Number(char), x, Math.round(height / 2 - size), size);
    x += size + Math.round(size / 3) + (i % 2 === 1 ? Math.round(size / 2) : 0);
  }
  return data;
}
