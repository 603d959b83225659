import type { Page } from 'playwright-core';

export type Rgb = [number, number, number];

/** Chromium flags for a console that reaches a test agent on loopback only (ENVIRONMENT.md, WebRTC). */
export const loopbackWebRtcArgs = ['--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

/**
 * Chromium hides its own addresses behind mDNS names unless the page may use
 * media devices; the test agent accepts loopback candidates only, so tests
 * let the console page open a (fake) camera once. The console never asks.
 */
export async function allowLoopbackCandidates(page: Page): Promise<void> {
  await page.context().grantPermissions(['camera', 'microphone']);
  await page.evaluate(() => navigator.mediaDevices.getUserMedia({ video: true }).then((stream) => stream.getTracks().forEach((track) => track.stop())));
}

/** An init script that keeps every RTCPeerConnection the console makes in `window.roomlinkPcs`, to read their stats. A string: the test runner's transform would add helpers the page lacks. */
export const keepPeerConnections = `(() => {
  const Native = window.RTCPeerConnection;
  window.roomlinkPcs = [];
  window.RTCPeerConnection = function (...args) { const pc = new Native(...args); window.roomlinkPcs.push(pc); return pc; };
  window.RTCPeerConnection.prototype = Native.prototype;
})()`;

/** The DTLS role of the newest peer connection's transport, as Chromium reports it (needs `keepPeerConnections`). */
export const dtlsRole = (page: Page) =>
  page.evaluate<string | undefined>(`(async () => { let role; (await window.roomlinkPcs.at(-1).getStats()).forEach((r) => { if (r.type === 'transport') role = r.dtlsRole; }); return role; })()`);

/** Opens a room's Remote Access tab and starts a session, as a technician clicks it. */
export async function startSessionThroughUi(page: Page, roomName: string): Promise<void> {
  await page.locator(`[data-room="${roomName}"]`).click();
  const details = page.getByRole('complementary', { name: `Room ${roomName}` });
  await details.getByRole('tab', { name: 'Remote Access' }).click();
  await details.getByRole('button', { name: 'Start session' }).click();
}

export const sessionPhase = (page: Page) => page.getByTestId('session-phase').getAttribute('data-phase');

/** Waits for the session window to go live; if the session ends instead, fails with what the console says. */
export async function waitLive(page: Page, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const phase = await sessionPhase(page);
    if (phase === 'live') return;
    if (phase === 'ended') throw new Error(`the session ended instead of going live: ${await page.getByTestId('session-ended').textContent()}`);
    await page.waitForTimeout(50);
  }
  throw new Error(`the session did not go live within ${timeoutMs} ms (phase ${await sessionPhase(page)})`);
}

/** The colour of the room's picture, as the console drew it, at a point given as fractions of its size. */
export function picturePixel(page: Page, x: number, y: number): Promise<Rgb> {
  return page.getByTestId('remote-picture').evaluate(
    (canvas: HTMLCanvasElement, [fx, fy]) => {
      const [r, g, b] = canvas.getContext('2d')!.getImageData(Math.floor(canvas.width * fx!), Math.floor(canvas.height * fy!), 1, 1).data;
      return [r!, g!, b!] as Rgb;
    },
    [x, y],
  );
}

/** Photographic regions and video are lossy until they settle: colours match within a tolerance. */
export const near = (actual: Rgb, expected: Rgb, tolerance = 40) => actual.every((v, i) => Math.abs(v - expected[i]!) < tolerance);
export const isRed = ([r, g, b]: Rgb) => r > 180 && g < 70 && b < 70;

const shiftedDigits: Record<string, string> = { '!': 'Digit1', '@': 'Digit2', '#': 'Digit3', $: 'Digit4', '%': 'Digit5', '^': 'Digit6', '&': 'Digit7', '*': 'Digit8', '(': 'Digit9', ')': 'Digit0' };
const plainKeys: Record<string, string> = { ' ': 'Space', ',': 'Comma', '.': 'Period', '-': 'Minus', '/': 'Slash' };

/**
 * Types text the way a person does on a US layout: physical keys, with Shift
 * held for capitals and symbols. (Playwright's `type` sends characters
 * without Shift, which no keyboard does.) Returns the key events sent.
 */
export async function typeLikeAPerson(page: Page, text: string): Promise<number> {
  let events = 0;
  for (const char of text) {
    const code = shiftedDigits[char] ?? plainKeys[char] ?? (/[a-z]/i.test(char) ? `Key${char.toUpperCase()}` : /\d/.test(char) ? `Digit${char}` : null);
    if (!code) throw new Error(`no key for ${JSON.stringify(char)}`);
    const shift = char in shiftedDigits || (char !== char.toLowerCase());
    await page.keyboard.press(shift ? `Shift+${code}` : code);
    events += shift ? 4 : 2;
  }
  return events;
}

/** Ends the live session as a technician does: End session, then the confirmation when the room would restart. */
export async function endSessionThroughUi(page: Page): Promise<void> {
  await page.locator('.session-bar').getByRole('button', { name: 'End session' }).click();
  const confirm = page.getByRole('dialog', { name: 'End the session?' });
  if (await confirm.count()) await confirm.getByRole('button', { name: 'End session' }).click();
}
