import type { Room } from '@roomlink/shared';
import { useEffect, useState } from 'react';
import { useConsole } from '../store/store';

/** How often the room's presence is asked for while the technician waits for it to come back. */
const RETURN_POLL_MS = 2_000;

/** The room going down for its restart and coming back, as the server sees its agent: the technician knows when to look again. */
export function RoomReturn({ roomId, roomName }: { roomId: Room['id']; roomName: string }) {
  const online = useConsole((s) => s.rooms.find((r) => r.id === roomId)?.online ?? false);
  const syncRooms = useConsole((s) => s.syncRooms);
  const [wentDown, setWentDown] = useState(false);
  useEffect(() => {
    const timer = setInterval(() => void syncRooms(), RETURN_POLL_MS);
    return () => clearInterval(timer);
  }, [syncRooms]);
  useEffect(() => {
    if (!online) setWentDown(true);
  }, [online]);
  const text = !wentDown ? `Waiting for ${roomName} to restart…` : online ? `${roomName} is back online.` : `${roomName} is offline while it restarts…`;
  return (
    <p className="room-return" role="status" data-testid="room-return" data-state={!wentDown ? 'waiting' : online ? 'back' : 'down'}>
      {text}
    </p>
  );
}
