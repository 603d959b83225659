import { type DisplayInfo, displayRoleLabels, ShortcutCommand, shortcutLabels } from '@roomlink/shared';
import { useEffect, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { HeldKeys, keyMessage } from '../session/keyboard';
import { PictureReceiver } from '../session/picture';
import { pictureFraction, pointerMessage, wheelNotches } from '../session/pointer';
import type { SessionConnection, SessionPhase } from '../session/connection';
import { useConsole } from '../store/store';
import { RoomReturn } from './RoomReturn';
import { Confirm, Dialog } from './ui';

const steps: [SessionPhase, string][] = [
  ['requesting', 'Requesting'],
  ['waiting', 'Waiting for the room'],
  ['connecting', 'Connecting'],
  ['live', 'Live'],
];

export function SessionWindow() {
  const session = useConsole((s) => s.session)!;
  const actions = useConsole(
    useShallow((s) => ({
      endSession: s.endSession,
      close: s.closeSessionWindow,
      markLive: s.markLive,
      selectDisplay: s.selectDisplay,
      displaySwitched: s.displaySwitched,
      sendShortcut: s.sendShortcut,
      setRestartAfterSession: s.setRestartAfterSession,
      restartDevice: s.restartDevice,
      connection: s.connection,
    })),
  );
  const helpUrl = useConsole((s) => s.status?.helpUrl ?? '/help');
  const stage = useRef<HTMLDivElement>(null);
  const [confirmRestart, setConfirmRestart] = useState(false);
  const [confirmEnd, setConfirmEnd] = useState(false);
  const ended = session.phase === 'ended';
  // Refused before any picture (a call began, the room went away): a short answer, not an empty session window.
  const neverStarted = ended && session.phaseAt.live === undefined;
  const modify = session.level === 'modify';
  const switchingTo = session.displays.find((d) => d.id === session.switchingTo) ?? null;

  // Closing the console's window ends the session on the room too.
  useEffect(() => {
    const end = () => actions.endSession();
    window.addEventListener('pagehide', end);
    return () => window.removeEventListener('pagehide', end);
  }, [actions]);

  // The picture takes the keyboard back after every toolbar action: a technician expects to type, not to click the picture again.
  const backToPicture = () => stage.current?.querySelector('canvas')?.focus();
  const fullScreen = () =>
    void stage.current
      ?.requestFullscreen()
      .then(backToPicture)
      .catch(() => undefined);

  return (
    // Esc is a key a technician presses in the room all day: on the window it asks before ending anything (a restart may follow).
    <Dialog title={`Session with ${session.roomName}`} className={neverStarted ? 'session-window not-started' : 'session-window'} onClose={ended ? actions.close : () => setConfirmEnd(true)}>
      <header className="session-bar">
        <h2>{session.roomName}</h2>
        {session.level && <span className={`badge level-${session.level}`} data-testid="session-level">{session.level === 'view' ? 'VIEW' : 'MODIFY'}</span>}
        <Progress phase={session.phase} phaseAt={session.phaseAt} />
        <span className="spacer" />
        {!ended && (
          // With restart after session on, ending restarts the room: the button asks first, saying so.
          <button type="button" className="danger" onClick={() => (session.restartAfterSession ? setConfirmEnd(true) : actions.endSession())}>
            End session
          </button>
        )}
        {ended && (
          <button type="button" onClick={actions.close} autoFocus>
            Close
          </button>
        )}
      </header>
      {!ended && (
        <div className="session-tools" role="toolbar" aria-label="Session commands">
          <div role="group" aria-label="Displays">
            {session.displays.map((display) => (
              <button
                key={display.id}
                type="button"
                aria-pressed={display.id === session.selectedDisplay}
                aria-busy={display.id === session.switchingTo}
                onClick={() => {
                  actions.selectDisplay(display.id);
                  backToPicture();
                }}
              >
                {displayName(display)}
              </button>
            ))}
          </div>
          <button type="button" onClick={fullScreen} disabled={!session.stream}>
            Full screen
          </button>
          {modify && (
            <select
              aria-label="Shortcut commands"
              value=""
              onChange={(e) => {
                if (e.target.value) actions.sendShortcut(e.target.value as ShortcutCommand);
                backToPicture();
              }}
            >
              <option value="">Shortcut commands…</option>
              {ShortcutCommand.options.map((command) => (
                <option key={command} value={command}>
                  {shortcutLabels[command]}
                </option>
              ))}
            </select>
          )}
          <label className="toggle">
            <input
              type="checkbox"
              checked={session.restartAfterSession}
              onChange={(e) => {
                actions.setRestartAfterSession(e.target.checked);
                backToPicture();
              }}
            />
            Restart after session
          </label>
          <button type="button" onClick={() => setConfirmRestart(true)} disabled={!session.stream}>
            Restart device
          </button>
          <a href={helpUrl} target="_blank" rel="noreferrer">
            Help
          </a>
        </div>
      )}
      {session.notice && !ended && (
        <p className="notice" role="status">
          {session.notice}
        </p>
      )}
      <div ref={stage} className="stage">
        {ended ? (
          <div className="ended">
            <p role="status" data-testid="session-ended">
              {neverStarted ? 'The session did not start.' : 'Session ended.'} {session.endMessage}
            </p>
            {session.restarting && <RoomReturn roomId={session.roomId} roomName={session.roomName} />}
          </div>
        ) : (
          <>
            <RoomPicture
              phase={session.phase}
              modify={modify}
              pointer={modify && session.pointer}
              switching={session.switchingTo !== null}
              onFirstFrame={actions.markLive}
              onSwitched={actions.displaySwitched}
              connection={actions.connection}
            />
            {switchingTo && (
              <p className="switching" role="status" data-testid="switching">
                Switching to {displayName(switchingTo)}…
              </p>
            )}
          </>
        )}
      </div>
      {confirmEnd && !ended && (
        <Confirm
          title="End the session?"
          body={<p>Your view of {session.roomName} closes{session.restartAfterSession ? ', and the room restarts' : ''}.</p>}
          action="End session"
          danger
          onCancel={() => setConfirmEnd(false)}
          onConfirm={() => {
            setConfirmEnd(false);
            actions.endSession();
          }}
        />
      )}
      {confirmRestart && (
        <Confirm
          title="Restart the device?"
          body={<p>{session.roomName} restarts now and the session ends. Anyone using the room is interrupted.</p>}
          action="Restart device"
          danger
          onCancel={() => setConfirmRestart(false)}
          onConfirm={() => {
            setConfirmRestart(false);
            actions.restartDevice();
          }}
        />
      )}
    </Dialog>
  );
}

const displayName = (display: DisplayInfo) => (display.role ? displayRoleLabels[display.role] : display.label);

function Progress({ phase, phaseAt }: { phase: SessionPhase; phaseAt: Partial<Record<SessionPhase, number>> }) {
  const [, tick] = useState(0);
  useEffect(() => {
    if (phase === 'live' || phase === 'ended') return;
    const timer = setInterval(() => tick((n) => n + 1), 100);
    return () => clearInterval(timer);
  }, [phase]);
  const start = phaseAt.requesting ?? performance.now();
  const end = phaseAt.live ?? phaseAt.ended ?? performance.now();
  return (
    <ol className="progress" aria-label="Connection progress" data-testid="session-phase" data-phase={phase}>
      {steps.map(([id, label]) => (
        <li key={id} className={phaseAt[id] !== undefined ? (id === phase ? 'current' : 'done') : ''}>
          {label}
        </li>
      ))}
      <li className="elapsed">{((end - start) / 1000).toFixed(1)} s</li>
    </ol>
  );
}

interface RoomPictureProps {
  phase: SessionPhase;
  modify: boolean;
  /** Mouse and touch drive the room's pointer. */
  pointer: boolean;
  /** Another display was asked for: the next picture of a new display ends the switch. */
  switching: boolean;
  onFirstFrame(): void;
  onSwitched(): void;
  connection(): SessionConnection | null;
}

/**
 * The room's display: a canvas the picture channel's tiles and the video
 * region are drawn on (see `PictureReceiver`); in a modify session it takes
 * the keyboard while it has focus, and with pointer control the mouse and
 * touch on it.
 */
function RoomPicture({ phase, modify, pointer, switching, onFirstFrame, onSwitched, connection }: RoomPictureProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const held = useRef(new HeldKeys());
  const drawing = useRef<{ connection: SessionConnection; receiver: PictureReceiver } | null>(null);
  /** The picture being drawn when the switch was asked for; a frame of any other one ends it. */
  const switchFrom = useRef<number | null>(null);
  const pendingMove = useRef<{ x: number; y: number } | null>(null);
  useEffect(() => {
    switchFrom.current = switching ? (drawing.current?.receiver.epoch ?? null) : null;
  }, [switching]);
  // The connection exists from the 'waiting' phase on; the picture is drawn on this canvas from then until it unmounts.
  useEffect(() => {
    const live = connection();
    if (!canvas.current || !live || drawing.current?.connection === live) return;
    drawing.current?.receiver.close();
    const receiver = new PictureReceiver(canvas.current, () => {
      onFirstFrame();
      if (switchFrom.current !== null && receiver.epoch !== switchFrom.current) {
        switchFrom.current = null;
        onSwitched();
      }
    });
    live.drawPictureOn(receiver);
    drawing.current = { connection: live, receiver };
  }, [phase, onFirstFrame, onSwitched, connection]);
  // The wheel is taken only with pointer control, and then it must not scroll the console (a passive listener could not stop it).
  useEffect(() => {
    const element = canvas.current;
    if (!element || !pointer) return;
    const wheel = (event: WheelEvent) => {
      event.preventDefault();
      const at = pictureFraction(element, event.clientX, event.clientY);
      const deltaY = wheelNotches(event.deltaY, event.deltaMode);
      if (at && deltaY) connection()?.send({ type: 'input.pointer', action: 'wheel', ...at, deltaY });
    };
    element.addEventListener('wheel', wheel, { passive: false });
    return () => element.removeEventListener('wheel', wheel);
  }, [pointer, connection]);
  useEffect(() => () => drawing.current?.receiver.close(), []);

  const onKey = (event: React.KeyboardEvent, down: boolean) => {
    if (!modify) return;
    // Esc leaves full screen, as the browser promises; everything else goes to the room.
    if (event.key === 'Escape' && document.fullscreenElement) return;
    event.preventDefault();
    const message = keyMessage(event.nativeEvent, down);
    if (!message) return;
    held.current.track(message);
    connection()?.send(message);
  };
  const release = () => {
    for (const up of held.current.releaseAll()) connection()?.send(up);
  };
  const onPointer = (event: React.PointerEvent<HTMLCanvasElement>, kind: 'move' | 'down' | 'up') => {
    if (!pointer) return;
    const at = pictureFraction(event.currentTarget, event.clientX, event.clientY);
    if (kind === 'move') {
      // Moves go out at most once a frame: the newest position is all the room needs.
      if (!pendingMove.current && at) requestAnimationFrame(() => {
        const next = pendingMove.current;
        pendingMove.current = null;
        const message = pointerMessage('move', next, 0);
        if (message) connection()?.send(message);
      });
      pendingMove.current = at ?? pendingMove.current;
      return;
    }
    event.preventDefault();
    if (kind === 'down') {
      event.currentTarget.focus();
      event.currentTarget.setPointerCapture(event.pointerId);
    }
    const message = pointerMessage(kind, at, event.button);
    if (message) connection()?.send(message);
  };

  return (
    <canvas
      ref={canvas}
      className="remote-picture"
      data-testid="remote-picture"
      width={0}
      height={0}
      tabIndex={0}
      aria-label={pointer ? 'Room display — your keyboard and mouse go to the room' : modify ? 'Room display — click to type into the room' : 'Room display (view only)'}
      onKeyDown={(e) => onKey(e, true)}
      onKeyUp={(e) => onKey(e, false)}
      onBlur={release}
      onClick={(e) => e.currentTarget.focus()}
      onPointerMove={(e) => onPointer(e, 'move')}
      onPointerDown={(e) => onPointer(e, 'down')}
      onPointerUp={(e) => onPointer(e, 'up')}
      onContextMenu={(e) => pointer && e.preventDefault()}
      data-pointer={pointer}
    />
  );
}
