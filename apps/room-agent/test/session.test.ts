import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultMediaOptions } from '../src/core/media';
import type { SessionSummary } from '../src/core/session';
import type { RecordingDevice, RecordingKeyboard, RecordingOverlay, RecordingPointer } from '../src/platform/synthetic/index';
import { enrolledAgent, type TestAgent } from './support/agent';
import { ControlPlane, loopbackIce } from './support/control-plane';
import { eventually, Viewer } from './support/viewer';

/** Rules 5–11 on the agent, driven through the real protocol, with the synthetic platform recording what it was asked to do. */

let plane: ControlPlane;
let room: TestAgent;
let viewer: Viewer | null = null;
const recorded = () => room.agent.platform as unknown as { keyboard: RecordingKeyboard; pointer: RecordingPointer; overlay: RecordingOverlay; device: RecordingDevice };

beforeEach(async () => {
  plane = new ControlPlane();
  await plane.listen();
  room = await enrolledAgent(plane, { platform: 'synthetic' });
});

afterEach(async () => {
  viewer?.close();
  viewer = null;
  await room.stop();
  await plane.kill();
});

async function openSession(level: 'view' | 'modify', pointer = false) {
  const { sessionId, grant } = await plane.offer(level, { fields: { ptr: pointer } });
  viewer = new Viewer(plane, sessionId);
  await plane.waitFor('session.accept', (m) => m.sessionId === sessionId);
  await plane.waitFor('session.active', (m) => m.sessionId === sessionId);
  await viewer.waitForMessage('session.info');
  return { sessionId, grant, viewer };
}

const key = (code: string, down: boolean, shift = false) => ({ type: 'input.key' as const, code, down, modifiers: { shift, ctrl: false, alt: false, meta: false } });

