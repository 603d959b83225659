import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { createInterface } from 'node:readline';
import type { EnrollmentCode, SessionView } from '@roomlink/shared';
import type { Page } from 'playwright-core';
import { runsOnGlibc, tunedEnvironment } from '../../apps/room-agent/src/allocator';
import { enroll } from '../../apps/room-agent/src/core/identity';
import type { PictureTotals } from '../../apps/room-agent/src/core/session';
import { startXorg } from '../../apps/room-agent/test/support/xorg';
import { cpuSeconds, cpuSecondsOfProcessesWith, threadCpuPercent, threadCpuSeconds } from '../../scripts/bench/cpu';
import { percentile, type BenchReport, type BenchRow } from '../../scripts/bench/report';
import { waitForPort } from '../../scripts/services/ports';
import { launchChromium } from '../support/chromium';
import { ADMIN, sessionConsolePage, startConsoleSystem, TECH } from '../support/console-system';
import { keepPeerConnections, startSessionThroughUi, waitLive, endSessionThroughUi } from '../support/session-ui';
import { samplePoints, startTargetApp, type Workload } from '../support/target-app';

const KEYS = Number(process.env.BENCH_KEYS ?? 30);
const FIRST_FRAME_RUNS = Number(process.env.BENCH_FIRST_FRAMES ?? 7);
const VIDEO_SECONDS = 10;
const STILL_AFTER_S = 30;
const STILL_SAMPLE_S = 20;
const KEY_WORKLOADS: { workload: Workload; name: string }[] = [
  { workload: 'typing', name: '1. typing (a few characters change)' },
  { workload: 'photo', name: '2. a quarter of the screen, photographic' },
  { workload: 'screen', name: '3. the whole screen (another window)' },
  { workload: 'fresh-photo', name: '2b. a quarter of the screen, a photo never shown before' },
  { workload: 'fresh-screen', name: '3b. the whole screen, a window never shown before' },
];

/**
 * In-page instruments, as strings (the runner's transform would add helpers
 * the page lacks). The same code measures both systems: the next keydown,
 * then every animation frame, one pixel of the canvas the client draws on,
 * until it has changed by far; and changes per second at one point.
 */
