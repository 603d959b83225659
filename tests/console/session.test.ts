import type { AuditPage } from '@roomlink/shared';
import type { RoomAgent } from '../../apps/room-agent/src/core/agent';
import type { RecordingDevice } from '../../apps/room-agent/src/platform/synthetic/index';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dtlsRole, keepPeerConnections, near, startSessionThroughUi, picturePixel, waitLive, endSessionThroughUi } from '../support/session-ui';
import { ADMIN, sessionConsolePage, signInThroughUi, startConsoleSystem, TECH, VIEWER, type ConsoleSystem } from '../support/console-system';

let system: ConsoleSystem;
let page: Page;
let closeBrowser: () => Promise<void>;
let room: RoomAgent;

/** The newest session end in the audit, once the room has reported it (it arrives just after the console's end). */
async function lastSessionEnd(level: 'view' | 'modify') {
  const newest = () => system.api<AuditPage>(ADMIN, 'GET', '/api/audit?type=session.ended&limit=1').then((audit) => audit.records[0]);
  await expect.poll(() => newest().then((record) => record?.data.level), { timeout: 10_000 }).toBe(level);
  return (await newest())!;
}

beforeAll(async () => {
  system = await startConsoleSystem();
  const oslo = system.tenant.locations.find((l) => l.name === 'Oslo HQ')!;
  await system.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'it-lead@contoso.test' });
  const fjord = system.tenant.rooms.find((r) => r.name === 'Fjord')!;
  await system.api(ADMIN, 'POST', '/api/roles', { name: 'Fjord observers', permissions: ['rooms.read', 'remoteAccess.view'], assignments: [{ groups: ['room-observers'], rooms: [fjord.id] }] });
  await system.api(ADMIN, 'POST', '/api/roles', { name: 'Oslo technicians', permissions: ['rooms.read', 'remoteAccess.modify', 'remoteAccess.view'], assignments: [{ groups: ['room-technicians'], locations: [oslo.id] }] });
  ({ agent: room } = await system.roomAgent(fjord, { platform: 'synthetic' }));
  ({ page, close: closeBrowser } = await sessionConsolePage(system, 'tech', TECH, [keepPeerConnections]));
});
afterAll(async () => {
  await closeBrowser?.();
  await system?.close();
});