describe('a modify session', () => {
  it('raises the ring before accepting, sends the picture, types, and on end lowers the ring, reports counts and restarts', async () => {
    const { sessionId, viewer } = await openSession('modify');
    expect(recorded().overlay.history).toEqual(['show']);
    const accept = plane.received.findIndex((m) => m.type === 'session.accept');
    expect(accept).toBeGreaterThanOrEqual(0);
    await eventually(() => viewer.framesReceived > 0, 'a picture');
    expect(viewer.offers.every((sdp) => !/^m=audio/m.test(sdp))).toBe(true);
    expect(viewer.offers.join('\n')).toMatch(new RegExp(`^b=AS:${defaultMediaOptions.maxKbps}\r?$`, 'm'));

    viewer.send(key('ShiftLeft', true, true));
    viewer.send(key('Digit1', true, true));
    viewer.send(key('Digit1', false, true));
    viewer.send(key('ShiftLeft', false, false));
    viewer.send({ type: 'control.shortcut', command: 'taskManager' });
    viewer.send({ type: 'ping', t: 1 });
    await viewer.waitForMessage('pong');
    expect(recorded().keyboard.events).toEqual([
      { code: 'ShiftLeft', down: true },
      { code: 'Digit1', down: true },
      { code: 'Digit1', down: false },
      { code: 'ShiftLeft', down: false },
      { code: 'ControlLeft', down: true },
      { code: 'ShiftLeft', down: true },
      { code: 'Escape', down: true },
      { code: 'Escape', down: false },
      { code: 'ShiftLeft', down: false },
      { code: 'ControlLeft', down: false },
    ]);

    const summary = new Promise<SessionSummary>((resolve) => room.agent.onSessionEnded((s) => resolve(s.summary!)));
    viewer.send({ type: 'control.end' });
    const end = await plane.waitFor('session.end', (m) => m.sessionId === sessionId);
    expect(end).toMatchObject({ reason: 'user_ended', input: { accepted: 5, dropped: 0 }, restarting: true });
    expect(recorded().overlay.history).toEqual(['show', 'hide']);
    // What the picture cost, for the log and the benchmarks.
    const { picture, sender } = await summary;
    expect(picture.frames).toBeGreaterThan(0);
    expect(picture.tiles).toBeGreaterThanOrEqual(picture.frames);
    expect(picture.tileBytes).toBeGreaterThan(0);
    expect(sender!.estimateKbps).toBeGreaterThan(0);
    await eventually(() => recorded().device.restarts === 1, 'restart after session');
  });

  it('captures nothing until the ring is up (rule 8), even when the ring is slow to draw', async () => {
    const { overlay } = recorded();
    const { capture } = room.agent.platform;
    const show = overlay.show.bind(overlay);
    const grab = capture.grab.bind(capture);
    const seen: ('ring up' | 'grab')[] = [];
    overlay.show = async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await show();
      seen.push('ring up');
    };
    capture.grab = (monitor, whole) => {
      seen.push('grab');
      return grab(monitor, whole);
    };
    const { viewer } = await openSession('modify');
    await eventually(() => viewer.framesReceived > 0, 'a picture');
    expect(seen[0]).toBe('ring up');
    expect(seen).toContain('grab');
  });

  it('sends its offer before it captures: the offer does not wait behind a whole screen being captured and encoded', async () => {
    const { capture } = room.agent.platform;
    const grab = capture.grab.bind(capture);
    const seen: ('offer' | 'grab')[] = [];
    capture.grab = (monitor, whole) => {
      seen.push('grab');
      return grab(monitor, whole);
    };
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (this: WebSocket, data: Parameters<WebSocket['send']>[0], ...rest: unknown[]) {
      if (String(data).includes('"type":"offer"')) seen.push('offer');
      return (send as (...args: unknown[]) => void).call(this, data, ...rest);
    } as WebSocket['send'];
    try {
      const { viewer } = await openSession('modify');
      await eventually(() => viewer.framesReceived > 0, 'a picture');
    } finally {
      WebSocket.prototype.send = send;
    }
    expect(seen.slice(0, 2)).toEqual(['offer', 'grab']);
  });

  it('lowers the ring even when the console has already hung up', async () => {
    // The console says "end" and closes its side at once, as it does when its window closes.
    const { sessionId, viewer } = await openSession('modify');
    viewer.send({ type: 'control.end' });
    viewer.close();
    const end = await plane.waitFor('session.end', (m) => m.sessionId === sessionId);
    expect(end).toMatchObject({ reason: 'user_ended' });
    expect(recorded().overlay.history).toEqual(['show', 'hide']);
  });

  it('releases keys still held when the session ends', async () => {
    const { sessionId, viewer } = await openSession('modify');
    viewer.send(key('KeyA', true, true));
    await eventually(() => recorded().keyboard.events.length === 2, 'Shift and A down');
    plane.send({ type: 'session.end', sessionId: sessionId as never, reason: 'user_ended' });
    await plane.waitFor('session.end');
    expect(recorded().keyboard.events.slice(2)).toEqual([
      { code: 'KeyA', down: false },
      { code: 'ShiftLeft', down: false },
    ]);
  });

  it('stops taking keys at once when the server lowers it to view (rule 14), letting go of what was held; a second lowering changes nothing', async () => {
    const { sessionId, viewer } = await openSession('modify');
    viewer.send(key('ShiftLeft', true, true));
    await eventually(() => recorded().keyboard.events.length === 1, 'Shift down');
    plane.send({ type: 'session.lower', sessionId: sessionId as never, level: 'view', pointer: false });
    await viewer.waitForMessage('session.info', (m) => m.level === 'view');
    expect(recorded().keyboard.events).toEqual([
      { code: 'ShiftLeft', down: true },
      { code: 'ShiftLeft', down: false },
    ]);
    viewer.send(key('KeyA', true, true));
    viewer.send({ type: 'control.shortcut', command: 'altF4' });
    await viewer.waitForMessage('error', (m) => m.code === 'input_not_permitted');
    // A second lowering, or one naming another session, changes nothing.
    plane.send({ type: 'session.lower', sessionId: 'ses-other' as never, level: 'view', pointer: false });
    plane.send({ type: 'session.lower', sessionId: sessionId as never, level: 'view', pointer: false });
    viewer.send({ type: 'control.end' });
    const end = await plane.waitFor('session.end', (m) => m.sessionId === sessionId);
    expect(end.input).toEqual({ accepted: 1, dropped: 2, pointer: { accepted: 0, dropped: 0 } });
    expect(recorded().keyboard.events).toHaveLength(2);
  });

  it('switches display on request and refuses an unknown one', async () => {
    const { viewer } = await openSession('modify');
    const info = await viewer.waitForMessage('session.info');
    expect(info.displays.map((d) => d.label)).toEqual(['Console', 'Front of Room 1', 'Front of Room 2']);
    expect(info.selectedDisplay).toBe('console');
    viewer.send({ type: 'control.selectDisplay', displayId: 'frontOfRoom2' as never });
    await viewer.waitForMessage('session.info', (m) => m.selectedDisplay === 'frontOfRoom2');
    viewer.send({ type: 'control.selectDisplay', displayId: 'frontOfRoom9' as never });
    await viewer.waitForMessage('error', (m) => m.code === 'display_not_found');
  });
});

