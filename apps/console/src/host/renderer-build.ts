import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

export interface RendererBundle {
  js: string;
  css: string;
}

const entry = fileURLToPath(new URL('../renderer/index.tsx', import.meta.url));
const shims = fileURLToPath(new URL('../renderer/platform/node-shims.ts', import.meta.url));

/**
 * zod re-exports all of its ~50 locales as a namespace (`export * as
 * locales`), which esbuild cannot shake: 264 KB of a 976 KB bundle, parsed
 * and evaluated at every start. The console speaks English, the locale zod
 * configures by itself, so its locale index resolves to English alone.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => (/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: join(dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-locales' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: 'export { default as en } from "./en.js";', resolveDir: dirname(args.path), loader: 'js' }));
  },
};

/**
 * Bundles the renderer for Chromium (browser host) and Electron alike. The
 * only Node-isms it tolerates are those simple-peer's dependencies expect:
 * `events` from npm, and `global`/`process` from a tiny shim.
 */
export async function buildRenderer(options: { minify: boolean }): Promise<RendererBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    outdir: 'out',
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    jsx: 'automatic',
    minify: options.minify,
    legalComments: 'none',
    inject: [shims],
    plugins: [zodEnglishOnly],
    define: { 'process.env.NODE_ENV': options.minify ? '"production"' : '"development"', global: 'globalThis' },
    logLevel: 'silent',
  });
  const find = (ext: string) => result.outputFiles.find((file) => file.path.endsWith(ext))?.text ?? '';
  return { js: find('.js'), css: find('.css') };
}