describe('session window', () => {
  it('connects to a live room, switches displays, sends keys and ends with the reason shown', async () => {
    await expect.poll(() => page.locator('[data-room="Fjord"] .health').textContent(), { timeout: 10_000 }).not.toBe('Offline');
    await startSessionThroughUi(page, 'Fjord');

    await waitLive(page);
    expect(await page.getByTestId('session-level').textContent()).toBe('MODIFY');
    // The console answers as the DTLS server, so the room starts the handshake (answerAsDtlsServer).
    expect(await dtlsRole(page)).toBe('server');
    const displays = page.getByRole('group', { name: 'Displays' });
    await expect.poll(() => displays.getByRole('button').allTextContents()).toEqual(['Console', 'Front of Room 1', 'Front of Room 2']);
    await expect.poll(() => picturePixel(page, 0.02, 0.98).then((p) => near(p, [30, 60, 160])), { timeout: 10_000 }).toBe(true);
    await page.screenshot({ path: 'test-results/console/06-session-live.png' });

    // The old picture stays up while the new display's first picture is on its way: the window says it is switching.
    await page.evaluate(`window.roomlinkSawSwitching = [];
      new MutationObserver(() => { const notice = document.querySelector('[data-testid=switching]'); if (notice) window.roomlinkSawSwitching.push(notice.textContent); }).observe(document.body, { childList: true, subtree: true, characterData: true });`);
    await displays.getByRole('button', { name: 'Front of Room 2' }).click();
    await expect.poll(() => picturePixel(page, 0.02, 0.98).then((p) => near(p, [200, 110, 20])), { timeout: 10_000 }).toBe(true);
    expect(await displays.getByRole('button', { name: 'Front of Room 2' }).getAttribute('aria-pressed')).toBe('true');
    expect(await page.evaluate('window.roomlinkSawSwitching[0]')).toBe('Switching to Front of Room 2…');
    await expect.poll(() => page.getByTestId('switching').count()).toBe(0);
    // Every toolbar action hands the keyboard back to the picture.
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName);
    expect(await focused()).toBe('remote-picture');
    await page.getByLabel('Restart after session').uncheck();
    expect(await focused()).toBe('remote-picture');
    await page.getByLabel('Restart after session').check();

    // On a 1280x720 laptop the whole window fits: typing into the picture never scrolls End session away.
    const viewport = page.viewportSize();
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.getByTestId('remote-picture').click();
    for (const part of [page.getByTestId('remote-picture'), page.getByRole('button', { name: 'End session' })]) {
      const box = (await part.boundingBox())!;
      expect(box.y).toBeGreaterThanOrEqual(0);
      expect(box.y + box.height).toBeLessThanOrEqual(720);
    }
    if (viewport) await page.setViewportSize(viewport);
    await page.getByTestId('remote-picture').click();
    await page.keyboard.type('Hi!');
    expect(await page.getByLabel('Shortcut commands').isVisible()).toBe(true);

    // Esc with focus on the toolbar asks first; it never ends the session (and restarts the room) by itself.
    await displays.getByRole('button', { name: 'Front of Room 2' }).focus();
    await page.keyboard.press('Escape');
    const confirm = page.getByRole('dialog', { name: 'End the session?' });
    await expect.poll(() => confirm.textContent()).toContain('Your view of Fjord closes, and the room restarts.');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await confirm.count()).toBe(0);
    expect(await page.getByTestId('session-ended').count()).toBe(0);

    await endSessionThroughUi(page);
    await expect.poll(() => page.getByTestId('session-ended').textContent()).toBe('Session ended. The session was ended by the technician. The room restarts now.');
    await page.screenshot({ path: 'test-results/console/07-session-ended.png' });

    const ended = await lastSessionEnd('modify');
    expect(ended.roomName).toBe('Fjord');
    expect(ended.data).toMatchObject({ reason: 'user_ended', level: 'modify', input: { dropped: 0 } });
    // H, i and ! (Shift+Digit1): three keys, each down and up; the Shift state rides along as a modifier.
    expect(ended.data.input).toEqual({ accepted: 6, dropped: 0, pointer: { accepted: 0, dropped: 0 } });
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await expect.poll(() => page.getByTestId('session-phase').count()).toBe(0);
  });

  it('gives a viewer a VIEW session: no shortcut commands, and the console sends no keys', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInThroughUi(page, VIEWER);
    await page.locator('[data-room="Fjord"]').click();
    const details = page.getByRole('complementary', { name: 'Room Fjord' });
    await details.getByRole('tab', { name: 'Remote Access' }).click();
    await expect.poll(() => details.textContent()).toContain('View — see the displays only');
    await details.getByRole('button', { name: 'Start session' }).click();
    await waitLive(page);
    expect(await page.getByTestId('session-level').textContent()).toBe('VIEW');
    expect(await page.getByLabel('Shortcut commands').count()).toBe(0);
    await page.getByTestId('remote-picture').click();
    await page.keyboard.type('typed in a view session');
    await page.screenshot({ path: 'test-results/console/08-view-session.png' });
    await endSessionThroughUi(page);
    await expect.poll(() => page.getByTestId('session-ended').textContent()).toContain('ended by the technician');

    expect((await lastSessionEnd('view')).data).toMatchObject({ level: 'view', reason: 'user_ended', input: { accepted: 0, dropped: 0 } });

    // The room restarts after the session: the window follows it down and back up.
    const roomReturn = page.getByTestId('room-return');
    expect(await roomReturn.textContent()).toBe('Waiting for Fjord to restart…');
    await room.stop();
    await expect.poll(() => roomReturn.getAttribute('data-state'), { timeout: 10_000 }).toBe('down');
    expect(await roomReturn.textContent()).toBe('Fjord is offline while it restarts…');
    ({ agent: room } = await system.roomAgent(system.tenant.rooms.find((r) => r.name === 'Fjord')!, { platform: 'synthetic' }));
    await expect.poll(() => roomReturn.textContent(), { timeout: 10_000 }).toBe('Fjord is back online.');
  });

  it('lets an administrator restart the room from its details, after a confirmation, and audits it', async () => {
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInThroughUi(page, ADMIN);
    await page.locator('[data-room="Fjord"]').click();
    const details = page.getByRole('complementary', { name: 'Room Fjord' });
    const device = room.platform.device as RecordingDevice;
    // The sessions above each restarted the room when they ended (restart after session is on).
    const restartsBefore = device.restarts;
    await details.getByRole('button', { name: 'Restart device' }).click();
    await page.getByRole('dialog', { name: 'Restart Fjord?' }).getByRole('button', { name: 'Restart device' }).click();
    await expect.poll(() => details.getByTestId('room-return').textContent()).toBe('Waiting for Fjord to restart…');
    await expect.poll(() => device.restarts).toBe(restartsBefore + 1);
    const audit = await system.api<AuditPage>(ADMIN, 'GET', '/api/audit?type=room.restartRequested&limit=1');
    expect(audit.records[0]).toMatchObject({ roomName: 'Fjord', actorName: 'Adele Admin' });

    // The audit view names the technician's console beside each session.
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('tab', { name: 'General' }).click();
    await page.getByLabel('Event type').selectOption('session.ended');
    await expect.poll(() => page.locator('tr[data-type="session.ended"]').count()).toBe(2);
    const header = await page.locator('table.audit th').allTextContents();
    const deviceColumn = header.indexOf('Device') + 1;
    expect(await page.locator(`tr[data-type="session.ended"] td:nth-child(${deviceColumn})`).allTextContents()).toEqual(['test tech', 'test tech']);
  });
});
