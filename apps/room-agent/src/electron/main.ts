import { app } from 'electron';
import { runAgent } from '../run';
import { ElectronRing } from './ring';

/**
 * The agent on Windows runs inside Electron only because the ring needs
 * windows; everything else is the same core as on Linux.
 */
app.disableHardwareAcceleration();
app.on('window-all-closed', () => undefined);
void app.whenReady().then(async () => {
  const code = await runAgent(process.argv.slice(2), { overlay: new ElectronRing() });
  app.exit(code);
});
