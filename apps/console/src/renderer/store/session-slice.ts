import type { DisplayId, DisplayInfo, Room, SessionLevel, ShortcutCommand } from '@roomlink/shared';
import { failureOf } from '../errors';
import { SessionConnection, type SessionEvent, type SessionPhase } from '../session/connection';
import type { SliceCreator } from './store';

export interface SessionView {
  roomId: Room['id'];
  roomName: string;
  phase: SessionPhase;
  /** When each phase was entered (ms, performance clock), for the progress line. */
  phaseAt: Partial<Record<SessionPhase, number>>;
  level: SessionLevel | null;
  displays: DisplayInfo[];
  selectedDisplay: DisplayId | null;
  restartAfterSession: boolean;
  /** Mouse and touch on the picture reach the room (the room says so in its session info). */
  pointer: boolean;
  /** The display asked for, until its first picture is drawn: the old picture is still up meanwhile. */
  switchingTo: DisplayId | null;
  stream: MediaStream | null;
  /** Why it ended, for the technician. */
  endMessage: string | null;
  /** The room restarts after the session: the ended window follows it until it is back. */
  restarting: boolean;
  /** The last command the room refused. */
  notice: string | null;
}

export interface SessionSlice {
  session: SessionView | null;
  startSession(room: Room): Promise<void>;
  /** Ends the live session, if any; the window stays to say why. */
  endSession(): void;
  closeSessionWindow(): void;
  markLive(): void;
  selectDisplay(displayId: DisplayId): void;
  /** The asked-for display's first picture is on screen. */
  displaySwitched(): void;
  sendShortcut(command: ShortcutCommand): void;
  setRestartAfterSession(enabled: boolean): void;
  restartDevice(): void;
  /** The live connection, for the video's keyboard handler. */
  connection(): SessionConnection | null;
}

export const sessionSlice: SliceCreator<SessionSlice> = (set, get, { api, events }) => {
  let connection: SessionConnection | null = null;
  const update = (patch: Partial<SessionView>) => set((state) => (state.session ? { session: { ...state.session, ...patch } } : {}));
  const enter = (phase: SessionPhase) =>
    set((state) => (state.session && state.session.phase !== 'ended' ? { session: { ...state.session, phase, phaseAt: { ...state.session.phaseAt, [phase]: performance.now() } } } : {}));

  return {
    session: null,
    startSession: async (room) => {
      get().endSession();
      set({
        session: { roomId: room.id, roomName: room.name, phase: 'requesting', phaseAt: { requesting: performance.now() }, level: null, displays: [], selectedDisplay: null, restartAfterSession: true, pointer: false, switchingTo: null, stream: null, endMessage: null, restarting: false, notice: null },
      });
      // The room may answer (or refuse) before the start request's reply arrives: keep what comes early.
      const backlog: SessionEvent[] = [];
      const offs = [events.on('session.signal', (event) => backlog.push({ signal: event })), events.on('session.state', (event) => backlog.push({ state: event }))];
      const off = () => offs.forEach((unsubscribe) => unsubscribe());
      try {
        const started = await api.startSession(room.id);
        off();
        if (get().session?.roomId !== room.id || get().session?.phase === 'ended') {
          void api.endSession(started.sessionId).catch(() => undefined);
          return;
        }
        update({ level: started.level });
        enter('waiting');
        connection = new SessionConnection(
          api,
          events,
          started,
          {
            phase: enter,
            info: (info) => update({ level: info.level, displays: info.displays, selectedDisplay: info.selectedDisplay, restartAfterSession: info.restartAfterSession, pointer: info.pointer }),
            stream: (stream) => update({ stream }),
            refused: (notice) => update({ notice }),
            ended: (endMessage, restarting) => {
              connection = null;
              enter('ended');
              update({ endMessage, restarting, stream: null });
              // The room's state changed under the list (a call began, it went offline): show it as it is now.
              void get().syncRooms();
            },
          },
          backlog.filter((event) => ('signal' in event ? event.signal.sessionId : event.state.sessionId) === started.sessionId),
        );
      } catch (error) {
        off();
        enter('ended');
        update({ endMessage: failureOf(error).message });
        void get().syncRooms();
      }
    },
    endSession: () => connection?.end(),
    closeSessionWindow: () => {
      connection?.end();
      set({ session: null });
    },
    markLive: () => {
      if (get().session?.phase === 'connecting' || get().session?.phase === 'waiting') enter('live');
    },
    selectDisplay: (displayId) => {
      if (displayId === get().session?.selectedDisplay) return;
      connection?.send({ type: 'control.selectDisplay', displayId });
      update({ selectedDisplay: displayId, switchingTo: displayId });
    },
    displaySwitched: () => update({ switchingTo: null }),
    sendShortcut: (command) => connection?.send({ type: 'control.shortcut', command }),
    setRestartAfterSession: (enabled) => {
      connection?.send({ type: 'control.restartAfterSession', enabled });
      update({ restartAfterSession: enabled });
    },
    restartDevice: () => connection?.send({ type: 'control.restartDevice' }),
    connection: () => connection,
  };
};