const instruments = `(() => {
  document.addEventListener('click', (event) => { if (event.target.textContent === 'Start session') window.startClickAt = performance.now(); }, { capture: true });
  const at = (selector, fx, fy) => {
    const canvas = document.querySelector(selector);
    const context = canvas.getContext('2d');
    return () => context.getImageData(Math.floor(canvas.width * fx), Math.floor(canvas.height * fy), 1, 1).data;
  };
  const distance = (a, b) => Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]);
  // Where a key's time goes: the key leaving the page, and the first picture bytes arriving after it.
  window.keyTimes = { sent: 0, arrived: 0 };
  const sent = () => { if (window.keyArmed && !window.keyTimes.sent) window.keyTimes.sent = performance.now(); };
  const arrived = () => { if (window.keyTimes.sent && !window.keyTimes.arrived) window.keyTimes.arrived = performance.now(); };
  for (const Channel of [RTCDataChannel, WebSocket]) {
    const send = Channel.prototype.send;
    Channel.prototype.send = function (...args) { sent(); return send.apply(this, args); };
  }
  const createDataChannel = RTCPeerConnection.prototype.createDataChannel;
  RTCPeerConnection.prototype.createDataChannel = function (...args) {
    const channel = createDataChannel.apply(this, args);
    if (args[0] === 'picture') channel.addEventListener('message', arrived);
    return channel;
  };
  window.pictureArrived = arrived;
  window.armPhoton = (selector, fx, fy) => {
    const sample = at(selector, fx, fy);
    const baseline = sample();
    let keyAt = 0;
    window.keyTimes = { sent: 0, arrived: 0 };
    window.keyArmed = false;
    window.addEventListener('keydown', (event) => { keyAt = event.timeStamp; window.keyArmed = true; }, { once: true, capture: true });
    window.photon = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const { sent, arrived } = window.keyTimes;
        reject(new Error('no change 5 s after the key: keydown ' + (keyAt > 0) + ', key sent ' + (sent ? 'at +' + Math.round(sent - keyAt) + ' ms' : 'never') + ', picture bytes after it ' + (arrived ? 'from +' + Math.round(arrived - keyAt) + ' ms' : 'none') + ', baseline ' + [...baseline] + ', now ' + [...sample()]));
      }, 5000);
      const check = (now) => {
        if (keyAt && distance(sample(), baseline) > 60) {
          clearTimeout(timer);
          window.keyArmed = false;
          const { sent, arrived } = window.keyTimes;
          resolve({ total: now - keyAt, sent: sent ? sent - keyAt : NaN, arrived: arrived ? arrived - keyAt : NaN });
        } else requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    });
  };
  // The video's frames by the block at their centre (see the target app): a frame's number is its corner of the RGB cube,
  // so a step forward is a frame shown, a step of k frames skips k - 1, and a step back is a frame shown again out of order.
  window.countFrames = (selector, fx, fy, seconds) => new Promise((resolve) => {
    const sample = at(selector, fx, fy);
    const frameOf = () => { const [r, g, b] = sample(); return (r > 127 ? 1 : 0) | (g > 127 ? 2 : 0) | (b > 127 ? 4 : 0); };
    let last = frameOf();
    let shown = 0, skipped = 0, back = 0;
    const until = performance.now() + seconds * 1000;
    const check = (now) => {
      const frame = frameOf();
      const step = (frame - last + 8) % 8;
      if (step > 0 && step <= 4) { shown += 1; skipped += step - 1; } else if (step > 4) back += 1;
      last = frame;
      if (now < until) requestAnimationFrame(check); else resolve({ shown: shown / seconds, skipped: skipped / seconds, back: back / seconds });
    };
    requestAnimationFrame(check);
  });
})()`;
/** Counts what noVNC's WebSocket receives. */
const countWebSocketBytes = `(() => {
  const Native = window.WebSocket;
  window.picturedBytes = 0;
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener('message', (event) => { window.picturedBytes += event.data.byteLength ?? event.data.length ?? 0; window.pictureArrived?.(); });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
})()`;
const roomlinkDecoded = `(async () => { let frames = 0; for (const pc of window.roomlinkPcs) (await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded; }); return frames; })()`;
const roomlinkBytes = `(async () => { let bytes = 0; for (const pc of window.roomlinkPcs) (await pc.getStats()).forEach((r) => { if (r.type === 'transport') bytes += r.bytesReceived; }); return bytes; })()`;

interface Client {
  name: string;
  page: Page;
  canvas: string;
  /** Processes on the room's side: the agent, or x11vnc and websockify. */
  roomPids: () => number[];
  profile: string;
  bytes(): Promise<number>;
  /** Video frames the console has decoded, where the client has a video decoder. */
  decodedFrames?(): Promise<number>;
  focus(): Promise<void>;
}

interface KeyRun {
  latencies: number[];
  /** Per key: keydown to the key leaving the page, and to the first picture bytes arriving. */
  sentMs: number[];
  arrivedMs: number[];
  bytesPerKey: number;
  roomCpuMsPerKey: number;
  consoleCpuMsPerKey: number;
}

/**
 * The picture path side by side with the plainest remote desktop there is,
 * x11vnc + noVNC, on one three-monitor Xorg, one target app and one
 * Chromium build, in one run: key-to-photon per workload, bytes and CPU per
 * key, full-motion video in a region, time to first frame, a still screen.
 */
