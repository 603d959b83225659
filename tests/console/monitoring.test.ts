import { renameSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomAgent } from '../../apps/room-agent/src/core/agent';
import { ADMIN, signInThroughUi, startConsoleSystem, type ConsoleSystem } from '../support/console-system';

/** Live room state in the console: pushed changes land in the list, the details and the health timeline without a refresh. */

let system: ConsoleSystem;
let page: Page;
let agent: RoomAgent;
let roomStateFile: string;

function setRoomState(state: object): void {
  writeFileSync(`${roomStateFile}.tmp`, JSON.stringify(state));
  renameSync(`${roomStateFile}.tmp`, roomStateFile);
}

beforeAll(async () => {
  system = await startConsoleSystem();
  const aurora = system.tenant.rooms.find((r) => r.name === 'Aurora')!;
  ({ agent, roomStateFile } = await system.roomAgent(aurora, { platform: 'synthetic' }));
  const { web } = await system.console('monitoring');
  page = await (await system.chromium()).newPage();
  await page.goto(web.url);
  await signInThroughUi(page, ADMIN);
});
afterAll(() => system.close());

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
