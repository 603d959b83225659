import { build } from 'esbuild';
import { percentile, type BenchReport, type BenchRow } from '../../scripts/bench/report';
import { launchChromium } from '../support/chromium';

/** Ten rooms over thirty days, one state change every two minutes each: 21,600 steps a lane. Each library with its own advice for large series (ECharts: `sampling`). */
const ROOMS = 10;
const DAYS = 30;
const EVERY_S = 120;
const RUNS = 5;
const LANE = { width: 900, height: 36 };

/**
 * The charting library for the health timelines, chosen by measurement:
 * uPlot, ECharts (canvas) and Recharts (SVG, React), each drawing the same
 * stepped lanes of ten rooms over thirty days in Chromium, unsummarised (the
 * server summarises to the chart's width, but a library that needs that to
 * be usable is the wrong one). Time from the call to the frame that shows
 * every lane, and the same again after new data (what a live update costs).
 */
const page = (library: string) => `
const lanes = window.lanes;
const holders = lanes.map(() => { const d = document.createElement('div'); d.style.width = '${LANE.width}px'; d.style.height = '${LANE.height}px'; document.body.append(d); return d; });
const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
${library}
window.measure = async (shift) => {
  const data = lanes.map((lane) => ({ times: lane.times, values: lane.values.map((v) => (v + shift) % 3) }));
  const started = performance.now();
  await draw(data);
  await frame();
  return performance.now() - started;
};`;

const libraries: Record<string, { imports: string; draw: string }> = {
  uPlot: {
    imports: `import uPlot from 'uplot';`,
    draw: `let plots = [];
async function draw(data) {
  plots.forEach((p) => p.destroy());
  plots = data.map((lane, i) => new uPlot({ width: ${LANE.width}, height: ${LANE.height}, legend: { show: false }, cursor: { show: false }, scales: { x: { time: true }, y: { range: [0, 3] } }, axes: [{ show: false }, { show: false }],
    series: [{}, { stroke: '#d64545', fill: 'rgba(214,69,69,0.3)', width: 1, paths: uPlot.paths.stepped({ align: 1 }) }] }, [lane.times, lane.values], holders[i]));
}`,
  },
  ECharts: {
    imports: `import * as echarts from 'echarts';`,
    draw: `const charts = holders.map((h) => echarts.init(h, null, { renderer: 'canvas', width: ${LANE.width}, height: ${LANE.height} }));
async function draw(data) {
  const finished = charts.map((c) => new Promise((resolve) => c.on('finished', resolve)));
  data.forEach((lane, i) => charts[i].setOption({ animation: false, grid: { left: 0, right: 0, top: 0, bottom: 0 }, xAxis: { type: 'time', show: false }, yAxis: { type: 'value', min: 0, max: 3, show: false },
    series: [{ type: 'line', step: 'end', showSymbol: false, sampling: 'max', areaStyle: {}, lineStyle: { width: 1 }, data: lane.times.map((t, j) => [t * 1000, lane.values[j]]) }] }, true));
  await Promise.all(finished);
  charts.forEach((c) => c.off('finished'));
}`,
  },
  Recharts: {
    imports: `import { createElement as h } from 'react'; import { createRoot } from 'react-dom/client'; import { flushSync } from 'react-dom'; import { AreaChart, Area, XAxis, YAxis } from 'recharts';`,
    draw: `const roots = holders.map((d) => createRoot(d));
async function draw(data) {
  flushSync(() => data.forEach((lane, i) => roots[i].render(h(AreaChart, { width: ${LANE.width}, height: ${LANE.height}, data: lane.times.map((t, j) => ({ t, v: lane.values[j] })), margin: { top: 0, right: 0, bottom: 0, left: 0 } },
    h(XAxis, { dataKey: 't', type: 'number', domain: ['dataMin', 'dataMax'], hide: true }), h(YAxis, { domain: [0, 3], hide: true }),
    h(Area, { type: 'stepAfter', dataKey: 'v', stroke: '#d64545', fill: 'rgba(214,69,69,0.3)', isAnimationActive: false, dot: false })))));
}`,
  },
};

export default async function chartsBench(): Promise<BenchReport> {
  const now = Math.floor(Date.now() / 1000);
  const lanes = Array.from({ length: ROOMS }, (_, room) => {
    const times: number[] = [];
    const values: number[] = [];
    for (let t = now - DAYS * 86_400, i = room; t < now; t += EVERY_S, i += 1) {
      times.push(t);
      values.push(i % 3);
    }
    return { times, values };
  });
  const browser = await launchChromium();
  const rows: BenchRow[] = [];
  const context: Record<string, unknown> = { rooms: ROOMS, days: DAYS, stepsPerLane: lanes[0]!.times.length, lane: LANE, runs: RUNS };
  try {
    for (const [name, library] of Object.entries(libraries)) {
      const bundle = await build({
        stdin: { contents: `${library.imports}\n${page(library.draw)}`, resolveDir: process.cwd(), loader: 'js' },
        bundle: true,
        write: false,
        minify: true,
        format: 'iife',
        platform: 'browser',
        target: 'chrome120',
        define: { 'process.env.NODE_ENV': '"production"' },
        logLevel: 'silent',
      });
      const tab = await browser.context.newPage();
      await tab.setContent('<!doctype html><body style="margin:0"></body>');
      await tab.evaluate((data) => Object.assign(window, { lanes: data }), lanes);
      await tab.addScriptTag({ content: bundle.outputFiles[0]!.text });
      const first = await tab.evaluate<number>('window.measure(0)');
      const again: number[] = [];
      for (let run = 1; run <= RUNS; run += 1) again.push(await tab.evaluate<number>(`window.measure(${run})`));
      await tab.close();
      const kilobytes = Math.round(bundle.outputFiles[0]!.contents.byteLength / 1024);
      context[name] = { firstMs: first, redrawsMs: again, bundleKB: kilobytes };
      rows.push(
        { metric: `${name}: 10 rooms × 30 days drawn, first time`, value: first, unit: 'ms', },
        { metric: `${name}: drawn again with new data, median`, value: percentile(again, 50), unit: 'ms' },
        { metric: `${name}: minified bundle`, value: kilobytes, unit: 'KB' },
      );
    }
  } finally {
    await browser.close();
  }
  return { name: 'charting libraries for the health timelines (Chromium, 10 rooms × 30 days, one change every 2 min)', rows, context };
}
