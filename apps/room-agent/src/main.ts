import { relaunch, runsOnGlibc, tunedEnvironment } from './allocator';
import { runAgent } from './run';

const tuned = tunedEnvironment(process.env, runsOnGlibc);
// wrtc can keep a process alive or crash it at natural exit, so the CLI always exits explicitly.
(tuned ? relaunch(tuned) : runAgent(process.argv.slice(2))).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`roomlink-agent: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
