import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditPage, Room } from '@roomlink/shared';
import { Monitor } from 'node-screenshots';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startXorg, type XServer } from '../../apps/room-agent/test/support/xorg';
import { ADMIN, sessionConsolePage, signInThroughUi, startConsoleSystem, TECH, VIEWER, type ConsoleSystem } from '../support/console-system';
import { isRed, waitLive, near, startSessionThroughUi, typeLikeAPerson, picturePixel, type Rgb, endSessionThroughUi } from '../support/session-ui';
import { startTargetApp, type TargetApp } from '../support/target-app';

/**
 * The whole system on a three-monitor room: Xorg with the dummy driver, the
 * local provider, the server, a real agent on x11, the console's browser host
 * and Chromium, each scenario clicked through the console as a person would.
 */

const shots = 'test-results/e2e';
let xserver: XServer;
let system: ConsoleSystem;
let target: TargetApp;
let page: Page;
let closeBrowser: () => Promise<void>;
let dir: string;
let fjord: Room;
const restartMarker = () => join(dir, 'restarted');
let roomStateFile: string;

function setInCall(inCall: boolean): void {
  writeFileSync(`${roomStateFile}.tmp`, JSON.stringify({ inCall }));
  renameSync(`${roomStateFile}.tmp`, roomStateFile);
}

/** The ring as anyone in the room sees it: the middle of each edge of every monitor, read from the X server. */
async function ringPixels(): Promise<Rgb[]> {
  const pixels: Rgb[] = [];
  for (const monitor of Monitor.all()) {
    const image = await monitor.captureImage();
    const raw = await image.toRaw();
    const at = (x: number, y: number): Rgb => {
      const i = (Math.floor(y) * image.width + Math.floor(x)) * 4;
      return [raw[i]!, raw[i + 1]!, raw[i + 2]!];
    };
    pixels.push(at(image.width / 2, 4), at(image.width / 2, image.height - 5), at(4, image.height / 2), at(image.width - 5, image.height / 2));
  }
  return pixels;
}
const ringUp = async () => (await ringPixels()).every(isRed);
const ringDown = async () => !(await ringPixels()).some(isRed);

async function endedMessage(): Promise<string> {
  await expect.poll(() => page.getByTestId('session-ended').count(), { timeout: 15_000 }).toBe(1);
  return (await page.getByTestId('session-ended').textContent()) ?? '';
}
async function closeSessionWindow(): Promise<void> {
  await page.getByRole('button', { name: 'Close', exact: true }).click();
}
/** A room's row after asking for fresh rooms, as a technician presses Refresh. */
async function roomRow(name: string): Promise<string> {
  await page.getByRole('button', { name: 'Refresh' }).click();
  return (await page.locator(`[data-room="${name}"]`).textContent()) ?? '';
}
/** Where the X pointer is, as the X server says. */
function xPointer(): { x: number; y: number } {
  const shell = execFileSync('xdotool', ['getmouselocation', '--shell'], { env: { ...process.env, DISPLAY: xserver.display } }).toString();
  return { x: Number(/X=(\d+)/.exec(shell)![1]), y: Number(/Y=(\d+)/.exec(shell)![1]) };
}
/** The page point over a fraction of the room's picture (drawn scaled to fit, centred). */
async function overPicture(fx: number, fy: number): Promise<{ x: number; y: number }> {
  return page.getByTestId('remote-picture').evaluate(
    (canvas: HTMLCanvasElement, [x, y]) => {
      const box = canvas.getBoundingClientRect();
      const scale = Math.min(box.width / canvas.width, box.height / canvas.height);
      return { x: box.left + (box.width - canvas.width * scale) / 2 + x! * canvas.width * scale, y: box.top + (box.height - canvas.height * scale) / 2 + y! * canvas.height * scale };
    },
    [fx, fy],
  );
}
async function lastAudit(type: string) {
  return (await system.api<AuditPage>(ADMIN, 'GET', `/api/audit?type=${type}&limit=1`)).records[0]!;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roomlink-e2e-'));
  xserver = await startXorg();
  system = await startConsoleSystem();
  fjord = system.tenant.rooms.find((r) => r.name === 'Fjord')!;
  const oslo = system.tenant.locations.find((l) => l.name === 'Oslo HQ')!;
  await system.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'it-lead@contoso.test' });
  await system.api(ADMIN, 'POST', '/api/roles', { name: 'Oslo technicians', permissions: ['rooms.read', 'remoteAccess.modify'], assignments: [{ groups: ['room-technicians'], locations: [oslo.id] }] });
  await system.api(ADMIN, 'POST', '/api/roles', { name: 'Fjord observers', permissions: ['rooms.read', 'remoteAccess.view'], assignments: [{ groups: ['room-observers'], rooms: [fjord.id] }] });

  ({ roomStateFile } = await system.roomAgent(fjord, { platform: 'x11', display: xserver.display, restartCommand: `touch ${restartMarker()}`, graceMs: 1500 }));
  target = await startTargetApp(xserver.display, xserver.monitors[2]!);

  ({ page, close: closeBrowser } = await sessionConsolePage(system, 'technician', TECH));
  await page.locator('[data-room="Fjord"] .health', { hasText: 'Healthy' }).waitFor({ timeout: 15_000 });
}, 90_000);

