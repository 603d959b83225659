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

/** The console's CSP: only its own scripts and styles, its own WebSocket, media from WebRTC. */
export function contentSecurityPolicy(connectSrc: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' blob: mediastream:",
    `connect-src 'self' ${connectSrc}`.trim(),
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** The page around the bundle; the CSP is also in a meta tag for Electron, where no server sends headers. */
export function rendererHtml(csp: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Roomlink</title>
<link rel="stylesheet" href="app.css">
</head>
<body>
<div id="root"></div>
<script type="module" src="app.js"></script>
</body>
</html>
`;
}
