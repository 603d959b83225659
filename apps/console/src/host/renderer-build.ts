import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface RendererBundle {
  js: string;
  css: string;
}

const entry = fileURLToPath(new URL('../renderer/index.tsx', import.meta.url));
const shims = fileURLToPath(new URL('../renderer/platform/node-shims.ts', import.meta.url));

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
    define: { 'process.env.NODE_ENV': options.minify ? '"production"' : '"development"', global: 'globalThis' },
    logLevel: 'silent',
  });
  const find = (ext: string) => result.outputFiles.find((file) => file.path.endsWith(ext))?.text ?? '';
  return { js: find('.js'), css: find('.css') };
}
