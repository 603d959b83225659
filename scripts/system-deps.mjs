#!/usr/bin/env node
// The Debian packages the tests and `npm start` need. Checks for them; as root
// on Debian, installs what is missing; otherwise stops with the exact command.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const systemPackages = [
  'chromium', // the console UI and end-to-end tests, driven by playwright-core
  'xvfb', // a plain X server for single-display tests
  'xserver-xorg-core', // Xorg, for three real monitors
  'xserver-xorg-video-dummy', // its dummy video driver (DUMMY0..n outputs)
  'x11-utils', // xdpyinfo: waiting for an X server to be ready
  'x11-xserver-utils', // xrandr: laying out the monitors
  'xdotool', // focusing windows on an X display with no window manager
  'openssl', // the local sign-in provider's CA and certificate
  'coturn', // TURN for rooms and technicians behind NAT: the relay tests and npm run cluster
  'haproxy', // the load balancer in front of server nodes: its tests and npm run cluster
  'postgresql', // the clustered store: its tests and npm run cluster (each starts its own throwaway instance)
  'redis-server', // presence and signaling between server nodes: its tests and npm run cluster
];

function missingPackages() {
  const run = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\\n', ...systemPackages], { encoding: 'utf8' });
  const installed = new Set(
    run.stdout
      .split('\n')
      .filter((line) => line.endsWith(' installed'))
      .map((line) => line.split(' ')[0]),
  );
  return systemPackages.filter((name) => !installed.has(name));
}

const isDebian = existsSync('/etc/debian_version') && existsSync('/usr/bin/dpkg-query');
if (!isDebian) {
  console.error(`system-deps: not a Debian system; install the equivalents of: ${systemPackages.join(' ')}`);
  process.exit(process.env.ROOMLINK_SKIP_SYSTEM_DEPS ? 0 : 1);
}
const missing = missingPackages();
if (missing.length === 0) process.exit(0);

const command = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing.join(' ')}`;
if (process.getuid?.() !== 0) {
  console.error(`system-deps: missing Debian packages: ${missing.join(' ')}\nRun as root:\n  ${command}`);
  process.exit(1);
}
console.log(`system-deps: installing ${missing.join(' ')}`);
execFileSync('sh', ['-c', command], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
const still = missingPackages();
if (still.length > 0) {
  console.error(`system-deps: still missing after apt-get: ${still.join(' ')}`);
  process.exit(1);
}