describe('a view session (rule 7)', () => {
  it('drops and counts every key and shortcut before the keyboard, and says so once', async () => {
    const { sessionId, viewer } = await openSession('view');
    for (const code of ['KeyH', 'KeyI', 'Enter']) {
      viewer.send(key(code, true));
      viewer.send(key(code, false));
    }
    viewer.send({ type: 'control.shortcut', command: 'altF4' });
    viewer.send({ type: 'control.restartAfterSession', enabled: false });
    await viewer.waitForMessage('session.info', (m) => !m.restartAfterSession);
    expect(viewer.messages.filter((m) => m.type === 'error' && m.code === 'input_not_permitted')).toHaveLength(1);
    viewer.send({ type: 'control.end' });
    const end = await plane.waitFor('session.end', (m) => m.sessionId === sessionId);
    expect(end).toMatchObject({ reason: 'user_ended', input: { accepted: 0, dropped: 7 }, restarting: false });
    expect(recorded().keyboard.events).toEqual([]);
    expect(recorded().device.restarts).toBe(0);
    viewer.close();
    const next = await openSession('view');
    expect((await next.viewer.waitForMessage('session.info')).restartAfterSession).toBe(true);
  });

  it('survives a fuzzed data channel: nothing reaches the keyboard, the session still answers, and every message is in the dropped count', async () => {
    const { sessionId, viewer } = await openSession('view');
    const valid = JSON.stringify({ v: 1, type: 'input.key', code: 'KeyA', down: true, modifiers: { shift: false, ctrl: false, alt: false, meta: false } });
    const samples = fc.sample(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.json(),
        fc.constantFrom('{', 'null', '[]', '{"v":2,"type":"ping","t":1}', valid.replace('"v":1', '"v":"1"'), valid.replace('KeyA', '../../etc'), valid.replace('true', '"yes"')),
        fc.string({ maxLength: 200 }).map((s) => valid.slice(0, s.length % valid.length) + s),
      ),
      { numRuns: 600, seed: 42 },
    );
    for (const sample of samples) viewer.sendRaw(sample.length > 0 ? sample : ' ');
    viewer.sendRaw('x'.repeat(70_000));
    viewer.send({ type: 'ping', t: 7 });
    await viewer.waitForMessage('pong', (m) => m.t === 7, 15_000);
    expect(recorded().keyboard.events).toEqual([]);
    expect(room.agent.currentSession?.state).toBe('active');
    viewer.send({ type: 'control.end' });
    const end = await plane.waitFor('session.end', (m) => m.sessionId === sessionId);
    expect(end.input.accepted).toBe(0);
    expect(end.input.dropped).toBeGreaterThanOrEqual(samples.length);
  });
});

