import { renameSync, writeFileSync } from 'node:fs';
import type { AlertRule, IncidentRules } from '@roomlink/shared';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomAgent } from '../../apps/room-agent/src/core/agent';
import { ADMIN, signInThroughUi, startConsoleSystem, type ConsoleSystem } from '../support/console-system';

/** Live room state in the console: pushed changes land in the list, the details and the health timeline without a refresh. */

let system: ConsoleSystem;
let page: Page;
let agent: RoomAgent;
let roomStateFile: string;
const clock = { offsetMs: 0 };

function setRoomState(state: object): void {
  writeFileSync(`${roomStateFile}.tmp`, JSON.stringify(state));
  renameSync(`${roomStateFile}.tmp`, roomStateFile);
}

beforeAll(async () => {
  system = await startConsoleSystem({ clock, incidentEveryMs: 100 });
  const aurora = system.tenant.rooms.find((r) => r.name === 'Aurora')!;
  ({ agent, roomStateFile } = await system.roomAgent(aurora, { platform: 'synthetic' }));
  const { web } = await system.console('monitoring');
  page = await (await system.chromium()).newPage();
  await page.goto(web.url);
  await signInThroughUi(page, ADMIN);
});
afterAll(() => system.close());

describe('incidents and the dashboard', () => {
  it('opens an incident from a failing signal, shows it on the dashboard and in the list as it happens, and takes it from acknowledge to resolve', async () => {
    await page.getByRole('button', { name: 'Dashboard' }).click();
    const critical = page.getByTestId('dashboard-incidents-critical');
    await expect.poll(() => critical.textContent()).toBe('0 Critical');
    await expect.poll(() => page.getByTestId('dashboard-healthy').textContent(), { timeout: 10_000 }).toBe('1 Healthy');

    setRoomState({ signals: { display: 'error' } });
    await expect.poll(() => page.getByTestId('dashboard-critical').textContent()).toBe('1 Critical');
    // The rule waits two minutes of error; the server's clock gets there at once.
    clock.offsetMs += 3 * 60_000;
    await expect.poll(() => critical.textContent(), { timeout: 5_000 }).toBe('1 Critical');
    expect(await page.locator('.newest-incidents').textContent()).toContain('Display failing in Aurora');
    await page.screenshot({ path: 'test-results/console/10-dashboard.png' });

    await critical.click();
    const row = page.locator('tr[data-incident]');
    await expect.poll(() => row.count()).toBe(1);
    await row.click();
    const panel = page.getByRole('complementary', { name: 'Incident Display failing in Aurora' });
    await panel.getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => panel.getByTestId('incident-state').textContent()).toBe('Active');
    await panel.getByRole('button', { name: 'Assign to me' }).click();
    await expect.poll(() => panel.getByTestId('incident-state').textContent()).toBe('Investigating');
    await panel.getByLabel('Add a note').fill('Display cable reseated.');
    await panel.getByRole('button', { name: 'Add note' }).click();
    await expect.poll(() => panel.locator('li[data-kind="note"]').textContent()).toContain('Display cable reseated. — Adele Admin');
    await panel.getByRole('button', { name: 'Resolve' }).click();
    await expect.poll(() => panel.getByTestId('incident-state').textContent()).toBe('Resolved');
    // The list shows open incidents: the resolved one leaves it.
    await expect.poll(() => row.count()).toBe(0);
    await page.screenshot({ path: 'test-results/console/11-incident.png' });
    expect(await panel.locator('li').evaluateAll((items) => items.map((li) => li.getAttribute('data-kind')))).toEqual(['opened', 'acknowledged', 'assigned', 'note', 'resolved']);

    setRoomState({});
    await page.getByRole('button', { name: 'Rooms', exact: true }).click();
    await expect.poll(() => page.locator('[data-room="Aurora"] .health').textContent(), { timeout: 5_000 }).toBe('Healthy');
  });
});

