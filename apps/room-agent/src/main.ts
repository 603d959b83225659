import { runAgent } from './run';

// wrtc can keep a process alive or crash it at natural exit, so the CLI always exits explicitly.
runAgent(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`roomlink-agent: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
