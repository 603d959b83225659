import { cpuSeconds, threadCpuPercent, threadCpuSeconds } from '../../../scripts/bench/cpu';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BenchReport } from '../../../scripts/bench/report';
import { percentile } from '../../../scripts/bench/report';
import { runsOnGlibc, tunedEnvironment } from '../src/allocator';
import { enroll } from '../src/core/identity';
import type { SenderStats } from '../src/core/media';
import type { PictureTotals } from '../src/core/session';
import { openDisplay } from '../src/platform/x11/xconnection';
import { ControlPlane } from '../test/support/control-plane';
import { Viewer } from '../test/support/viewer';
import { startXorg } from '../test/support/xorg';

const SAMPLE_S = 10;
/** A room's screen stays still for hours: idle is measured a minute after the last change, when the agent has settled. */
const SETTLED_AFTER_S = 60;
const SETTLED_SAMPLE_S = 20;
const FIRST_FRAME_RUNS = 5;

/** Video payload, and everything on the wire: the encoder's bandwidth probing pads, and padding counts against a room's link. */
async function bytesReceived(viewer: Viewer): Promise<{ video: number; wire: number; tiles: number }> {
  const pc = (viewer.peer as unknown as { _pc: RTCPeerConnection })._pc;
  const bytes = { video: 0, wire: 0, tiles: 0 };
  (await pc.getStats()).forEach((report: { type: string; kind?: string; label?: string; bytesReceived?: number }) => {
    if (report.type === 'inbound-rtp' && report.kind === 'video') bytes.video += report.bytesReceived ?? 0;
    if (report.type === 'data-channel' && report.label === 'picture') bytes.tiles += report.bytesReceived ?? 0;
    if (report.type === 'transport') bytes.wire += report.bytesReceived ?? 0;
  });
  return bytes;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The agent as it runs on a room PC: its own process on a real three-monitor
 * X server, sending the console display to a WebRTC viewer. CPU is read from
 * /proc for the agent and for the X server separately.
 */
export default async function agentBench(): Promise<BenchReport> {
  const xserver = await startXorg();
  const plane = new ControlPlane();
  // The production heartbeat, not the tests' fast one.
  plane.heartbeatMs = 10_000;
  await plane.listen();
  const dataDir = mkdtempSync(join(tmpdir(), 'roomlink-bench-agent-'));
  await enroll({ serverUrl: plane.url, code: `CODE-${randomUUID()}`, dataDir, platform: 'x11', agentVersion: 'bench' });
  const agent = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../src/main.ts'), 'run', '--data-dir', dataDir, '--platform', 'x11', '--display', xserver.display, '--loopback-only', '--restart-command', 'true'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Started with the allocator it would relaunch itself with, so that `agent.pid` is the process doing the work.
    env: tunedEnvironment(process.env, runsOnGlibc) ?? process.env,
  });
  const ends: { frames: PictureTotals; sender: SenderStats | null; firstFrameMs: number | null }[] = [];
  let reading = 'unknown';
  createInterface({ input: agent.stderr! }).on('line', (line) => {
    if (line.includes('"x11 capture ready"')) reading = (JSON.parse(line) as { reading: string }).reading;
    if (line.includes('"session ended"')) ends.push(JSON.parse(line) as (typeof ends)[number]);
  });
  const xorgPid = Number(readFileSync(`/tmp/.X${xserver.display.slice(1)}-lock`, 'utf8').trim());
  await plane.waitForAgent(30_000);

  const session = async () => {
    const { sessionId } = await plane.offer('view');
    const viewer = new Viewer(plane, sessionId);
    await plane.waitFor('session.active', (m) => m.sessionId === sessionId);
    while (viewer.framesReceived === 0) await sleep(10);
    return viewer;
  };
  const end = async (viewer: Viewer) => {
    const count = ends.length;
    viewer.send({ type: 'control.end' });
    while (ends.length === count) await sleep(10);
    viewer.close();
    return ends.at(-1)!;
  };

  const firstFrames: number[] = [];
  for (let i = 0; i < FIRST_FRAME_RUNS; i++) {
    const summary = await end(await session());
    if (summary.firstFrameMs !== null) firstFrames.push(summary.firstFrameMs);
  }

  const measure = async (viewer: Viewer, seconds = SAMPLE_S) => {
    const agentCpu = cpuSeconds(agent.pid!);
    const threads = threadCpuSeconds(agent.pid!);
    const xCpu = cpuSeconds(xorgPid);
    const bytes = await bytesReceived(viewer);
    const frames = viewer.framesReceived;
    await sleep(seconds * 1000);
    const after = await bytesReceived(viewer);
    return {
      agentCpu: ((cpuSeconds(agent.pid!) - agentCpu) / seconds) * 100,
      agentThreads: threadCpuPercent(threads, threadCpuSeconds(agent.pid!), seconds),
      xCpu: ((cpuSeconds(xorgPid) - xCpu) / seconds) * 100,
      videoBytesPerSecond: (after.video - bytes.video) / seconds,
      tileBytesPerSecond: (after.tiles - bytes.tiles) / seconds,
      wireBytesPerSecond: (after.wire - bytes.wire) / seconds,
      fps: (viewer.framesReceived - frames) / seconds,
    };
  };

  const viewer = await session();
  // The sender probes bandwidth for about 2 s after its last frame, and the collector and
  // compiler threads finish the earlier sessions' work for tens of seconds more (measured:
  // 1.5 % of a core 10-20 s on, 0.6 % a minute on), so both are reported.
  await sleep(10_000);
  const settling = await measure(viewer);
  await sleep((SETTLED_AFTER_S - 10 - SAMPLE_S) * 1000);
  const idle = await measure(viewer, SETTLED_SAMPLE_S);

  // A changing screen: a full-monitor window repainted in a new colour 30 times a second.
  const x = await openDisplay(xserver.display, () => undefined);
  const X = x.display.client;
  const window = X.AllocID();
  X.CreateWindow(window, x.root, 0, 0, 1920, 1080, 0, 0, 0, 0, { backgroundPixel: 0x202020, overrideRedirect: 1 });
  X.MapWindow(window);
  let tick = 0;
  const painter = setInterval(() => {
    tick += 1;
    X.ChangeWindowAttributes(window, { backgroundPixel: ((tick * 37) % 256) * 0x10101 });
    X.ClearArea(window, 0, 0, 0, 0, 0);
  }, 1000 / 30);
  await sleep(1000);
  const busy = await measure(viewer);
  clearInterval(painter);
  const summary = await end(viewer);

  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  await x.close();
  await plane.kill();
  await xserver.close();

  return {
    name: 'room agent (x11, 1920x1080 console display)',
    rows: [
      { metric: `agent CPU, static screen, settled (${SETTLED_AFTER_S}-${SETTLED_AFTER_S + SETTLED_SAMPLE_S} s after the last change)`, value: idle.agentCpu, unit: '% of a core', goal: '<= 1' },
      { metric: `agent CPU, static screen, 10-${10 + SAMPLE_S} s after the last change`, value: settling.agentCpu, unit: '% of a core' },
      { metric: 'X server CPU, static screen', value: idle.xCpu, unit: '% of a core' },
      { metric: 'picture bytes (tiles + video), static screen', value: idle.videoBytesPerSecond + idle.tileBytesPerSecond, unit: 'B/s', goal: '0' },
      { metric: 'bytes on the wire, static screen', value: idle.wireBytesPerSecond, unit: 'B/s', goal: 'near 0' },
      { metric: 'agent CPU, changing screen', value: busy.agentCpu, unit: '% of a core' },
      { metric: 'X server CPU, changing screen', value: busy.xCpu, unit: '% of a core' },
      { metric: 'frames drawn by the viewer, changing screen (30 Hz repaint: the video region)', value: busy.fps, unit: 'fps', goal: '30' },
      { metric: 'video bytes, changing screen', value: busy.videoBytesPerSecond, unit: 'B/s' },
      { metric: 'tile bytes, changing screen', value: busy.tileBytesPerSecond, unit: 'B/s' },
      { metric: 'tile frames: capture to last byte handed to the channel, p50', value: summary.frames.latencyP50Ms, unit: 'ms' },
      { metric: 'tile frames: capture to last byte handed to the channel, p95', value: summary.frames.latencyP95Ms, unit: 'ms' },
      { metric: 'encode per frame (VP8, 1080p), changing screen', value: summary.sender?.encodeMsPerFrame ?? NaN, unit: 'ms' },
      { metric: 'wait in the pacer per packet, changing screen', value: summary.sender?.pacerMsPerPacket ?? NaN, unit: 'ms' },
      { metric: "sender's bandwidth estimate at the end", value: summary.sender?.estimateKbps ?? NaN, unit: 'kbps' },
      { metric: 'grant accepted to first picture handed to the channel, median', value: percentile(firstFrames, 50), unit: 'ms' },
      { metric: 'grant accepted to first picture handed to the channel, max', value: Math.max(...firstFrames), unit: 'ms' },
    ],
    context: { sampleSeconds: SAMPLE_S, settledSampleSeconds: SETTLED_SAMPLE_S, staticAgentCpuByThread: { settled: idle.agentThreads, settling: settling.agentThreads }, firstFrameRuns: FIRST_FRAME_RUNS, frames: summary.frames, capture: `X GetImage of the damaged area (through ${reading}), woken by X DAMAGE`, encoder: 'tiles: sharp (lossless WebP, JPEG); video region: wrtc VP8' },
  };
}
