import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { buildRenderer } from '../apps/console/src/host/renderer-build';
import { contentSecurityPolicy, rendererHtml } from '../apps/console/src/host/renderer-page';

const consoleDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'apps', 'console');

/**
 * Builds what electron-builder packages: the renderer as static files, and
 * Electron's main and preload as CommonJS bundles (a sandboxed preload must
 * be one file). Native modules and Electron itself stay external.
 */
export async function buildConsole(outDir = join(consoleDir, 'dist')): Promise<void> {
  const renderer = await buildRenderer({ minify: true });
  mkdirSync(join(outDir, 'renderer'), { recursive: true });
  writeFileSync(join(outDir, 'renderer', 'app.js'), renderer.js);
  writeFileSync(join(outDir, 'renderer', 'app.css'), renderer.css);
  writeFileSync(join(outDir, 'renderer', 'index.html'), rendererHtml(contentSecurityPolicy('')));
  const common: BuildOptions = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['electron', 'better-sqlite3'], logLevel: 'warning', legalComments: 'none' };
  await build({ ...common, entryPoints: [join(consoleDir, 'src', 'main', 'main.ts')], outfile: join(outDir, 'electron', 'main.cjs') });
  await build({ ...common, entryPoints: [join(consoleDir, 'src', 'preload', 'preload.ts')], outfile: join(outDir, 'electron', 'preload.cjs') });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildConsole(process.argv[2]);
  console.log('console built: apps/console/dist/{electron,renderer}');
}
