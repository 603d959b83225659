import type { Room } from '@roomlink/shared';
import { useEffect, useState } from 'react';
import { useConsole } from '../store/store';

/** The room going down for its restart and coming back, as the server pushes its presence: the technician knows when to look again. */
export function RoomReturn({ roomId, roomName }: { roomId: Room['id']; roomName: string }) {
  const online = useConsole((s) => s.rooms.find((r) => r.id === roomId)?.online ?? false);
  const [wentDown, setWentDown] = useState(false);
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
