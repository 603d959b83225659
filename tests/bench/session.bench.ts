import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { EnrollmentCode, SessionView } from '@roomlink/shared';
import type { Page } from 'playwright-core';
import { enroll } from '../../apps/room-agent/src/core/identity';
import type { SenderStats } from '../../apps/room-agent/src/core/media';
import { startXorg } from '../../apps/room-agent/test/support/xorg';
import { cpuSeconds } from '../../scripts/bench/cpu';
import { percentile, type BenchReport, type BenchRow } from '../../scripts/bench/report';
import { ADMIN, sessionConsolePage, startConsoleSystem, TECH } from '../support/console-system';
import { keepPeerConnections, startSessionThroughUi, waitLive } from '../support/session-ui';
import { DEFAULT_LAYOUT, startTargetApp, type TargetLayout } from '../support/target-app';

const FIRST_FRAME_RUNS = 7;
const KEYS = 40;
const SAMPLE_S = 10;
/** Idle is measured again a minute after the last change, when the agent has settled (see the agent bench). */
const SETTLED_AFTER_S = 60;
const SETTLED_SAMPLE_S = 20;
/**
 * What a key costs depends on what it repaints. The goal rows use the target
 * app's default (the whole screen recoloured under the big key and the typed
 * text); these split that cost by what changes.
 */
const WORKLOADS: { name: string; layout: TargetLayout }[] = [
  { name: 'whole screen recoloured, no typed text', layout: { recolour: 'screen', typedText: false } },
  { name: 'a sixteenth of the screen recoloured, no typed text', layout: { recolour: 'panel', typedText: false } },
];

// In-page instruments, as strings: the runner's transform would add helpers the page lacks.
/** The receiver's default jitter buffer, for comparison: setting jitterBufferTarget does nothing. */
const ignoreJitterBufferTarget = `Object.defineProperty(RTCRtpReceiver.prototype, 'jitterBufferTarget', { configurable: true, get() { return null; }, set() {} })`;
/** Click on Start session → the first frame of the video presented. */
const armFirstFrame = `(() => {
  window.roomlinkFirstFrame = new Promise((resolve) => {
    let clickAt = 0;
    document.addEventListener('click', (event) => { if (event.target.textContent === 'Start session') clickAt = performance.now(); }, { capture: true });
    const watch = new MutationObserver(() => {
      const video = document.querySelector('[data-testid="remote-video"]');
      if (!video) return;
      watch.disconnect();
      video.requestVideoFrameCallback((now, meta) => resolve(meta.expectedDisplayTime - clickAt));
    });
    watch.observe(document.body, { childList: true, subtree: true });
  });
})()`;
/**
 * Next keydown → the first video frame whose pixel at the sample point has
 * changed colour (the target app recolours on every key), at its expected
 * display time; with when that frame's last packet arrived and when it was
 * presented, to split the time between the room and the console.
 */
const armKeyToPhoton = `(() => {
  const video = document.querySelector('[data-testid="remote-video"]');
  // One pixel, drawn from the frame's sample point: reading back whole 1080p frames on every frame stalled presentation (300 ms now and then).
  const canvas = new OffscreenCanvas(1, 1);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  const sample = () => {
    context.drawImage(video, Math.floor(video.videoWidth * 0.5), Math.floor(video.videoHeight * 0.85), 1, 1, 0, 0, 1, 1);
    return context.getImageData(0, 0, 1, 1).data;
  };
  const baseline = sample();
  let keyAt = 0;
  window.addEventListener('keydown', (event) => { keyAt = event.timeStamp; }, { once: true, capture: true });
  window.roomlinkPhoton = new Promise((resolve, reject) => {
    let frames = 0;
    let farthest = 0;
    setTimeout(() => reject(new Error('no colour change in the video 5 s after the key (keydown seen: ' + (keyAt > 0) + ', frames since: ' + frames + ', largest change: ' + farthest + ')')), 5000);
    const onFrame = (now, meta) => {
      const pixel = sample();
      const distance = Math.abs(pixel[0] - baseline[0]) + Math.abs(pixel[1] - baseline[1]) + Math.abs(pixel[2] - baseline[2]);
      frames += 1;
      farthest = Math.max(farthest, distance);
      if (keyAt && distance > 60) resolve({ displayed: meta.expectedDisplayTime - keyAt, received: (meta.receiveTime ?? NaN) - keyAt, presented: meta.presentationTime - keyAt });
      else video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  });
})()`;
const videoStats = `(async () => {
  const s = { bytes: 0, wire: 0, frames: 0, decodeS: 0, jitterBufferS: 0, emitted: 0, processingS: 0 };
  for (const pc of window.roomlinkPcs) (await pc.getStats()).forEach((r) => {
    if (r.type === 'transport') s.wire += r.bytesReceived;
    if (r.type !== 'inbound-rtp' || r.kind !== 'video') return;
    s.bytes += r.bytesReceived; s.frames += r.framesDecoded; s.decodeS += r.totalDecodeTime ?? 0;
    s.jitterBufferS += r.jitterBufferDelay ?? 0; s.emitted += r.jitterBufferEmittedCount ?? 0; s.processingS += r.totalProcessingDelay ?? 0;
  });
  return s;
})()`;