describe('pointer control', () => {
  const pointer = (action: 'move' | 'down' | 'up', x: number, y: number) =>
    action === 'move' ? { type: 'input.pointer' as const, action, x, y } : { type: 'input.pointer' as const, action, x, y, button: 'left' as const };

  it('drives the pointer on the selected display when the grant allows it, counts the events apart from keys, and lets go of a held button at the end', async () => {
    const { sessionId, viewer } = await openSession('modify', true);
    expect((await viewer.waitForMessage('session.info')).pointer).toBe(true);
    viewer.send({ type: 'control.selectDisplay', displayId: 'frontOfRoom2' as never });
    await viewer.waitForMessage('session.info', (m) => m.selectedDisplay === 'frontOfRoom2');
    viewer.send(pointer('move', 0.5, 0.5));
    viewer.send(pointer('down', 0.25, 0.5));
    viewer.send({ type: 'input.pointer', action: 'wheel', x: 0.25, y: 0.5, deltaY: 3 });
    await eventually(() => recorded().pointer.events.length === 5, 'two moves, a press, a move and a wheel');
    // The third synthetic monitor starts at x = 2 × 1280.
    expect(recorded().pointer.events).toEqual([{ move: [3200, 360] }, { move: [2880, 360] }, { button: 'left', down: true }, { move: [2880, 360] }, { wheel: 3 }]);
    plane.send({ type: 'session.end', sessionId: sessionId as never, reason: 'user_ended' });
    const end = await plane.waitFor('session.end');
    expect(recorded().pointer.events.at(-1)).toEqual({ button: 'left', down: false });
    expect(end.input).toEqual({ accepted: 0, dropped: 0, pointer: { accepted: 3, dropped: 0 } });
  });

  it('refuses and counts pointer events when the grant does not allow them, and in any view session (rule 7)', async () => {
    const modify = await openSession('modify', false);
    expect((await modify.viewer.waitForMessage('session.info')).pointer).toBe(false);
    modify.viewer.send(pointer('down', 0.5, 0.5));
    modify.viewer.send(pointer('up', 0.5, 0.5));
    modify.viewer.send({ type: 'ping', t: 1 });
    await modify.viewer.waitForMessage('pong');
    plane.send({ type: 'session.end', sessionId: modify.sessionId as never, reason: 'user_ended' });
    expect((await plane.waitFor('session.end')).input).toEqual({ accepted: 0, dropped: 0, pointer: { accepted: 0, dropped: 2 } });
    viewer?.close();
    await eventually(() => recorded().overlay.history.length === 2, 'the first ring down');

    // A grant that says pointer but view: the level wins.
    const view = await openSession('view', true);
    expect((await view.viewer.waitForMessage('session.info')).pointer).toBe(false);
    view.viewer.send(pointer('move', 0.1, 0.1));
    expect(await view.viewer.waitForMessage('error')).toMatchObject({ code: 'input_not_permitted' });
    plane.send({ type: 'session.end', sessionId: view.sessionId as never, reason: 'user_ended' });
    expect((await plane.waitFor('session.end', (m) => m.sessionId === view.sessionId)).input?.pointer).toEqual({ accepted: 0, dropped: 1 });
    expect(recorded().pointer.events).toEqual([]);
  });

  it('stops the pointer at once when pointer control is withdrawn mid-session (rule 14), letting go of a held button, while keys carry on; a lowering never raises', async () => {
    const { sessionId, viewer } = await openSession('modify', true);
    expect((await viewer.waitForMessage('session.info')).pointer).toBe(true);
    viewer.send(pointer('down', 0.5, 0.5));
    await eventually(() => recorded().pointer.events.some((e) => 'button' in e && e.down), 'the button held');
    plane.send({ type: 'session.lower', sessionId: sessionId as never, level: 'modify', pointer: false });
    await viewer.waitForMessage('session.info', (m) => m.pointer === false && m.level === 'modify');
    expect(recorded().pointer.events.at(-1)).toEqual({ button: 'left', down: false });
    const before = recorded().pointer.events.length;
    viewer.send(pointer('move', 0.1, 0.1));
    viewer.send(pointer('down', 0.1, 0.1));
    viewer.send(key('KeyA', true));
    await eventually(() => recorded().keyboard.events.length === 1, 'the key still reaching the room');
    // The server cannot give the pointer back this way.
    plane.send({ type: 'session.lower', sessionId: sessionId as never, level: 'modify', pointer: true });
    viewer.send(pointer('move', 0.2, 0.2));
    viewer.send({ type: 'ping', t: 3 });
    await viewer.waitForMessage('pong');
    expect(recorded().pointer.events).toHaveLength(before);
    plane.send({ type: 'session.end', sessionId: sessionId as never, reason: 'user_ended' });
    expect((await plane.waitFor('session.end', (m) => m.sessionId === sessionId)).input?.pointer).toEqual({ accepted: 1, dropped: 3 });
  });

  it('drops a malformed pointer event without moving anything: outside the picture, an unknown button, a wheel of a thousand notches', async () => {
    const { viewer } = await openSession('modify', true);
    viewer.sendRaw(JSON.stringify({ v: 1, type: 'input.pointer', action: 'move', x: 1.5, y: 0 }));
    viewer.sendRaw(JSON.stringify({ v: 1, type: 'input.pointer', action: 'down', x: 0, y: 0, button: 'fourth' }));
    viewer.sendRaw(JSON.stringify({ v: 1, type: 'input.pointer', action: 'wheel', x: 0, y: 0, deltaY: 1000 }));
    viewer.send({ type: 'ping', t: 2 });
    await viewer.waitForMessage('pong');
    expect(recorded().pointer.events).toEqual([]);
  });
});