export default async function sessionBench(): Promise<BenchReport> {
  installReference();
  const xserver = await startXorg();
  const system = await startConsoleSystem();
  const dir = mkdtempSync(join(tmpdir(), 'roomlink-session-bench-'));
  const fjord = system.tenant.rooms.find((r) => r.name === 'Fjord')!;
  await system.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'bench@contoso.test' });
  await system.api(ADMIN, 'POST', '/api/roles', { name: 'Bench', permissions: ['rooms.read', 'remoteAccess.modify'], assignments: [{ groups: ['room-technicians'], rooms: [fjord.id] }] });
  const { code } = await system.api<EnrollmentCode>(ADMIN, 'POST', `/api/rooms/${fjord.id}/enrollment-code`);
  await enroll({ serverUrl: system.server.url, code, dataDir: dir, platform: 'x11', agentVersion: 'bench' });
  const agent = spawn(process.execPath, ['--import', 'tsx', 'apps/room-agent/src/main.ts', 'run', '--data-dir', dir, '--platform', 'x11', '--display', xserver.display, '--loopback-only', '--restart-command', 'true'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Started with the allocator it would relaunch itself with, so that `agent.pid` is the process doing the work.
    env: tunedEnvironment(process.env, runsOnGlibc) ?? process.env,
  });
  const sessionsEnded: { frames: PictureTotals }[] = [];
  createInterface({ input: agent.stderr! }).on('line', (line) => {
    if (line.includes('"session ended"')) sessionsEnded.push(JSON.parse(line) as (typeof sessionsEnded)[number]);
  });
  const target = await startTargetApp(xserver.display, xserver.monitors[0]!);
  const closers: (() => Promise<unknown>)[] = [];

  try {
    const consolePage = await sessionConsolePage(system, 'bench', TECH, [keepPeerConnections, instruments]);
    closers.push(consolePage.close);
    const { page } = consolePage;
    await page.locator('[data-room="Fjord"] .health', { hasText: 'Healthy' }).waitFor({ timeout: 20_000 });
    const roomFree = async () => {
      for (let i = 0; i < 100 && (await system.api<SessionView[]>(ADMIN, 'GET', '/api/sessions?active=true')).length > 0; i += 1) await new Promise((r) => setTimeout(r, 50));
    };
    const endSession = async () => {
      await endSessionThroughUi(page);
      await page.getByRole('button', { name: 'Close', exact: true }).click();
      await roomFree();
    };

    // Time to first frame: the click on Start session to the first picture on the canvas.
    const firstFrames: number[] = [];
    for (let run = 0; run < FIRST_FRAME_RUNS; run += 1) {
      await startSessionThroughUi(page, 'Fjord');
      // The first picture drawn on the canvas, at the animation frame that shows it.
      firstFrames.push(
        await page.evaluate<number>(`new Promise((resolve) => {
          const check = (now) => {
            const canvas = document.querySelector('[data-testid="remote-picture"]');
            if (canvas && canvas.width > 0 && canvas.getContext('2d').getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data[3] > 0) resolve(now - window.startClickAt); else requestAnimationFrame(check);
          };
          requestAnimationFrame(check);
        })`),
      );
      await waitLive(page);
      if (run < FIRST_FRAME_RUNS - 1) await endSession();
    }
    const roomlink: Client = {
      name: 'Roomlink',
      page,
      canvas: '[data-testid="remote-picture"]',
      roomPids: () => [agent.pid!],
      profile: consolePage.profile,
      bytes: () => page.evaluate<number>(roomlinkBytes),
      decodedFrames: () => page.evaluate<number>(roomlinkDecoded),
      focus: () => page.getByTestId('remote-picture').click(),
    };
    const ours = await runWorkloads(roomlink);

    // A still screen, long enough after the last change for the agent to settle.
    await target.workload('typing');
    await new Promise((r) => setTimeout(r, STILL_AFTER_S * 1000));
    const still = { cpu: cpuSeconds(agent.pid!), threads: threadCpuSeconds(agent.pid!), console: cpuSecondsOfProcessesWith(roomlink.profile), bytes: await roomlink.bytes(), at: performance.now() };
    await new Promise((r) => setTimeout(r, STILL_SAMPLE_S * 1000));
    const stillSeconds = (performance.now() - still.at) / 1000;
    const stillCpu = ((cpuSeconds(agent.pid!) - still.cpu) / stillSeconds) * 100;
    const stillConsoleCpu = ((cpuSecondsOfProcessesWith(roomlink.profile) - still.console) / stillSeconds) * 100;
    // Which of the agent's threads the still screen costs: libwebrtc names its own.
    const stillThreads = threadCpuPercent(still.threads, threadCpuSeconds(agent.pid!), stillSeconds);
    const stillBytes = ((await roomlink.bytes()) - still.bytes) / stillSeconds;
    const ended = sessionsEnded.length;
    await endSession();
    while (sessionsEnded.length === ended) await new Promise((r) => setTimeout(r, 10));
    const picture = sessionsEnded.at(-1)!.frames;

    const reference = await startReference(xserver.display);
    closers.push(reference.close);
    const theirs = await runWorkloads(reference.client);
    await reference.close();

    const rows: BenchRow[] = [
      { metric: 'time to first frame (click → picture drawn), median', value: percentile(firstFrames, 50), unit: 'ms', goal: '<= 300' },
      { metric: 'time to first frame, worst', value: Math.max(...firstFrames), unit: 'ms' },
      { metric: 'noVNC: connect → first picture drawn', value: reference.firstFrameMs, unit: 'ms' },
    ];
    for (const { name } of KEY_WORKLOADS) {
      const us = ours.keys.get(name)!;
      const them = theirs.keys.get(name)!;
      const usMedian = percentile(us.latencies, 50);
      const themMedian = percentile(them.latencies, 50);
      rows.push(
        { metric: `${name}: key-to-photon median, Roomlink`, value: usMedian, unit: 'ms', goal: `<= ${(0.75 * themMedian).toFixed(0)} (0.75x noVNC)` },
        { metric: `${name}: key-to-photon median, noVNC`, value: themMedian, unit: 'ms' },
        { metric: `${name}: median ratio Roomlink / noVNC`, value: usMedian / themMedian, unit: 'x', goal: '<= 0.75' },
        { metric: `${name}: key-to-photon p95, Roomlink`, value: percentile(us.latencies, 95), unit: 'ms', goal: `<= ${percentile(them.latencies, 95).toFixed(0)} (noVNC's p95)` },
        { metric: `${name}: key-to-photon p95, noVNC`, value: percentile(them.latencies, 95), unit: 'ms' },
        { metric: `${name}: bytes per key, Roomlink`, value: Math.round(us.bytesPerKey), unit: 'B', goal: `<= ${Math.round(them.bytesPerKey)} (noVNC)` },
        { metric: `${name}: bytes per key, noVNC`, value: Math.round(them.bytesPerKey), unit: 'B' },
        {
          metric: `${name}: where the time goes, medians: key → sent / → first picture byte / → photon, Roomlink`,
          value: usMedian,
          unit: `ms (${percentile(us.sentMs, 50).toFixed(1)} / ${percentile(us.arrivedMs, 50).toFixed(1)} / ${usMedian.toFixed(1)}; noVNC ${percentile(them.sentMs, 50).toFixed(1)} / ${percentile(them.arrivedMs, 50).toFixed(1)} / ${themMedian.toFixed(1)})`,
        },
        { metric: `${name}: room CPU per key, Roomlink / noVNC`, value: us.roomCpuMsPerKey, unit: `ms (noVNC ${them.roomCpuMsPerKey.toFixed(1)})` },
        { metric: `${name}: console CPU per key, Roomlink / noVNC`, value: us.consoleCpuMsPerKey, unit: `ms (noVNC ${them.consoleCpuMsPerKey.toFixed(1)})` },
      );
    }
    rows.push(
      { metric: '4. video in a 640x360 region at 30 fps: app frames shown per second, Roomlink', value: ours.video.fps, unit: 'fps', goal: '>= 30' },
      { metric: '4. video: app frames shown per second, noVNC', value: theirs.video.fps, unit: 'fps' },
      { metric: '4. video: app frames never shown (skipped) per second, Roomlink / noVNC', value: ours.video.skippedFps, unit: `fps (noVNC ${theirs.video.skippedFps.toFixed(1)})` },
      { metric: '4. video: frames shown out of order (a step back) per second, Roomlink / noVNC', value: ours.video.backFps, unit: `fps (noVNC ${theirs.video.backFps.toFixed(1)})` },
      { metric: '4. video: frames the app drew per second (of its 30), during Roomlink / noVNC', value: ours.video.appFps, unit: `fps (noVNC run ${theirs.video.appFps.toFixed(1)})` },
      { metric: '4. video: frames the console decoded per second, Roomlink (of them shown: the first row)', value: ours.video.decodedFps, unit: 'fps' },
      { metric: '4. video: bitrate, Roomlink', value: ours.video.kbps, unit: 'kbps', goal: '<= 8000' },
      { metric: '4. video: bitrate, noVNC', value: theirs.video.kbps, unit: 'kbps' },
      { metric: '4. video: room CPU, Roomlink / noVNC', value: ours.video.roomCpu, unit: `% core (noVNC ${theirs.video.roomCpu.toFixed(0)})` },
      { metric: '4. video: console CPU, Roomlink / noVNC', value: ours.video.consoleCpu, unit: `% core (noVNC ${theirs.video.consoleCpu.toFixed(0)})` },
      { metric: `still screen, ${STILL_AFTER_S}-${STILL_AFTER_S + STILL_SAMPLE_S} s after the last change: room CPU`, value: stillCpu, unit: '% core', goal: '<= 1' },
      { metric: 'still screen: console CPU', value: stillConsoleCpu, unit: '% core' },
      { metric: 'still screen: bytes per second on the wire (picture 0; the rest is ICE and SCTP keepalive)', value: stillBytes, unit: 'B/s' },
      {
        metric: 'still screen: room CPU by thread',
        value: stillCpu,
        unit: `% core (${Object.entries(stillThreads)
          .map(([name, pct]) => `${name} ${pct}`)
          .join(', ')})`,
      },
      { metric: 'session totals: tiles sent lossy, then refreshed losslessly', value: picture.lossyTiles, unit: `tiles (${picture.refinedTiles} refreshed)` },
      { metric: 'session totals: tiles drawn from the console’s tile cache', value: picture.cachedTiles, unit: `tiles (of ${picture.tiles})` },
      { metric: 'session totals: tile frames, capture to last byte on the channel, p50', value: picture.latencyP50Ms, unit: 'ms' },
    );
    // Per key, first picture byte and photon: both are paced by the console's frames, so medians move by whole frames.
    const perKey = (run: Map<string, KeyRun>) => Object.fromEntries([...run].map(([name, r]) => [name, r.latencies.map((photon, i) => [round(r.arrivedMs[i]!), round(photon)])]));
    return { name: 'session picture: Roomlink beside x11vnc + noVNC (same X display, target app and Chromium)', rows, context: { keys: KEYS, arrivedAndPhotonMs: { roomlink: perKey(ours.keys), noVNC: perKey(theirs.keys) }, firstFrames, picture, display: '1920x1080 console display of a three-monitor Xorg', reference: 'x11vnc (Debian) + websockify + @novnc/novnc, quality and compression at noVNC defaults' } };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    agent.kill('SIGTERM');
    await target.close();
    await system.close();
    await xserver.close();
    rmSync(dir, { recursive: true, force: true });
  }

  /** A workload's sample point as fractions of the display the client draws. */
  async function sampleAt(workload: Workload): Promise<[number, number]> {
    const [x, y] = samplePoints[workload];
    const [ox, oy] = await target.pageOrigin();
    return [(x + ox) / 1920, (y + oy) / 1080];
  }

  async function runWorkloads(client: Client): Promise<{ keys: Map<string, KeyRun>; video: { fps: number; skippedFps: number; backFps: number; appFps: number; decodedFps: number; kbps: number; roomCpu: number; consoleCpu: number } }> {
    const keys = new Map<string, KeyRun>();
    const roomCpu = () => client.roomPids().reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    for (const { workload, name } of KEY_WORKLOADS) {
      await target.workload(workload);
      target.focus();
      await client.focus();
      await client.page.waitForTimeout(1500);
      const [fx, fy] = await sampleAt(workload);
      const before = { bytes: await client.bytes(), room: roomCpu(), console: cpuSecondsOfProcessesWith(client.profile) };
      const latencies: number[] = [];
      const sentMs: number[] = [];
      const arrivedMs: number[] = [];
      for (let i = 0; i < KEYS; i += 1) {
        await client.page.evaluate(`window.armPhoton(${JSON.stringify(client.canvas)}, ${fx}, ${fy})`);
        await client.page.keyboard.press(i % 2 ? 'KeyK' : 'KeyJ');
        const times = await client.page.evaluate<{ total: number; sent: number; arrived: number }>('window.photon').catch((error: Error) => {
          throw new Error(`${client.name}, ${name}, key ${i + 1}: ${error.message}`);
        });
        latencies.push(times.total);
        sentMs.push(times.sent);
        arrivedMs.push(times.arrived);
        await client.page.waitForTimeout(150);
      }
      const after = { bytes: await client.bytes(), room: roomCpu(), console: cpuSecondsOfProcessesWith(client.profile) };
      keys.set(name, { latencies, sentMs, arrivedMs, bytesPerKey: (after.bytes - before.bytes) / KEYS, roomCpuMsPerKey: ((after.room - before.room) / KEYS) * 1000, consoleCpuMsPerKey: ((after.console - before.console) / KEYS) * 1000 });
    }
    await target.workload('video');
    await target.play(true);
    await client.page.waitForTimeout(2000);
    const [fx, fy] = await sampleAt('video');
    const before = { bytes: await client.bytes(), room: roomCpu(), console: cpuSecondsOfProcessesWith(client.profile), drawn: await target.videoFrames(), decoded: (await client.decodedFrames?.()) ?? NaN, at: performance.now() };
    const frames = await client.page.evaluate<{ shown: number; skipped: number; back: number }>(`window.countFrames(${JSON.stringify(client.canvas)}, ${fx}, ${fy}, ${VIDEO_SECONDS})`);
    const seconds = (performance.now() - before.at) / 1000;
    const after = { bytes: await client.bytes(), room: roomCpu(), console: cpuSecondsOfProcessesWith(client.profile), drawn: await target.videoFrames(), decoded: (await client.decodedFrames?.()) ?? NaN };
    await target.play(false);
    return {
      keys,
      video: { fps: frames.shown, skippedFps: frames.skipped, backFps: frames.back, appFps: (after.drawn - before.drawn) / seconds, decodedFps: (after.decoded - before.decoded) / seconds, kbps: ((after.bytes - before.bytes) * 8) / seconds / 1000, roomCpu: ((after.room - before.room) / seconds) * 100, consoleCpu: ((after.console - before.console) / seconds) * 100 },
    };
  }
}

