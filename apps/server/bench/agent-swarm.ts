import { createPrivateKey, sign } from 'node:crypto';
import WebSocket from 'ws';
import { agentProofPayload, decodeMessage, encodeMessage, reconnectDelay, ServerToAgent, type AgentToServer, type Unversioned } from '@roomlink/shared';

/**
 * Thousands of room agents in one process, for the cluster benchmark (one
 * process holds at most ~19,000 sockets here: the descriptor limit is
 * 20,000). Each does what a room's agent does on the wire: hello, proof,
 * a ping every heartbeat, accept an offer (and report it active, there being no media), answer each signal by sending it
 * back (so a console can time a round trip), report a session's end, and
 * reconnect with jittered backoff when its server goes away.
 *
 * Run with `fork`: the parent sends `{ type: 'connect', urls, roomIds, privateKeyPem }`
 * and later `{ type: 'retarget', urls }`; the swarm reports `{ type: 'welcomed', count }`.
 */

export type SwarmCommand = { type: 'connect'; urls: string[]; roomIds: string[]; privateKeyPem: string } | { type: 'retarget'; urls: string[] };
/** How each try to connect ended, by cause: `welcomed`, `refused <status>`, `error <message>`, or `closed <code>` before the welcome. */
export type Outcomes = Record<string, number>;
export type SwarmReport = { type: 'welcomed'; count: number; outcomes: Outcomes };

/** First connections in flight at once per swarm, while the agents come up. */
const ROLL_OUT_WINDOW = 100;
/** A heartbeat is cut into this many slices, each pinged in turn. */
const HEARTBEAT_SLICES = 100;
let urls: string[] = [];
let privateKey: ReturnType<typeof createPrivateKey>;
let welcomed = 0;
let turn = 0;
let heartbeatMs = 10_000;
/** Each welcomed socket in the slice of the heartbeat it was welcomed in (see `beat`). */
const slices = Array.from({ length: HEARTBEAT_SLICES }, () => new Set<WebSocket>());
let tick = 0;
const outcomes: Outcomes = {};

const report = () => process.send!({ type: 'welcomed', count: welcomed, outcomes } satisfies SwarmReport);
let reportTimer: NodeJS.Timeout | undefined;
const reportSoon = () => (reportTimer ??= setTimeout(() => ((reportTimer = undefined), report()), 100));
const count = (outcome: string) => {
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  reportSoon();
};

/** `settled`: called once, when this first try is welcomed or fails (the initial roll-out's window). */
function connect(roomId: string, attempt: number, settled: () => void = () => undefined): void {
  const url = urls[turn++ % urls.length]!;
  // As the room agent does: an upgrade unanswered in 10 s (a listen queue overflowing) is given up and tried again.
  const ws = new WebSocket(`${url.replace('http', 'ws')}/agent`, { perMessageDeflate: false, handshakeTimeout: 10_000 });
  let isWelcomed = false;
  const send = (message: Unversioned<AgentToServer>) => ws.readyState === WebSocket.OPEN && ws.send(encodeMessage(message));
  ws.on('open', () => send({ type: 'agent.hello', roomId: roomId as never, agentVersion: 'bench', platform: 'synthetic' }));
  ws.on('message', (data) => {
    const parsed = decodeMessage(ServerToAgent, String(data));
    if (!parsed.ok) return;
    const message = parsed.value;
    switch (message.type) {
      case 'agent.challenge':
        send({ type: 'agent.proof', signature: sign(null, Buffer.from(agentProofPayload(message.nonce, roomId)), privateKey).toString('base64url') });
        return;
      case 'agent.welcome':
        isWelcomed = true;
        count('welcomed');
        heartbeatMs = message.heartbeatMs;
        settled();
        beat();
        slices[tick % HEARTBEAT_SLICES]!.add(ws);
        welcomed += 1;
        reportSoon();
        return;
      case 'session.offer':
        // No media here: the session is up as soon as it is accepted.
        send({ type: 'session.accept', sessionId: message.sessionId });
        send({ type: 'session.active', sessionId: message.sessionId });
        return;
      case 'session.signal':
        send({ type: 'session.signal', sessionId: message.sessionId, data: message.data });
        return;
      case 'session.end':
        send({ type: 'session.end', sessionId: message.sessionId, reason: message.reason, input: { accepted: 0, dropped: 0 }, restarting: false });
        return;
      default:
        return;
    }
  });
  let failed = false;
  ws.on('unexpected-response', (_request, response) => {
    failed = true;
    count(`refused ${response.statusCode}`);
    ws.terminate();
  });
  ws.on('error', (error) => {
    if (!failed) count(`error ${error.message.replace(/\d+(\.\d+)*(:\d+)?/g, 'N')}`);
    failed = true;
  });
  ws.on('close', (code) => {
    if (!failed && !isWelcomed) count(`closed ${code}`);
    settled();
    for (const slice of slices) slice.delete(ws);
    if (isWelcomed) {
      welcomed -= 1;
      reportSoon();
    }
    setTimeout(() => connect(roomId, isWelcomed ? 0 : attempt + 1), reconnectDelay(isWelcomed ? 0 : attempt, 500, 30_000));
  });
}

/**
 * Each agent pings its server every `heartbeatMs` from its welcome, as a
 * room's agent does: one timer pings a slice of the heartbeat at a time.
 * Pinging all 10,000 at once would hold the server's event loop for tens of
 * milliseconds every heartbeat (seen in a CPU profile), which no fleet of
 * rooms, welcomed over minutes, does.
 */
let beating: NodeJS.Timeout | undefined;
const beat = () =>
  (beating ??= setInterval(() => {
    tick += 1;
    for (const ws of slices[tick % HEARTBEAT_SLICES]!) if (ws.readyState === WebSocket.OPEN) ws.ping();
  }, heartbeatMs / HEARTBEAT_SLICES));

process.on('message', (command: SwarmCommand) => {
  if (command.type === 'retarget') {
    urls = command.urls;
    return;
  }
  urls = command.urls;
  privateKey = createPrivateKey(command.privateKeyPem);
  // Rooms come up a window at a time, as a roll-out would: never more first tries at once than the window.
  const queue = [...command.roomIds];
  const next = () => {
    const roomId = queue.shift();
    if (roomId === undefined) return;
    let done = false;
    connect(roomId, 0, () => {
      if (done) return;
      done = true;
      next();
    });
  };
  for (let i = 0; i < ROLL_OUT_WINDOW; i += 1) next();
});
