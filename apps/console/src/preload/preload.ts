import { contextBridge, ipcRenderer } from 'electron';
import type { ElectronBridge } from '../api/rpc';

// The whole surface the sandboxed renderer gets: one call and one event stream.
// The main process checks the sender and validates every argument.
const bridge: ElectronBridge = {
  call: (method, args) => ipcRenderer.invoke('roomlink:call', method, args),
  onEvent: (listener) => {
    ipcRenderer.on('roomlink:event', (_event, payload) => listener(payload));
  },
};
contextBridge.exposeInMainWorld('roomlinkBridge', bridge);