/** The reference system comes from Debian; the bench installs it when it can (as root, like CI). */
function installReference(): void {
  if (spawnSync('sh', ['-c', 'command -v x11vnc && command -v websockify']).status === 0) return;
  const apt = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'x11vnc', 'websockify'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (apt.status !== 0) throw new Error('the reference system needs x11vnc and websockify: apt-get install x11vnc websockify');
}

/** x11vnc on the console monitor, websockify in front, and noVNC from npm in its own Chromium. */
async function startReference(display: string): Promise<{ client: Client; firstFrameMs: number; close(): Promise<void> }> {
  const vncPort = 47_950 + Math.floor(Math.random() * 40);
  const wsPort = vncPort + 1;
  const processes: ChildProcess[] = [
    spawn('x11vnc', ['-display', display, '-clip', '1920x1080+0+0', '-rfbport', String(vncPort), '-localhost', '-nopw', '-forever', '-shared', '-quiet', '-noxrecord', '-noxfixes'], { stdio: 'ignore' }),
  ];
  await waitForPort(vncPort);
  processes.push(spawn('websockify', [`127.0.0.1:${wsPort}`, `127.0.0.1:${vncPort}`], { stdio: 'ignore' }));
  await waitForPort(wsPort);
  const root = join(process.cwd(), 'node_modules/@novnc/novnc');
  const server: Server = createServer((request, response) => {
    const path = normalize(request.url ?? '/').replace(/^(\.\.[/\\])+/, '');
    if (path === '/') {
      response.setHeader('content-type', 'text/html');
      return response.end(`<!doctype html><body style="margin:0"><div id="screen"></div><script type="module">
        import RFB from '/core/rfb.js';
        window.connectedAt = performance.now();
        const rfb = new RFB(document.getElementById('screen'), 'ws://127.0.0.1:${wsPort}');
        window.rfb = rfb;
      </script>`);
    }
    try {
      response.setHeader('content-type', extname(path) === '.js' ? 'text/javascript' : 'application/octet-stream');
      response.end(readFileSync(join(root, path)));
    } catch {
      response.statusCode = 404;
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await launchChromium();
  await browser.context.addInitScript(countWebSocketBytes);
  await browser.context.addInitScript(instruments);
  const page = await browser.context.newPage();
  await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
  const firstFrameMs = await page.evaluate<number>(`new Promise((resolve) => {
    const check = (now) => {
      const canvas = document.querySelector('#screen canvas');
      const pixel = canvas && canvas.width > 100 ? canvas.getContext('2d').getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data : [0, 0, 0];
      if (pixel[0] + pixel[1] + pixel[2] > 0) resolve(now - window.connectedAt); else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  })`);
  const pids = processes.map((p) => p.pid!);
  return {
    firstFrameMs,
    client: {
      name: 'noVNC',
      page,
      canvas: '#screen canvas',
      roomPids: () => pids,
      profile: browser.profile,
      bytes: () => page.evaluate<number>('window.picturedBytes'),
      // Focus without a click: a click would reach the room's pointer too.
      focus: () => page.evaluate('window.rfb.focus()'),
    },
    close: async () => {
      await browser.close();
      server.close();
      for (const p of processes) p.kill('SIGTERM');
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
