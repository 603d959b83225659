import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import type { RemoteAccessSettings, RoleView } from '@roomlink/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enroll as enrollAgent } from '../../apps/room-agent/src/core/identity';
import { ADMIN, signInThroughUi, startConsoleSystem, TECH, VIEWER, type ConsoleSystem } from '../support/console-system';

const shots = 'test-results/console';
let system: ConsoleSystem;
let admin: Page;

async function consolePage(name: string, username: string): Promise<Page> {
  const { web } = await system.console(name);
  const page = await (await system.chromium()).newPage();
  await page.goto(web.url);
  await signInThroughUi(page, username);
  return page;
}
const shoot = (page: Page, name: string) => page.screenshot({ path: `${shots}/${name}.png` });

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  system = await startConsoleSystem();
  admin = await consolePage('admin', ADMIN);
});
afterAll(() => system.close());

describe('console UI in Chromium, against the browser host', () => {
  it('shows who is signed in and lists the rooms, with search, filters and sort', async () => {
    await expect.poll(() => admin.getByTestId('who').textContent()).toContain('Adele Admin · admin@contoso.test · tenant contoso');
    const count = admin.getByTestId('room-count');
    await expect.poll(() => count.textContent()).toBe('12 rooms');
    await expect.poll(() => admin.getByTestId('connection').textContent()).toBe('Connected');
    await shoot(admin, '01-rooms');

    await admin.keyboard.press('/');
    await admin.keyboard.type('fjo');
    await expect.poll(() => count.textContent()).toBe('1 of 12 rooms');
    await expect.poll(() => admin.locator('.room-row .name').allTextContents()).toEqual(['Fjord']);
    await admin.getByRole('button', { name: 'Clear' }).click();

    await admin.getByLabel('Location').selectOption({ label: 'Norway › Bergen Office' });
    await expect.poll(() => count.textContent()).toBe('5 of 12 rooms');
    await admin.getByLabel('Tag').selectOption('huddle');
    const bergenHuddles = system.tenant.rooms
      .filter((r) => r.locationPath.some((l) => l.name === 'Bergen Office') && r.tags.includes('huddle'))
      .map((r) => r.name)
      .sort();
    expect(bergenHuddles.length).toBeGreaterThan(1);
    await expect.poll(() => admin.locator('.room-row .name').allTextContents()).toEqual(bergenHuddles);
    await admin.getByLabel('Sort by').selectOption('name:desc');
    await expect.poll(() => admin.locator('.room-row .name').allTextContents()).toEqual([...bergenHuddles].reverse());
    await admin.getByLabel('Health').selectOption('healthy');
    await expect.poll(() => count.textContent()).toBe('0 of 12 rooms');
    await admin.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => count.textContent()).toBe('12 rooms');
  });

  it('hides the Remote Access tab while nobody has a remote-access role', async () => {
    await admin.locator('[data-room="Fjord"]').click();
    const details = admin.getByRole('complementary', { name: 'Room Fjord' });
    await expect.poll(() => details.getByRole('tab').allTextContents()).toEqual(['Overview', 'Health', 'Incidents']);
    await expect.poll(() => details.textContent()).toContain('Oslo HQ');
    await details.getByRole('tab', { name: 'Health' }).click();
    await expect.poll(() => details.textContent()).toContain("the room's agent has not reported yet");
    await admin.keyboard.press('Escape');
    expect(await admin.locator('.room-row .badge').count()).toBe(0);
    expect(await admin.getByTestId('remote-access-off').textContent()).toBe('Remote access is turned off for your organization: no session can start. It has never been turned on: ask your Roomlink administrator to turn it on in Settings › Remote Access.');
  });

  it('turns remote access on with the acknowledging email, after a confirmation', async () => {
    await admin.getByRole('button', { name: 'Settings' }).click();
    const state = admin.getByTestId('remote-access-state');
    await expect.poll(() => state.textContent()).toContain('Remote access is off');
    await admin.getByLabel("Acknowledging administrator's email").fill('it-lead@contoso.test');
    await admin.getByRole('button', { name: 'Enable remote access' }).click();
    const dialog = admin.getByRole('dialog', { name: 'Enable remote access?' });
    await expect.poll(() => dialog.textContent()).toContain('it-lead@contoso.test');
    await shoot(admin, '02-enable-remote-access');
    await dialog.getByRole('button', { name: 'Enable' }).click();
    await expect.poll(() => state.textContent()).toMatch(/Remote access is on.*Enabled by Adele Admin.*acknowledged by it-lead@contoso.test/);
    expect(await system.api<RemoteAccessSettings>(ADMIN, 'GET', '/api/settings/remote-access')).toMatchObject({ enabled: true, acknowledgedBy: 'it-lead@contoso.test' });
  });

  it('creates a custom role with Modify for the technicians of one building through the wizard', async () => {
    await admin.getByRole('tab', { name: 'Roles' }).click();
    await expect.poll(() => admin.locator('tr[data-role]').count()).toBeGreaterThan(0);
    await admin.getByRole('button', { name: 'New custom role' }).click();
    await admin.getByLabel('Name').fill('Oslo room technicians');
    await admin.getByLabel('Description').fill('Fix the rooms in Oslo HQ');
    await admin.getByRole('button', { name: 'Next' }).click();
    await admin.getByLabel('Remote Access: Modify (keyboard and shortcuts)').check();
    expect(await admin.getByLabel('Remote Access: View').isChecked()).toBe(true);
    await admin.getByRole('button', { name: 'Next' }).click();
    // People are picked from the directory by name or username (here the admin, seen at sign-in), groups typed or picked.
    await admin.getByLabel('Users', { exact: true }).fill('admin@contoso.test');
    await admin.getByLabel('Users', { exact: true }).press('Enter');
    const chosenUsers = admin.getByRole('list', { name: 'Users chosen' });
    await expect.poll(() => chosenUsers.textContent()).toContain('Adele Admin (admin@contoso.test)');
    await chosenUsers.getByRole('button', { name: 'Remove Adele Admin (admin@contoso.test)' }).click();
    await admin.getByLabel('Security groups', { exact: true }).fill('room-technicians');
    await admin.getByRole('button', { name: 'Add to Security groups' }).click();
    await admin.getByRole('group', { name: 'Locations' }).getByLabel('Norway › Oslo HQ', { exact: true }).check();
    await shoot(admin, '03-role-wizard-assignments');
    await admin.getByRole('button', { name: 'Next' }).click();
    const review = admin.getByTestId('role-review');
    await expect.poll(() => review.textContent()).toContain('group room-technicians → Norway › Oslo HQ');
    await admin.getByRole('button', { name: 'Create role' }).click();
    await expect.poll(() => admin.locator('tr[data-role="Oslo room technicians"]').textContent()).toContain('Remote Access: Modify');

    const roles = await system.api<RoleView[]>(ADMIN, 'GET', '/api/roles');
    const role = roles.find((r) => r.name === 'Oslo room technicians')!;
    const oslo = system.tenant.locations.find((l) => l.name === 'Oslo HQ')!;
    expect(role.permissions).toEqual(['rooms.read', 'remoteAccess.view', 'remoteAccess.modify']);
    expect(role.assignments).toMatchObject([{ groups: ['room-technicians'], locations: [oslo.id], users: [], rooms: [], tags: [] }]);
  });

  it('makes the room leads of one building Pro Managers there', async () => {
    await admin.locator('tr[data-role="Pro Manager"]').getByRole('button', { name: 'Assign' }).click();
    await admin.getByRole('button', { name: 'Add Pro Managers' }).click();
    const holder = admin.getByTestId('pro-manager');
    await holder.getByLabel('Security groups', { exact: true }).fill('room-leads');
    await holder.getByLabel('Security groups', { exact: true }).press('Enter');
    await holder.getByLabel('Where').selectOption({ label: 'Norway › Oslo HQ' });
    await admin.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => admin.locator('tr[data-role="Pro Manager"]').textContent()).toContain('1');
    const oslo = system.tenant.locations.find((l) => l.name === 'Oslo HQ')!;
    const proManager = (await system.api<RoleView[]>(ADMIN, 'GET', '/api/roles')).find((r) => r.id === 'pro-manager')!;
    expect(proManager.assignments).toMatchObject([{ groups: ['room-leads'], users: [], locations: [oslo.id] }]);
  });

  it('shows each step in the audit log, exports it as CSV and verifies the chain', async () => {
    await admin.getByRole('tab', { name: 'General' }).click();
    await expect.poll(() => admin.locator('tr[data-type]').first().getAttribute('data-type')).toBe('role.updated');
    const enabled = admin.locator('tr[data-type="remoteAccess.enabled"]');
    expect(await enabled.textContent()).toContain('Remote access turned on');
    expect(await enabled.textContent()).toContain('acknowledged by it-lead@contoso.test');
    expect(await admin.locator('tr[data-type="role.updated"]').first().textContent()).toMatch(/Role changed.*before: Pro Manager: .*; 0 assignment\(s\) · after: Pro Manager: .*; 1 assignment\(s\)/);
    await admin.getByLabel('Event type').selectOption('remoteAccess.enabled');
    await expect.poll(() => admin.locator('tr[data-type]').count()).toBe(1);

    const download = admin.waitForEvent('download');
    await admin.getByRole('button', { name: 'Export CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^roomlink-audit-\d{4}-\d\d-\d\d\.csv$/);
    const csv = readFileSync((await file.path())!, 'utf8');
    expect(csv).toContain('remoteAccess.enabled');
    expect(csv).not.toContain('role.created');

    await admin.getByRole('button', { name: 'Verify chain' }).click();
    await expect.poll(() => admin.getByTestId('audit-verification').textContent()).toMatch(/^Chain intact: \d+ records checked, (sealed through record \d+|none sealed yet)\.$/);
    await shoot(admin, '04-audit');
  });

  it('filters the audit by who did it, by name with Enter, shows one time zone, and exports every matching record, far past one page', async () => {
    // 601 changes by the administrator: more than any page or the old export cap of 500.
    for (let i = 0; i < 601; i += 1) await system.api(ADMIN, 'PUT', '/api/settings/pointer-control', { enabled: i % 2 === 0 });
    await admin.getByLabel('Event type').selectOption('');
    const who = admin.getByLabel('Who');
    await who.fill('adele');
    await who.press('Enter');
    await expect.poll(() => admin.locator('tr[data-type] td:nth-child(3)').allTextContents()).toEqual(Array(50).fill('Adele Admin'));
    const zone = await admin.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(await admin.locator('table.audit th').first().textContent()).toBe(`When (${zone})`);
    await who.fill('nobody at all');
    await who.press('Enter');
    await expect.poll(() => admin.locator('tr[data-type]').count()).toBe(0);
    await who.fill('ADELE');
    await who.press('Enter');

    const download = admin.waitForEvent('download');
    await admin.getByRole('button', { name: 'Export CSV' }).click();
    const csv = readFileSync((await (await download).path())!, 'utf8').trim().split('\r\n');
    const everything = await system.api<{ records: unknown[]; nextBefore: number | null }>(ADMIN, 'GET', '/api/audit?limit=500&actor=adele');
    expect(everything.nextBefore).not.toBeNull();
    expect(csv.length - 1).toBeGreaterThan(601);
    expect(csv.slice(1).every((line) => line.includes('Adele Admin'))).toBe(true);
    await who.fill('');
    await who.press('Enter');
  });

  it('gives the technician the Remote Access tab on the rooms of that building only', async () => {
    // Everyone may see every room; only the custom role above carries remote access.
    const norway = system.tenant.locations.find((l) => l.kind === 'region')!;
    await system.api(ADMIN, 'POST', '/api/roles', { name: 'Room readers', permissions: ['rooms.read'], assignments: [{ groups: ['room-technicians', 'room-observers'], locations: [norway.id] }] });
    const tech = await consolePage('tech', TECH);
    await expect.poll(() => tech.getByTestId('room-count').textContent()).toBe('12 rooms');
    await expect.poll(() => tech.locator('.room-row .badge').count()).toBe(7);
    // Remote access is on by now: no notice saying it is off.
    expect(await tech.getByTestId('remote-access-off').count()).toBe(0);
    await tech.locator('[data-room="Fjord"]').click();
    const fjord = tech.getByRole('complementary', { name: 'Room Fjord' });
    await fjord.getByRole('tab', { name: 'Remote Access' }).click();
    await expect.poll(() => fjord.textContent()).toContain('Modify — view and control the keyboard');
    await expect.poll(() => fjord.getByRole('status').textContent()).toBe('The room is offline: its agent is not connected.');
    expect(await fjord.getByRole('button', { name: 'Start session' }).isDisabled()).toBe(true);
    await shoot(tech, '05-remote-access-tab');

    await tech.locator('[data-room="Bryggen"]').click();
    const bryggen = tech.getByRole('complementary', { name: 'Room Bryggen' });
    await expect.poll(() => bryggen.getByRole('tab').allTextContents()).toEqual(['Overview', 'Health', 'Incidents']);

    await tech.getByRole('button', { name: 'Settings' }).click();
    await expect.poll(() => tech.textContent('body')).toContain('Only administrators can change this setting.');
  });

  it('gives the viewer no Remote Access tab at all, and signs out', async () => {
    const viewer = await consolePage('viewer', VIEWER);
    await expect.poll(() => viewer.getByTestId('room-count').textContent()).toBe('12 rooms');
    expect(await viewer.locator('.room-row .badge').count()).toBe(0);
    await viewer.locator('[data-room="Fjord"]').click();
    await expect.poll(() => viewer.getByRole('complementary', { name: 'Room Fjord' }).getByRole('tab').allTextContents()).toEqual(['Overview', 'Health', 'Incidents']);
    await viewer.getByRole('button', { name: 'Sign out' }).click();
    await viewer.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  it('recovers at once when the sign-in window is closed, or the page is reloaded while it waits', async () => {
    const { web } = await system.console('recovering');
    const page = await (await system.chromium()).newPage();
    await page.goto(web.url);
    const signIn = page.getByRole('button', { name: 'Sign in' });
    let popup = page.context().waitForEvent('page');
    await signIn.click();
    await (await popup).close();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 5_000 }).toContain('Sign-in was cancelled. The sign-in window was closed.');
    expect(await signIn.isEnabled()).toBe(true);

    // A reload loses the window's handle; the next Sign in replaces the waiting one and opens a fresh page.
    popup = page.context().waitForEvent('page');
    await signIn.click();
    const abandoned = await popup;
    await page.reload();
    popup = page.context().waitForEvent('page');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const fresh = await popup;
    expect(fresh).not.toBe(abandoned);
    await fresh.getByRole('button', { name: /viewer@contoso\.test/ }).click();
    await expect.poll(() => page.getByTestId('who').textContent()).toContain('viewer@contoso.test');
  });

  it('adds a floor and a room on it, and gives the code and the command that enroll its PC', async () => {
    await admin.getByRole('button', { name: 'Rooms', exact: true }).click();
    await admin.getByRole('button', { name: 'Add location' }).click();
    const place = admin.getByRole('dialog', { name: 'Add a location' });
    await place.getByLabel('Kind').selectOption('floor');
    await place.getByLabel('Name').fill('Floor 9');
    await place.getByLabel('In which building').selectOption({ label: 'Norway › Oslo HQ' });
    await place.getByRole('button', { name: 'Add location' }).click();
    await expect.poll(() => place.count()).toBe(0);

    await admin.getByRole('button', { name: 'Add room' }).click();
    const form = admin.getByRole('dialog', { name: 'Add a room' });
    await form.getByLabel('Name').fill('Huddle 7');
    await form.getByLabel('Location').selectOption({ label: 'Norway › Oslo HQ › Floor 9' });
    await form.getByLabel('Tags (comma separated)').fill('huddle, new');
    await form.getByRole('button', { name: 'Add room' }).click();
    const enroll = admin.getByRole('dialog', { name: 'Enroll Huddle 7' });
    const code = (await enroll.getByTestId('enrollment-code').textContent())!;
    expect(await enroll.getByTestId('enroll-command').textContent()).toBe(`npm run agent -- enroll --server ${system.server.url} --code ${code}`);
    await admin.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await enroll.getByRole('button', { name: 'Copy command' }).click();
    await expect.poll(() => enroll.getByRole('status').textContent()).toContain('Copied.');
    expect(await admin.evaluate(() => navigator.clipboard.readText())).toBe(`npm run agent -- enroll --server ${system.server.url} --code ${code}`);
    await shoot(admin, '04-add-room');
    await enroll.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => admin.locator('[data-room="Huddle 7"]').count()).toBe(1);

    // The code is real: the agent's own enrollment takes it once.
    const dataDir = mkdtempSync(join(tmpdir(), 'roomlink-enroll-'));
    await enrollAgent({ serverUrl: system.server.url, code, dataDir, platform: 'synthetic', agentVersion: 'test' });
    const rooms = await system.api<{ name: string; enrolled: boolean; locationPath: { name: string }[]; tags: string[] }[]>(ADMIN, 'GET', '/api/rooms');
    expect(rooms.find((r) => r.name === 'Huddle 7')).toMatchObject({ enrolled: true, tags: ['huddle', 'new'], locationPath: [{ name: 'Norway' }, { name: 'Oslo HQ' }, { name: 'Floor 9' }] });

    // A replaced PC needs a fresh code: one click in the room's details.
    await admin.locator('[data-room="Huddle 7"]').click();
    await admin.getByRole('complementary', { name: 'Room Huddle 7' }).getByRole('button', { name: 'Enrollment code' }).click();
    const again = (await admin.getByRole('dialog', { name: 'Enroll Huddle 7' }).getByTestId('enrollment-code').textContent())!;
    expect(again).not.toBe(code);
    await admin.getByRole('dialog', { name: 'Enroll Huddle 7' }).getByRole('button', { name: 'Done' }).click();
  });

  it('edits the room, moves its floor to another building in the location tree, revokes its device, retires it and deletes the empty floor', async () => {
    type Listed = { name: string; enrolled: boolean; locationPath: { name: string }[]; tags: string[] };
    const listed = async (name: string) => (await system.api<Listed[]>(ADMIN, 'GET', '/api/rooms')).find((r) => r.name === name);
    const details = () => admin.getByRole('complementary', { name: /^Room Huddle 7/ });
    await details().getByRole('button', { name: 'Edit room' }).click();
    const edit = admin.getByRole('dialog', { name: 'Edit Huddle 7' });
    await edit.getByLabel('Name').fill('Huddle 7A');
    await edit.getByLabel('Tags (comma separated)').fill('huddle');
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await listed('Huddle 7A'))?.tags).toEqual(['huddle']);

    await admin.getByRole('button', { name: 'Settings' }).click();
    await admin.getByRole('tab', { name: 'Locations' }).click();
    const floor = admin.getByTestId('location-Floor 9');
    await expect.poll(() => floor.textContent()).toContain('Floor · 1 room');
    await floor.getByRole('button', { name: 'Rename or move' }).click();
    const move = admin.getByRole('dialog', { name: 'Change Floor 9' });
    await move.getByLabel('In which building').selectOption({ label: 'Norway › Bergen Office' });
    await move.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await listed('Huddle 7A'))?.locationPath.map((l) => l.name)).toEqual(['Norway', 'Bergen Office', 'Floor 9']);
    await shoot(admin, '06-locations');

    await admin.getByRole('button', { name: 'Rooms', exact: true }).click();
    await admin.locator('[data-room="Huddle 7A"]').click();
    const room = admin.getByRole('complementary', { name: 'Room Huddle 7A' });
    await room.getByRole('button', { name: 'Revoke device' }).click();
    await admin.getByRole('dialog', { name: "Revoke Huddle 7A's device?" }).getByRole('button', { name: 'Revoke device' }).click();
    await expect.poll(async () => (await listed('Huddle 7A'))?.enrolled).toBe(false);
    await expect.poll(() => room.getByRole('button', { name: 'Revoke device' }).count()).toBe(0);
    await room.getByRole('button', { name: 'Retire room' }).click();
    await admin.getByRole('dialog', { name: 'Retire Huddle 7A?' }).getByRole('button', { name: 'Retire room' }).click();
    await expect.poll(() => admin.locator('[data-room="Huddle 7A"]').count()).toBe(0);
    expect(await listed('Huddle 7A')).toBeUndefined();

    await admin.getByRole('button', { name: 'Settings' }).click();
    await admin.getByRole('tab', { name: 'Locations' }).click();
    await admin.getByTestId('location-Floor 9').getByRole('button', { name: 'Delete' }).click();
    await admin.getByRole('dialog', { name: 'Delete Floor 9?' }).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => admin.getByTestId('location-Floor 9').count()).toBe(0);
    // A building that still holds floors says so instead of vanishing.
    await admin.getByTestId('location-Oslo HQ').getByRole('button', { name: 'Delete', exact: true }).first().click();
    await admin.getByRole('dialog', { name: 'Delete Oslo HQ?' }).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => admin.getByRole('alert').textContent()).toContain('Oslo HQ still holds 2 location(s)');
  });

  it('collects logs from a live room outside any session: a downloadable bundle from the real agent, both steps audited', async () => {
    const glacier = system.tenant.rooms.find((r) => r.name === 'Glacier')!;
    await system.roomAgent(glacier, { platform: 'synthetic' });
    await admin.getByRole('button', { name: 'Rooms', exact: true }).click();
    await admin.getByRole('button', { name: 'Refresh' }).click();
    await admin.locator('[data-room="Glacier"]').click();
    const details = admin.getByRole('complementary', { name: 'Room Glacier' });
    await expect.poll(() => details.getByRole('button', { name: 'Collect logs' }).isEnabled()).toBe(true);
    await details.getByRole('button', { name: 'Collect logs' }).click();
    const bundle = details.locator('.bundles li').first();
    await expect.poll(() => bundle.getAttribute('data-status'), { timeout: 10_000 }).toBe('ready');
    const download = admin.waitForEvent('download');
    await bundle.getByRole('button', { name: /^Download/ }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^Glacier-.+\.json\.gz$/);
    const content = JSON.parse(gunzipSync(readFileSync((await file.path())!)).toString()) as { platform: string; agent: { roomName: string; version: string }; recentLog: string[] };
    expect(content).toMatchObject({ platform: 'synthetic', agent: { roomName: 'Glacier' } });
    expect(Array.isArray(content.recentLog)).toBe(true);
    const records = await system.api<{ records: { type: string }[] }>(ADMIN, 'GET', `/api/audit?roomId=${glacier.id}`);
    expect(records.records.map((r) => r.type)).toEqual(expect.arrayContaining(['room.logsRequested', 'room.logsCollected']));
  });

});