/** Milliseconds from the keydown in the console. */
interface KeyTimes {
  /** The frame's last packet reached the console: the room's part and the network's. */
  received: number;
  presented: number;
  /** The key-to-photon figure. */
  displayed: number;
}

interface Stats {
  /** Video payload. */
  bytes: number;
  /** Everything the console received: video, the encoder's bandwidth-probe padding, RTCP, data channel. */
  wire: number;
  frames: number;
  /** Cumulative seconds, from the receiver's stats: where a frame's time goes on the console side. */
  decodeS: number;
  jitterBufferS: number;
  emitted: number;
  processingS: number;
}

/**
 * Latency through the console's real UI in Chromium, on the same machine as
 * a real x11 agent (its own process) on a three-monitor Xorg: time to first
 * frame, key-to-photon (with and without asking for no jitter buffer), full
 * screen animation fps, bytes per key and per second, agent CPU.
 */
export default async function sessionBench(): Promise<BenchReport> {
  const xserver = await startXorg();
  const system = await startConsoleSystem();
  const dir = mkdtempSync(join(tmpdir(), 'roomlink-session-bench-'));
  const fjord = system.tenant.rooms.find((r) => r.name === 'Fjord')!;
  await system.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'bench@contoso.test' });
  await system.api(ADMIN, 'POST', '/api/roles', { name: 'Bench', permissions: ['rooms.read', 'remoteAccess.modify'], assignments: [{ groups: ['room-technicians'], rooms: [fjord.id] }] });
  const { code } = await system.api<EnrollmentCode>(ADMIN, 'POST', `/api/rooms/${fjord.id}/enrollment-code`);
  await enroll({ serverUrl: system.server.url, code, dataDir: dir, platform: 'x11', agentVersion: 'bench' });
  const agent = spawn(process.execPath, ['--import', 'tsx', 'apps/room-agent/src/main.ts', 'run', '--data-dir', dir, '--platform', 'x11', '--display', xserver.display, '--loopback-only', '--restart-command', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
  // The agent's end-of-session log says where each frame's time went on the sending side.
  const sessionsEnded: { sender: SenderStats | null; frames: { latencyP50Ms: number } }[] = [];
  createInterface({ input: agent.stderr! }).on('line', (line) => {
    if (line.includes('"session ended"')) sessionsEnded.push(JSON.parse(line) as (typeof sessionsEnded)[number]);
  });
  const target = await startTargetApp(xserver.display, xserver.monitors[0]!);
  const xorgPid = Number(readFileSync(`/tmp/.X${xserver.display.slice(1)}-lock`, 'utf8').trim());
  const browsers: { close(): Promise<void> }[] = [];

  async function consolePage(withJitterBuffer: boolean): Promise<Page> {
    const opened = await sessionConsolePage(system, `bench-${browsers.length}`, TECH, withJitterBuffer ? [keepPeerConnections, ignoreJitterBufferTarget] : [keepPeerConnections]);
    browsers.push(opened);
    const { page } = opened;
    await page.locator('[data-room="Fjord"] .health', { hasText: 'Healthy' }).waitFor({ timeout: 20_000 });
    return page;
  }
  const roomFree = async () => {
    for (let i = 0; i < 100 && (await system.api<SessionView[]>(ADMIN, 'GET', '/api/sessions?active=true')).length > 0; i += 1) await new Promise((r) => setTimeout(r, 50));
  };
  const endSession = async (page: Page) => {
    await page.getByRole('button', { name: 'End session' }).click();
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await roomFree();
  };
  const stats = (page: Page) => page.evaluate<Stats>(videoStats);

  async function keyToPhoton(page: Page): Promise<{ latencies: number[]; times: KeyTimes[]; bytesPerKey: number; wirePerKey: number; decodeMs: number; jitterBufferMs: number; processingMs: number }> {
    await target.clearText();
    target.focus();
    await page.getByTestId('remote-video').click();
    await page.waitForTimeout(500);
    const times: KeyTimes[] = [];
    const before = await stats(page);
    for (let i = 0; i < KEYS; i += 1) {
      await page.evaluate(armKeyToPhoton);
      await page.keyboard.press(i % 2 ? 'KeyK' : 'KeyJ');
      times.push(await page.evaluate<KeyTimes>('window.roomlinkPhoton'));
      await page.waitForTimeout(150);
    }
    const after = await stats(page);
    const frames = after.frames - before.frames;
    const emitted = after.emitted - before.emitted;
    return {
      latencies: times.map((t) => t.displayed),
      times,
      bytesPerKey: (after.bytes - before.bytes) / KEYS,
      wirePerKey: (after.wire - before.wire) / KEYS,
      decodeMs: ((after.decodeS - before.decodeS) / frames) * 1000,
      jitterBufferMs: ((after.jitterBufferS - before.jitterBufferS) / emitted) * 1000,
      processingMs: ((after.processingS - before.processingS) / frames) * 1000,
    };
  }

  try {
    const page = await consolePage(false);
    await roomFree();
    const firstFrames: number[] = [];
    for (let run = 0; run < FIRST_FRAME_RUNS; run += 1) {
      await page.evaluate(armFirstFrame);
      await startSessionThroughUi(page, 'Fjord');
      firstFrames.push(await page.evaluate<number>('window.roomlinkFirstFrame'));
      await waitLive(page);
      if (run < FIRST_FRAME_RUNS - 1) await endSession(page);
    }

    const noBuffer = await keyToPhoton(page);
    const workloads: { name: string; result: Awaited<ReturnType<typeof keyToPhoton>> }[] = [];
    for (const { name, layout } of WORKLOADS) {
      await target.layout(layout);
      workloads.push({ name, result: await keyToPhoton(page) });
    }
    await target.layout(DEFAULT_LAYOUT);

    // A static screen: nothing moves but the ring, which does not move.
    await page.waitForTimeout(1000);
    const staticStart = { stats: await stats(page), agent: cpuSeconds(agent.pid!), x: cpuSeconds(xorgPid), at: performance.now() };
    await page.waitForTimeout(SAMPLE_S * 1000);
    const staticEnd = { stats: await stats(page), agent: cpuSeconds(agent.pid!), x: cpuSeconds(xorgPid), at: performance.now() };
    const staticSeconds = (staticEnd.at - staticStart.at) / 1000;
    await page.waitForTimeout((SETTLED_AFTER_S - 1 - SAMPLE_S) * 1000);
    const settledStart = { agent: cpuSeconds(agent.pid!), at: performance.now() };
    await page.waitForTimeout(SETTLED_SAMPLE_S * 1000);
    const settledEnd = { agent: cpuSeconds(agent.pid!), at: performance.now() };

    await target.animate(true);
    await page.waitForTimeout(2000);
    const animStart = { stats: await stats(page), agent: cpuSeconds(agent.pid!), at: performance.now() };
    await page.waitForTimeout(SAMPLE_S * 1000);
    const animEnd = { stats: await stats(page), agent: cpuSeconds(agent.pid!), at: performance.now() };
    await target.animate(false);
    const animSeconds = (animEnd.at - animStart.at) / 1000;
    await endSession(page);

    const buffered = await consolePage(true);
    await startSessionThroughUi(buffered, 'Fjord');
    await waitLive(buffered);
    const withBuffer = await keyToPhoton(buffered);
    const ends = sessionsEnded.length;
    await endSession(buffered);
    while (sessionsEnded.length === ends) await new Promise((r) => setTimeout(r, 10));
    // That session did nothing but the key presses.
    const { sender, frames: roomFrames } = sessionsEnded.at(-1)!;
    const median = (pick: (t: KeyTimes) => number) => percentile(noBuffer.times.map(pick), 50);

    const rows: BenchRow[] = [
      { metric: 'time to first frame (click → painted), median', value: percentile(firstFrames, 50), unit: 'ms', goal: '<= 300' },
      { metric: 'time to first frame, worst', value: Math.max(...firstFrames), unit: 'ms' },
      { metric: 'key-to-photon, median (jitterBufferTarget 0)', value: percentile(noBuffer.latencies, 50), unit: 'ms', goal: '<= 35' },
      { metric: 'key-to-photon, p95 (jitterBufferTarget 0)', value: percentile(noBuffer.latencies, 95), unit: 'ms', goal: '<= 50' },
      { metric: 'key-to-photon, median (default jitter buffer)', value: percentile(withBuffer.latencies, 50), unit: 'ms' },
      { metric: 'key-to-photon, p95 (default jitter buffer)', value: percentile(withBuffer.latencies, 95), unit: 'ms' },
      { metric: 'per key, median: key → its frame received by the console (room, encoder, network)', value: median((t) => t.received), unit: 'ms' },
      { metric: 'per key, median: frame received → presented (jitter buffer, decode)', value: median((t) => t.presented - t.received), unit: 'ms' },
      { metric: 'per key, median: presented → on screen (the next vsync)', value: median((t) => t.displayed - t.presented), unit: 'ms' },
      { metric: 'room side per key frame: capture to encoder, p50', value: roomFrames.latencyP50Ms, unit: 'ms' },
      { metric: 'room side per key frame: encode (VP8, 1080p)', value: sender?.encodeMsPerFrame ?? NaN, unit: 'ms' },
      { metric: 'room side per packet: wait in the pacer (whole session, its first keyframe included)', value: sender?.pacerMsPerPacket ?? NaN, unit: 'ms' },
      { metric: "room side: the sender's bandwidth estimate at the end", value: sender?.estimateKbps ?? NaN, unit: 'kbps' },
      { metric: 'console side per frame: jitter buffer, target 0', value: noBuffer.jitterBufferMs, unit: 'ms' },
      { metric: 'console side per frame: jitter buffer, default', value: withBuffer.jitterBufferMs, unit: 'ms' },
      { metric: 'console side per frame: decode', value: noBuffer.decodeMs, unit: 'ms' },
      { metric: 'console side per frame: receive to decoded (processing delay)', value: noBuffer.processingMs, unit: 'ms' },
      { metric: 'bytes per key press, video', value: Math.round(noBuffer.bytesPerKey), unit: 'B', goal: '<= 10240' },
      { metric: 'bytes per key press, on the wire', value: Math.round(noBuffer.wirePerKey), unit: 'B', goal: '<= 10240' },
      ...workloads.flatMap(({ name, result }) => [
        { metric: `${name}: key-to-photon, median`, value: percentile(result.latencies, 50), unit: 'ms' },
        { metric: `${name}: key-to-photon, p95`, value: percentile(result.latencies, 95), unit: 'ms' },
        { metric: `${name}: key → its frame received, median`, value: percentile(result.times.map((t) => t.received), 50), unit: 'ms' },
        { metric: `${name}: bytes per key press, video`, value: Math.round(result.bytesPerKey), unit: 'B' },
      ]),
      { metric: 'static screen, video bytes per second', value: Math.round((staticEnd.stats.bytes - staticStart.stats.bytes) / staticSeconds), unit: 'B/s', goal: '< 5120' },
      { metric: 'static screen, bytes per second on the wire', value: Math.round((staticEnd.stats.wire - staticStart.stats.wire) / staticSeconds), unit: 'B/s', goal: '< 5120' },
      { metric: `agent CPU, static screen, settled (${SETTLED_AFTER_S}-${SETTLED_AFTER_S + SETTLED_SAMPLE_S} s after the last change)`, value: ((settledEnd.agent - settledStart.agent) / ((settledEnd.at - settledStart.at) / 1000)) * 100, unit: '% core', goal: '<= 1' },
      { metric: `agent CPU, static screen, 1-${1 + SAMPLE_S} s after the last change`, value: ((staticEnd.agent - staticStart.agent) / staticSeconds) * 100, unit: '% core' },
      { metric: 'X server CPU, static screen', value: ((staticEnd.x - staticStart.x) / staticSeconds) * 100, unit: '% core' },
      { metric: 'full-screen animation, frames decoded per second (1080p)', value: (animEnd.stats.frames - animStart.stats.frames) / animSeconds, unit: 'fps', goal: '30' },
      { metric: 'agent CPU, animation', value: ((animEnd.agent - animStart.agent) / animSeconds) * 100, unit: '% core' },
    ];
    return { name: 'session through the console (x11 agent, Chromium)', rows, context: { firstFrameRuns: FIRST_FRAME_RUNS, keys: KEYS, sampleSeconds: SAMPLE_S, settledSampleSeconds: SETTLED_SAMPLE_S, keyTimes: noBuffer.times, display: '1920x1080 console display' } };
  } finally {
    for (const browser of browsers) await browser.close().catch(() => undefined);
    agent.kill('SIGTERM');
    await target.close();
    await system.close();
    await xserver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
