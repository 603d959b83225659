import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium';
import { signInThroughUi } from '../support/console-system';
import { runScript } from '../support/script';

const dataDir = mkdtempSync(join(tmpdir(), 'roomlink-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `npm start`'s script as a person runs it, on ports of its own so it never meets a running copy. */
function start(args: string[]) {
  return runScript('scripts/start.ts', ['--data-dir', dataDir, '--port', '0', '--idp-port', '0', '--console-port', '0', '--browser-host', '--display', '', '--webhook-port', '0', ...args]);
}

describe('npm start', () => {
  it('documents its options', async () => {
    const run = start(['--help']);
    expect(await run.exited).toBe(0);
    for (const option of ['--data-dir', '--port', '--idp-port', '--console-port', '--synthetic-rooms', '--reset']) expect(run.output()).toContain(option);
  });

  it('brings up the whole system with 8 synthetic rooms on a fresh directory, prints what happens to the rooms, and stops on Ctrl+C', async () => {
    const run = start(['--synthetic-rooms', '8']);
    await expect.poll(run.output, { timeout: 45_000, interval: 200 }).toContain('Ctrl+C stops everything.');
    const output = run.output();
    expect(output).toMatch(/admin@contoso\.test +Adele Admin — Global Administrator/);
    const live = /Rooms with a live agent: (.+)\./.exec(output)![1]!.split(', ');
    expect(live).toHaveLength(9);
    expect(live.every((room) => room.endsWith(' (synthetic)'))).toBe(true);
    const first = live[0]!.replace(' (synthetic)', '');
    expect(output).toMatch(new RegExp(`Monitoring: ${first}'s camera fails in 60 s and an incident opens a minute later`));
    expect(output).toMatch(/webhooks go to http:\/\/127\.0\.0\.1:\d+\/roomlink and print here/);
    const url = /console +(http:\/\/127\.0\.0\.1:\d+\/#key=\S+)/.exec(output)![1]!;

    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(url);
      await signInThroughUi(page, 'admin@contoso.test');
      await expect.poll(() => page.getByTestId('room-count').textContent(), { timeout: 10_000 }).toBe('12 rooms');
      await expect.poll(() => page.locator('.room-row .health:not(.offline)').count(), { timeout: 10_000 }).toBe(9);
      await page.locator('.room-row', { hasText: first }).click();
      await page.getByRole('button', { name: 'Restart device' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Restart device' }).click();
      await expect.poll(run.output, { timeout: 5_000 }).toMatch(new RegExp(`\\] Restart requested: ${first}, Adele Admin`));
      // The demo's alerting is set up: a webhook to the local receiver and a rule that sends every incident.
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.getByRole('tab', { name: 'Alerts' }).click();
      await expect.poll(() => page.locator('[data-webhook="Demo receiver"]').count()).toBe(1);
      expect(await page.locator('[data-rule="Every incident to IT"]').textContent()).toContain('it-team@contoso.test, Demo receiver');
      expect(await page.getByText('Sent mail (development catcher)').count()).toBe(1);
    } finally {
      await browser.close();
    }

    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
  }, 90_000);
});