describe('grants (rule 6), refused before the ring goes up', () => {
  const forgedKey = generateKeyPairSync('ed25519').privateKey;
  const cases: [string, (p: ControlPlane) => Promise<{ sessionId: string; grant: string }>, string][] = [
    ['forged', async (p) => {
      const fields = p.grantFields({ lvl: 'modify' });
      return p.offer('modify', { fields, token: await p.signGrant(fields, forgedKey) });
    }, 'grant_invalid'],
    ['expired', (p) => p.offer('modify', { fields: { iat: Math.floor(Date.now() / 1000) - 120, exp: Math.floor(Date.now() / 1000) - 60 } }), 'grant_expired'],
    ['for another room', (p) => p.offer('modify', { fields: { rid: 'room-elsewhere' } }), 'wrong_room'],
    ['from another tenant', (p) => p.offer('modify', { fields: { tid: 'tenant-other' } }), 'wrong_tenant'],
    ['raised to modify by the offer', async (p) => {
      const fields = p.grantFields({ lvl: 'view' });
      const token = await p.signGrant(fields);
      p.send({ type: 'session.offer', sessionId: fields.sid as never, grant: token, level: 'modify', ...loopbackIce });
      return { sessionId: fields.sid, grant: token };
    }, 'grant_invalid'],
    ['not a JWS at all', (p) => p.offer('modify', { token: 'not.a.grant' }), 'grant_invalid'],
  ];

  it.each(cases)('a grant %s is refused', async (_name, send, code) => {
    const { sessionId } = await send(plane);
    const reject = await plane.waitFor('session.reject', (m) => m.sessionId === sessionId);
    expect(reject.code).toBe(code);
    expect(recorded().overlay.history).toEqual([]);
    expect(room.agent.counters.grantsRefused).toBe(1);
  });

  it('a replayed grant is refused, even by a restarted agent', async () => {
    const first = await openSession('view');
    first.viewer.send({ type: 'control.end' });
    await plane.waitFor('session.end');
    await room.restart();
    plane.send({ type: 'session.offer', sessionId: first.sessionId as never, grant: first.grant, level: 'view', ...loopbackIce });
    const reject = await plane.waitFor('session.reject', (m) => m.sessionId === first.sessionId);
    expect(reject.code).toBe('grant_replayed');
  });
});

describe('calls (rules 5 and 10)', () => {
  it('refuses a session while the room is in a call', async () => {
    room.setRoomState({ inCall: true });
    await plane.waitFor('agent.callState', (m) => m.inCall);
    const { sessionId } = await plane.offer('modify');
    const reject = await plane.waitFor('session.reject', (m) => m.sessionId === sessionId);
    expect(reject.code).toBe('room_in_call');
    expect(recorded().overlay.history).toEqual([]);
  });

  it('ends the session when a call starts, tells the console why, and does not restart the room', async () => {
    const { sessionId, viewer } = await openSession('modify');
    const ended = plane.waitFor('session.end', (m) => m.sessionId === sessionId);
    room.setRoomState({ inCall: true });
    expect(await viewer.waitForMessage('session.ending')).toMatchObject({ reason: 'call_started' });
    const end = await ended;
    expect(end).toMatchObject({ reason: 'call_started', restarting: false });
    expect(recorded().overlay.visible).toBe(false);
    expect(recorded().device.restarts).toBe(0);
  });

  it('reports health signals and call state as they change', async () => {
    room.setRoomState({ signals: { camera: 'error' } });
    const health = await plane.waitFor('agent.health', (m) => m.signals.camera === 'error');
    expect(health.signals).toMatchObject({ app: 'ok', camera: 'error' });
    expect(health.displays).toHaveLength(3);
  });
});

describe('no audio (rule 9)', () => {
  it('ends a session whose answer asks for audio, and lowers the ring', async () => {
    const { sessionId } = await plane.offer('modify');
    viewer = new Viewer(plane, sessionId);
    viewer.askForAudio = true;
    const end = await plane.waitFor('session.end', (m) => m.sessionId === sessionId);
    expect(end.reason).toBe('error');
    expect(recorded().overlay.history).toEqual(['show', 'hide']);
  });
});

