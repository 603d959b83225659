import type { Logger } from '../../core/log';
import type { Platform, RoomState } from '../../core/platform';
import { X11Capture, x11Displays } from './capture';
import { CommandDevice } from './device';
import { X11Keyboard, X11Pointer } from './keyboard';
import { X11Overlay } from './overlay';
import { openDisplay } from './xconnection';

export interface X11Options {
  display: string;
  roomState: RoomState;
  restartCommand: string;
  logDir: string;
  /** Hears X protocol errors (the adapter carries on after them) and how capture reads pixels. */
  log: Logger;
}

/** The Linux room PC: real monitors, capture, XTEST keys and the ring on an X display. */
export async function x11Platform(options: X11Options): Promise<Platform> {
  // node-screenshots and libnut open the display named by DISPLAY; keep every X client on the same one.
  process.env.DISPLAY = options.display;
  const x = await openDisplay(options.display, (error) => options.log.warn({ err: error.message }, 'X error'));
  const capture = new X11Capture(x);
  await capture.init();
  options.log.info({ display: options.display, reading: capture.reading }, 'x11 capture ready');
  return {
    name: 'x11',
    displays: x11Displays,
    capture,
    keyboard: new X11Keyboard(options.display),
    pointer: new X11Pointer(),
    overlay: new X11Overlay(x),
    device: new CommandDevice(options.restartCommand, options.logDir),
    roomState: options.roomState,
    lost: x.lost,
    close: async () => {
      options.roomState.close();
      await capture.close();
      await x.close();
    },
  };
}
