export { startServer, defaultTimings, DEFAULT_SERVER_PORT, type ServerConfig, type RunningServer } from './server';
