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
    const { store } = system.server.services;
    const start = Date.now() - DAYS * 86_400_000;
    const rows: { tenant_id: string; room_id: string; at: string; subject: string; state: string }[] = [];
    for (let t = start, i = 0; t < Date.now() - 60_000; t += EVERY_S * 1000, i += 1) {
      const signal = HealthSignal.options[i % HealthSignal.options.length]!;
      const failing = Math.floor(i / HealthSignal.options.length) % 2 === 1;
      const at = new Date(t).toISOString();
      rows.push({ tenant_id: 'contoso', room_id: room.id, at, subject: signal, state: failing ? 'error' : 'ok' }, { tenant_id: 'contoso', room_id: room.id, at, subject: 'health', state: failing ? 'nonUrgent' : 'healthy' });
    }
    const events = rows.length;
    await store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 5_000) await trx.insertInto('room_events').values(rows.slice(i, i + 5_000)).execute();
    });
    const { web } = await system.console('timeline');
    const page = await (await system.chromium()).newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(web.url);
    await signInThroughUi(page, ADMIN);
    await page.locator('[data-room="Aurora"]').click();
    const details = page.getByRole('complementary', { name: 'Room Aurora' });
    await details.getByRole('tab', { name: 'Health' }).click();
    const lanes = details.getByTestId('timeline-health');
    // Timed in the page: from the click's event to the animation frame that paints the lanes of the 30-day step.
    await page.evaluate((step) => {
      const times = { clicked: 0, drawn: 0 };
      Object.assign(window, { timelineTimes: times });
      document.addEventListener('click', (e) => (e.target as HTMLElement).closest('button')?.textContent === '30 d' && (times.clicked = performance.now()), true);
      new MutationObserver(() => {
        if (document.querySelector('[aria-label="Health over time"]')?.getAttribute('data-step') === String(step)) requestAnimationFrame(() => (times.drawn = performance.now()));
      }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-step'] });
    }, timelineStep(30 * 86_400_000));
    const samples: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      await details.getByRole('button', { name: '7 d' }).click();
      await page.waitForFunction((step) => document.querySelector('[aria-label="Health over time"]')?.getAttribute('data-step') === String(step), timelineStep(7 * 86_400_000), { polling: 'raf' });
      await details.getByRole('button', { name: '30 d' }).click();
      const t = await page.waitForFunction(() => {
        const { clicked, drawn } = (window as unknown as { timelineTimes: { clicked: number; drawn: number } }).timelineTimes;
        return drawn > clicked && drawn - clicked;
      });
      samples.push((await t.jsonValue()) as number);
    }
    const changes = Number(await lanes.getAttribute('data-changes'));
    // Where the time goes: the server's answer alone, over HTTP as the console host asks it.
    const server: number[] = [];
    let bytes = 0;
    const step = timelineStep(30 * 86_400_000);
    for (let run = 0; run < RUNS; run += 1) {
      const t0 = performance.now();
      const from = new Date(Date.now() - 30 * 86_400_000).toISOString();
      bytes = JSON.stringify(await system.api(ADMIN, 'GET', `/api/rooms/${room.id}/history?from=${encodeURIComponent(from)}&step=${step}`)).length;
      server.push(performance.now() - t0);
    }
    return {
      name: 'health timeline (browser host, Chromium)',
      context: { days: DAYS, eventsInHistory: events, healthChangesDrawn: changes, runs: RUNS, note: 'in the page, from the click event on 30 d to the animation frame after the lanes of the 30-day step exist; the history fetch through the host included' },
      rows: [
        { metric: 'room events in the 30-day window', value: events, unit: 'events' },
        { metric: '30-day timeline of one room, click to drawn, p50', value: percentile(samples, 50), unit: 'ms', goal: '< 200' },
        { metric: '30-day timeline of one room, worst', value: Math.max(...samples), unit: 'ms' },
        { metric: 'of which the server: history over HTTP, p50', value: percentile(server, 50), unit: 'ms' },
        { metric: 'history answer', value: Math.round(bytes / 1024), unit: 'KiB' },
      ],
    };
  } finally {
    await system.close();
  }
}