afterAll(async () => {
  await closeBrowser?.();
  await target?.close();
  await system?.close();
  await xserver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a technician in a three-monitor room', () => {
  it('sees the console display, switches to Front of Room 2, types into the app there, and leaves an audit record', async () => {
    await startSessionThroughUi(page, 'Fjord');
    await waitLive(page);
    expect(await page.getByTestId('session-level').textContent()).toBe('MODIFY');
    // Rule 8 on every monitor, read from the X server; the console display's own video shows the ring too.
    await expect.poll(ringUp, { timeout: 5_000 }).toBe(true);
    await expect.poll(() => picturePixel(page, 0.002, 0.5).then(isRed), { timeout: 10_000 }).toBe(true);
    await page.screenshot({ path: `${shots}/01-console-display.png` });

    const displays = page.getByRole('group', { name: 'Displays' });
    await displays.getByRole('button', { name: 'Front of Room 2' }).click();
    const before = await target.colour();
    await expect.poll(() => picturePixel(page, 0.5, 0.9).then((p) => near(p, before)), { timeout: 10_000 }).toBe(true);

    target.focus();
    await page.getByTestId('remote-picture').click();
    const text = 'Hello, Room 4! @#';
    const keyEvents = await typeLikeAPerson(page, text);
    await expect.poll(() => target.text(), { timeout: 10_000 }).toBe(text);
    const after = await target.colour();
    expect(after).not.toEqual(before);
    await expect.poll(() => picturePixel(page, 0.5, 0.9).then((p) => near(p, after)), { timeout: 10_000 }).toBe(true);
    await page.screenshot({ path: `${shots}/02-front-of-room-2-typed.png` });

    await endSessionThroughUi(page);
    expect(await endedMessage()).toBe('Session ended. The session was ended by the technician. The room restarts now.');
    await expect.poll(ringDown, { timeout: 5_000 }).toBe(true);
    await closeSessionWindow();

    await expect.poll(() => lastAudit('session.ended').then((r) => r.roomName), { timeout: 10_000 }).toBe('Fjord');
    const ended = await lastAudit('session.ended');
    expect(ended).toMatchObject({ actorName: 'Tomas Technician', roomName: 'Fjord' });
    expect(ended.data).toMatchObject({ level: 'modify', reason: 'user_ended', consoleDevice: { name: 'test technician' }, input: { accepted: keyEvents, dropped: 0 }, restarted: true });
    expect(ended.data.durationMs).toBeGreaterThan(0);
    // Restart after session is on by default (rule 11).
    await expect.poll(() => existsSync(restartMarker()), { timeout: 5_000 }).toBe(true);
    rmSync(restartMarker());
  });

  it('turns restart after session off for one session only', async () => {
    const previous = (await lastAudit('session.ended')).seq;
    await startSessionThroughUi(page, 'Fjord');
    await waitLive(page);
    const toggle = page.getByLabel('Restart after session');
    expect(await toggle.isChecked()).toBe(true);
    await toggle.uncheck();
    await endSessionThroughUi(page);
    await endedMessage();
    await closeSessionWindow();
    await expect.poll(() => lastAudit('session.ended').then((r) => r.seq), { timeout: 10_000 }).toBeGreaterThan(previous);
    expect(existsSync(restartMarker())).toBe(false);

    await startSessionThroughUi(page, 'Fjord');
    await waitLive(page);
    await expect.poll(() => page.getByLabel('Restart after session').isChecked()).toBe(true);
    await endSessionThroughUi(page);
    await endedMessage();
    await closeSessionWindow();
    await expect.poll(() => existsSync(restartMarker()), { timeout: 5_000 }).toBe(true);
    rmSync(restartMarker());
  });

  it('with pointer control on, drives the X pointer on the shown display with the mouse, and the audit counts it beside the keys', async () => {
    await system.api(ADMIN, 'PUT', '/api/settings/pointer-control', { enabled: true });
    await startSessionThroughUi(page, 'Fjord');
    await waitLive(page);
    await page.getByRole('group', { name: 'Displays' }).getByRole('button', { name: 'Front of Room 2' }).click();
    await expect.poll(() => page.getByTestId('remote-picture').getAttribute('data-pointer')).toBe('true');
    await expect.poll(() => page.getByTestId('switching').count(), { timeout: 10_000 }).toBe(0);
    const monitor = xserver.monitors[2]!;
    for (const [fx, fy] of [
      [0.25, 0.5],
      [0.75, 0.2],
    ] as const) {
      const at = await overPicture(fx, fy);
      await page.mouse.move(at.x, at.y);
      await expect.poll(xPointer, { timeout: 5_000 }).toEqual({ x: expect.closeTo(monitor.x + fx * monitor.width, -1) as number, y: expect.closeTo(monitor.y + fy * monitor.height, -1) as number });
    }
    await page.mouse.down();
    await page.mouse.up();
    await endSessionThroughUi(page);
    await endedMessage();
    await closeSessionWindow();
    await expect.poll(() => lastAudit('session.ended').then((r) => (r.data.input as { pointer?: { accepted: number } } | null)?.pointer?.accepted ?? 0), { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
    await system.api(ADMIN, 'PUT', '/api/settings/pointer-control', { enabled: false });
    await expect.poll(() => existsSync(restartMarker()), { timeout: 5_000 }).toBe(true);
    rmSync(restartMarker());
  });

  it('answers a start that races a call with a short refusal instead of an empty session window', async () => {
    // A console whose pushed room states are held back: its list still says the room is free when the call has begun,
    // as any console's does for the moment the push is on its way.
    const { web } = await system.console('racing');
    const racing = await (await system.chromium()).newPage();
    await racing.routeWebSocket(/\/api$/, (ws) => {
      const server = ws.connectToServer();
      server.onMessage((message) => {
        if (!String(message).includes('room.state')) ws.send(message);
      });
      ws.onMessage((message) => server.send(message));
    });
    await racing.goto(web.url);
    await signInThroughUi(racing, TECH);
    await racing.locator('[data-room="Fjord"]').click();
    const details = racing.getByRole('complementary', { name: 'Room Fjord' });
    await details.getByRole('tab', { name: 'Remote Access' }).click();
    setInCall(true);
    await expect.poll(() => system.api<Room>(TECH, 'GET', `/api/rooms/${fjord.id}`).then((r) => r.inCall), { timeout: 10_000 }).toBe(true);
    expect(await details.getByRole('button', { name: 'Start session' }).isEnabled()).toBe(true);
    await details.getByRole('button', { name: 'Start session' }).click();
    await expect.poll(() => racing.getByTestId('session-ended').count(), { timeout: 15_000 }).toBe(1);
    expect(await racing.getByTestId('session-ended').textContent()).toBe('The session did not start. The room is in a call. Try again when the call has ended.');
    expect(await racing.locator('.session-window.not-started').count()).toBe(1);
    await racing.getByRole('button', { name: 'Close', exact: true }).click();
    // The refusal itself brings the list up to date.
    await expect.poll(() => racing.locator('[data-room="Fjord"]').textContent(), { timeout: 5_000 }).toContain('In a call');
    await racing.close();
    // The console that hears pushes knew at once.
    await expect.poll(() => page.locator('[data-room="Fjord"]').textContent(), { timeout: 5_000 }).toContain('In a call');
    setInCall(false);
    await expect.poll(() => page.locator('[data-room="Fjord"]').textContent(), { timeout: 5_000 }).not.toContain('In a call');
  });

  it('is refused while the room is in a call, and a call that starts mid-session ends it and says why', async () => {
    setInCall(true);
    await expect.poll(() => roomRow('Fjord'), { timeout: 10_000 }).toContain('In a call');
    await page.locator('[data-room="Fjord"]').click();
    const details = page.getByRole('complementary', { name: 'Room Fjord' });
    await details.getByRole('tab', { name: 'Remote Access' }).click();
    await expect.poll(() => details.getByRole('status').textContent()).toBe('The room is in a call. A session can start when the call has ended.');
    expect(await details.getByRole('button', { name: 'Start session' }).isDisabled()).toBe(true);

    setInCall(false);
    await expect.poll(() => roomRow('Fjord'), { timeout: 10_000 }).not.toContain('In a call');
    await startSessionThroughUi(page, 'Fjord');
    await waitLive(page);
    await expect.poll(ringUp, { timeout: 5_000 }).toBe(true);
    setInCall(true);
    expect(await endedMessage()).toBe('Session ended. A call started in the room, so the session ended.');
    await expect.poll(ringDown, { timeout: 5_000 }).toBe(true);
    await page.screenshot({ path: `${shots}/03-call-started.png` });
    await closeSessionWindow();
    await expect.poll(() => lastAudit('session.ended').then((r) => r.data.reason), { timeout: 10_000 }).toBe('call_started');
    expect(existsSync(restartMarker())).toBe(false);
    setInCall(false);
    await expect.poll(() => roomRow('Fjord'), { timeout: 10_000 }).not.toContain('In a call');
  });
});

describe('access that changes mid-session (rule 14)', () => {
  it('stops the keys at the X display when the role drops to view, and ends the session when remote access is turned off', async () => {
    const role = (await system.api<{ id: string; name: string; assignments: object[] }[]>(ADMIN, 'GET', '/api/roles')).find((r) => r.name === 'Oslo technicians')!;
    const oslo = system.tenant.locations.find((l) => l.name === 'Oslo HQ')!;
    const body = (permission: string) => ({ name: role.name, permissions: ['rooms.read', permission], assignments: [{ groups: ['room-technicians'], locations: [oslo.id] }] });
    await startSessionThroughUi(page, 'Fjord');
    await waitLive(page);
    target.focus();
    await page.getByTestId('remote-picture').click();
    const before = await target.text();
    await page.keyboard.type('ok');
    await expect.poll(() => target.text(), { timeout: 10_000 }).toBe(`${before}ok`);

    await system.api(ADMIN, 'PUT', `/api/roles/${role.id}`, body('remoteAccess.view'));
    await expect.poll(() => page.getByTestId('session-level').textContent(), { timeout: 5_000 }).toBe('VIEW');
    await page.getByTestId('remote-picture').click();
    await page.keyboard.type('no');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await target.text()).toBe(`${before}ok`);

    await system.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: false });
    expect(await endedMessage()).toBe('Session ended. Your access to this room was removed, so the session ended. The room restarts now.');
    await expect.poll(ringDown, { timeout: 5_000 }).toBe(true);
    await closeSessionWindow();
    await expect.poll(() => lastAudit('session.ended').then((r) => r.data.reason), { timeout: 10_000 }).toBe('access_revoked');
    expect((await lastAudit('session.lowered')).roomName).toBe('Fjord');

    await system.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'it-lead@contoso.test' });
    await system.api(ADMIN, 'PUT', `/api/roles/${role.id}`, body('remoteAccess.modify'));
    await expect.poll(() => existsSync(restartMarker()), { timeout: 5_000 }).toBe(true);
    rmSync(restartMarker());
  });
});

