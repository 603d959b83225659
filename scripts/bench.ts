import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench [-- filter]`: runs every `bench/*.bench.ts` of every
 * workspace and of `tests/`, one process each; each prints its table and writes its JSON
 * under bench-results/.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const filter = process.argv[2];
const files = ['packages', 'apps']
  .flatMap((group) => (existsSync(join(root, group)) ? readdirSync(join(root, group)).map((name) => join(group, name, 'bench')) : []))
  // Benchmarks across apps (console against a real server) live beside the cross-app tests.
  .concat('tests/bench')
  .filter((dir) => existsSync(join(root, dir)))
  .flatMap((dir) => readdirSync(join(root, dir)).filter((name) => name.endsWith('.bench.ts')).map((name) => join(dir, name)))
  .filter((file) => !filter || file.includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${filter ?? '(all)'}`);
  process.exit(1);
}
let failed = 0;
for (const file of files) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bench/run-one.ts', file], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) {
    failed += 1;
    console.error(`benchmark ${file} failed (exit ${run.status ?? run.signal})`);
  }
}
process.exit(failed === 0 ? 0 : 1);
