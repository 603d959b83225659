import { HealthSignal, timelineStep } from '@roomlink/shared';
import { percentile, type BenchReport } from '../../scripts/bench/report';
import { ADMIN, signInThroughUi, startConsoleSystem } from '../support/console-system';

/** A busy month: one change every two minutes, cycling through the signals and the room's health. */
const DAYS = 30;
const EVERY_S = 120;
const RUNS = 6;

/**
 * The health timeline of one room over 30 days, in Chromium against the
 * browser host: from the click on "30 d" to every lane drawn, the history's
 * fetch included.
 */
export default async function timelineBench(): Promise<BenchReport> {
  const system = await startConsoleSystem();
  try {
    const room = system.tenant.rooms.find((r) => r.name === 'Aurora')!;
    const { db } = system.server.services;
    const insert = db.prepare('INSERT INTO room_events (tenant_id, room_id, at, subject, state) VALUES (?, ?, ?, ?, ?)');
    const start = Date.now() - DAYS * 86_400_000;
    let events = 0;
    db.transaction(() => {
      for (let t = start, i = 0; t < Date.now() - 60_000; t += EVERY_S * 1000, i += 1) {
        const signal = HealthSignal.options[i % HealthSignal.options.length]!;
        const failing = Math.floor(i / HealthSignal.options.length) % 2 === 1;
        insert.run('contoso', room.id, new Date(t).toISOString(), signal, failing ? 'error' : 'ok');
        insert.run('contoso', room.id, new Date(t).toISOString(), 'health', failing ? 'nonUrgent' : 'healthy');
        events += 2;
      }
    })();
    const { web } = await system.console('timeline');
    const page = await (await system.chromium()).newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(web.url);
    await signInThroughUi(page, ADMIN);
    await page.locator('[data-room="Aurora"]').click();
    const details = page.getByRole('complementary', { name: 'Room Aurora' });
    await details.getByRole('tab', { name: 'Health' }).click();
    const lanes = details.getByTestId('timeline-health');
    const samples: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      await details.getByRole('button', { name: '7 d' }).click();
      await page.waitForFunction((step) => document.querySelector('[aria-label="Health over time"]')?.getAttribute('data-step') === String(step), timelineStep(7 * 86_400_000), { polling: 'raf' });
      const t0 = performance.now();
      await details.getByRole('button', { name: '30 d' }).click();
      // The lanes of the 30-day window are drawn once the timeline says it shows that window's step.
      await page.waitForFunction((step) => document.querySelector('[aria-label="Health over time"]')?.getAttribute('data-step') === String(step), timelineStep(30 * 86_400_000), { polling: 'raf' });
      samples.push(performance.now() - t0);
    }
    const changes = Number(await lanes.getAttribute('data-changes'));
    return {
      name: 'health timeline (browser host, Chromium)',
      context: { days: DAYS, eventsInHistory: events, healthChangesDrawn: changes, runs: RUNS, note: 'click on 30 d to the lanes drawn at the next animation frame; the history fetch through the host included' },
      rows: [
        { metric: 'room events in the 30-day window', value: events, unit: 'events' },
        { metric: '30-day timeline of one room, click to drawn, p50', value: percentile(samples, 50), unit: 'ms', goal: '< 200' },
        { metric: '30-day timeline of one room, worst', value: Math.max(...samples), unit: 'ms' },
      ],
    };
  } finally {
    await system.close();
  }
}