describe('incident and alert rules in Settings', () => {
  it('tunes the incident rules and adds an alert rule narrowed by severity, cause, location and tag, then turns it off', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('tab', { name: 'Alerts' }).click();
    const form = page.getByRole('form', { name: 'Incident rules' });
    await form.getByLabel('A room offline opens a critical incident after').fill('12');
    await form.getByLabel('Camera').selectOption('critical');
    await form.getByRole('button', { name: 'Save incident rules' }).click();
    await expect.poll(() => form.getByRole('status').textContent()).toBe('Saved.');
    const rules = await system.api<IncidentRules>(ADMIN, 'GET', '/api/settings/incident-rules');
    expect(rules).toMatchObject({ offlineMinutes: 12, signalErrorMinutes: 2, signalSeverity: { camera: 'critical' } });

    const building = system.tenant.locations.find((l) => l.kind === 'building')!;
    const tag = system.tenant.rooms.flatMap((r) => r.tags)[0]!;
    const add = page.getByRole('form', { name: 'Add an alert rule' });
    await add.getByLabel('Rule name').fill('Cameras on call');
    await add.getByRole('group', { name: 'Severity (none ticked: any)' }).getByLabel('Critical').check();
    await add.getByRole('group', { name: 'Cause (none ticked: any)' }).getByLabel('Camera failing').check();
    await add.getByRole('group', { name: 'Locations (none ticked: anywhere)' }).getByLabel(`Norway › ${building.name}`, { exact: true }).check();
    await add.getByRole('group', { name: 'Tags (none ticked: any)' }).getByLabel(tag, { exact: true }).check();
    await add.getByRole('group', { name: 'Send' }).getByLabel('When its state changes').check();
    await add.getByLabel('Email to').fill('oncall@contoso.test');
    await add.getByRole('button', { name: 'Add rule' }).click();
    const item = page.locator('li[data-rule="Cameras on call"]');
    await expect.poll(() => item.textContent()).toContain('Camera failing');
    const saved = (await system.api<AlertRule[]>(ADMIN, 'GET', '/api/alerts/rules')).find((r) => r.name === 'Cameras on call')!;
    expect(saved).toMatchObject({ enabled: true, severities: ['critical'], causes: ['signal.camera'], locations: [building.id], tags: [tag], onOpen: true, onChange: true, onResolve: true, emails: ['oncall@contoso.test'] });

    // The box follows the server: it clears once the rule is saved switched off.
    await item.getByLabel('Cameras on call enabled').click();
    await expect.poll(() => item.getByLabel('Cameras on call enabled').isChecked()).toBe(false);
    expect((await system.api<AlertRule[]>(ADMIN, 'GET', '/api/alerts/rules')).find((r) => r.id === saved.id)?.enabled).toBe(false);
    await page.screenshot({ path: 'test-results/console/12-alert-rules.png', fullPage: true });
    await page.getByRole('button', { name: 'Rooms', exact: true }).click();
  });
});

describe('live room state', () => {
  it('shows a signal change and the room going offline as they happen, in the list, the details and the timeline', async () => {
    const row = page.locator('[data-room="Aurora"] .health');
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toBe('Healthy');
    await page.locator('[data-room="Aurora"]').click();
    const details = page.getByRole('complementary', { name: 'Room Aurora' });
    await details.getByRole('tab', { name: 'Health' }).click();
    const camera = details.getByTestId('timeline-camera');
    await expect.poll(() => camera.getAttribute('data-now')).toBe('0');
    const changesBefore = Number(await camera.getAttribute('data-changes'));
    expect(await details.locator('.lane canvas').count()).toBeGreaterThanOrEqual(8);

    setRoomState({ signals: { camera: 'error' } });
    await expect.poll(() => row.textContent(), { timeout: 5_000 }).toBe('Non-urgent');
    await expect.poll(() => details.locator('.signal.error').textContent()).toContain('Camera');
    await expect.poll(() => camera.getAttribute('data-now')).toBe('2');
    expect(Number(await camera.getAttribute('data-changes'))).toBe(changesBefore + 1);
    await page.screenshot({ path: 'test-results/console/09-health-timeline.png' });

    await agent.stop();
    await expect.poll(() => row.textContent(), { timeout: 5_000 }).toBe('Offline');
    await expect.poll(() => details.getByTestId('timeline-presence').getAttribute('data-now')).toBe('3');
  });
});