describe('a viewer in the same room', () => {
  it('gets a VIEW session without shortcut commands, and no key or pointer move reaches the X display, pointer control on or not', async () => {
    await system.api(ADMIN, 'PUT', '/api/settings/pointer-control', { enabled: true });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInThroughUi(page, VIEWER);
    const typedBefore = await target.text();
    await startSessionThroughUi(page, 'Fjord');
    await waitLive(page);
    expect(await page.getByTestId('session-level').textContent()).toBe('VIEW');
    expect(await page.getByLabel('Shortcut commands').count()).toBe(0);
    expect(await page.getByTestId('remote-picture').getAttribute('data-pointer')).toBe('false');
    target.focus();
    const pointerBefore = xPointer();
    for (const [fx, fy] of [
      [0.1, 0.1],
      [0.6, 0.7],
    ] as const) {
      const at = await overPicture(fx, fy);
      await page.mouse.move(at.x, at.y);
    }
    await page.getByTestId('remote-picture').click();
    await page.keyboard.type('not allowed');
    await page.screenshot({ path: `${shots}/04-view-session.png` });
    await endSessionThroughUi(page);
    await endedMessage();
    await closeSessionWindow();
    expect(await target.text()).toBe(typedBefore);
    expect(xPointer()).toEqual(pointerBefore);
    await expect.poll(() => lastAudit('session.ended').then((r) => r.data.level), { timeout: 10_000 }).toBe('view');
    expect((await lastAudit('session.ended')).data).toMatchObject({ input: { accepted: 0, pointer: { accepted: 0 } } });
    await system.api(ADMIN, 'PUT', '/api/settings/pointer-control', { enabled: false });
    rmSync(restartMarker(), { force: true });
  });
});

describe('losing the server', () => {
  it('ends the session after the grace period: the ring comes down and the console says why', async () => {
    await startSessionThroughUi(page, 'Fjord');
    await waitLive(page);
    await expect.poll(ringUp, { timeout: 5_000 }).toBe(true);
    await system.server.close();
    expect(await endedMessage()).toBe('Session ended. The connection to the service was lost. The room restarts now.');
    await expect.poll(ringDown, { timeout: 5_000 }).toBe(true);
    await page.screenshot({ path: `${shots}/05-server-lost.png` });
  });
});