describe('the server connection', () => {
  it('drops garbage from the server and keeps serving', async () => {
    for (const raw of ['', '{', '{"v":1,"type":"session.offer"}', '{"v":9,"type":"agent.welcome"}', '{"v":1,"type":"session.end","sessionId":"x","reason":"boom"}']) plane.sendRaw(raw);
    const { sessionId } = await plane.offer('view');
    await plane.waitFor('session.accept', (m) => m.sessionId === sessionId);
    expect(room.agent.connection.invalidFrames).toBe(5);
  });

  it('treats an oversized frame as a broken connection and reconnects', async () => {
    plane.sendRaw('x'.repeat(70_000));
    await plane.waitForAgentGone();
    await plane.waitForAgent();
    const { sessionId } = await plane.offer('view');
    await plane.waitFor('session.accept', (m) => m.sessionId === sessionId);
  });

  it('takes a server it has heard nothing from for three beats as gone, and reconnects', async () => {
    expect(plane.connections).toBe(1);
    plane.silent = true;
    // The plane answered every ping until now: after 1.5 beats the agent has heard nothing for at most 2.5, within the rules.
    await new Promise((r) => setTimeout(r, 1.5 * plane.heartbeatMs));
    expect(plane.connected).toBe(true);
    await plane.waitForAgentGone();
    plane.silent = false;
    await plane.waitForAgent();
    expect(plane.connections).toBe(2);
  });

  it('ends a session when the server stays away past the grace period, lowering the ring', async () => {
    await openSession('modify');
    const ended = new Promise<string>((resolve) => room.agent.onSessionEnded((s) => resolve(s.summary!.reason)));
    await plane.kill();
    expect(await ended).toBe('control_plane_lost');
    expect(recorded().overlay.visible).toBe(false);
  });

  it('keeps its end report until the server acknowledges it, sending it again on every reconnect, also after a restart', async () => {
    await room.restart({ graceMs: 60_000 });
    const { sessionId, viewer } = await openSession('modify');
    viewer.send(key('KeyA', true));
    viewer.send(key('KeyA', false));
    await eventually(() => recorded().keyboard.events.length === 2, 'the key typed');
    const port = plane.port;
    await plane.kill();
    plane.heldSession = null;
    await plane.listen(port);
    const report = await plane.waitFor('session.end', (m) => m.sessionId === sessionId);
    expect(report).toMatchObject({ reason: 'control_plane_lost', input: { accepted: 2, dropped: 0 }, endedAt: expect.any(String) });
    const reports = () => plane.received.filter((m) => m.type === 'session.end' && m.sessionId === sessionId);
    expect(reports()).toHaveLength(1);

    // Never acknowledged: the restarted agent still has it, and says it again.
    await room.restart();
    await eventually(() => reports().length === 2, 'the report again after a restart');
    expect(reports()[1]).toEqual(reports()[0]);

    plane.send({ type: 'session.ack', sessionId: sessionId as never });
    await eventually(() => JSON.parse(readFileSync(join(room.dataDir, 'end-reports.json'), 'utf8')).length === 0, 'the report forgotten');
    await room.restart();
    await plane.waitForAgent();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reports()).toHaveLength(2);
  });

  it('keeps a session across a short outage when the server still holds it', async () => {
    await room.restart({ graceMs: 60_000 });
    const { sessionId } = await openSession('modify');
    const port = plane.port;
    await plane.kill();
    plane.heldSession = sessionId;
    const health = plane.waitFor('agent.health');
    await plane.listen(port);
    await health;
    expect(room.agent.currentSession?.state).toBe('active');
    expect(recorded().overlay.visible).toBe(true);
  });

  it('ends a session the server no longer holds when it comes back', async () => {
    await room.restart({ graceMs: 60_000 });
    await openSession('modify');
    const ended = new Promise<string>((resolve) => room.agent.onSessionEnded((s) => resolve(s.summary!.reason)));
    const port = plane.port;
    await plane.kill();
    plane.heldSession = null;
    await plane.listen(port);
    expect(await ended).toBe('control_plane_lost');
    expect(recorded().overlay.visible).toBe(false);
  });
});
