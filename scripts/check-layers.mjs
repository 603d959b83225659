#!/usr/bin/env node
// The import-layering rule of STYLE.md and DESIGN.md, as code: which folder may
// import what. `node scripts/check-layers.mjs [root]` prints each violation and
// exits 1 when there is one.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const nodeBuiltins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const isNode = (spec) => nodeBuiltins.has(spec) || spec.startsWith('node:');
const packageName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** Packages whose code reaches the OS, a DOM or a UI toolkit: never in `packages/*` or where the rule says. */
const ioPackages = ['ws', 'better-sqlite3', 'electron', '@roamhq/wrtc', 'fastify', 'pino', 'node-screenshots', '@nut-tree-fork/libnut', 'x11', 'playwright-core', '@azure/msal-node', 'react', 'react-dom', 'sharp'];

/**
 * Each rule: the files it governs (a path prefix relative to the root) and a
 * test on one import, returning why it is forbidden or null. `target` is the
 * import resolved to a root-relative path when it is relative, else null.
 */
export const rules = [
  {
    name: 'packages are pure: no Node, no I/O libraries, no apps',
    applies: (file) => /^packages\/[^/]+\/src\//.test(file),
    forbids: (spec, target) =>
      isNode(spec) ? 'Node built-in' : ioPackages.includes(packageName(spec)) ? 'I/O or UI library' : /^@roomlink\/(console|server|room-agent)\b/.test(spec) || target?.startsWith('apps/') ? 'an app' : null,
  },
  {
    name: 'the agent core never imports a platform adapter or Electron',
    applies: (file) => file.startsWith('apps/room-agent/src/core/'),
    forbids: (spec, target) =>
      target?.startsWith('apps/room-agent/src/platform/') || target?.startsWith('apps/room-agent/src/electron/') ? 'a platform adapter' : spec === 'electron' ? 'Electron' : null,
  },
  {
    name: 'an agent adapter never imports another adapter',
    applies: (file) => file.startsWith('apps/room-agent/src/platform/'),
    forbids: (spec, target, file) => {
      const own = file.split('/')[4];
      const other = target?.startsWith('apps/room-agent/src/platform/') ? target.split('/')[4] : undefined;
      return other && other !== own && !other.endsWith('.ts') ? `the ${other} adapter` : null;
    },
  },
  {
    name: 'the console API is common code: no Node, no I/O, no UI, no host or renderer',
    applies: (file) => file.startsWith('apps/console/src/api/'),
    forbids: (spec, target) =>
      isNode(spec) ? 'Node built-in' : ioPackages.includes(packageName(spec)) ? 'I/O or UI library' : /^apps\/console\/src\/(main|host|preload|renderer)\//.test(target ?? '') ? 'a runtime-specific folder' : null,
  },
  {
    name: 'the console renderer is browser code: no Node, no main, host or preload',
    applies: (file) => file.startsWith('apps/console/src/renderer/'),
    forbids: (spec, target) =>
      isNode(spec) ? 'Node built-in' : ioPackages.filter((name) => !name.startsWith('react')).includes(packageName(spec)) ? 'a Node or Electron library' : /^apps\/console\/src\/(main|host|preload)\//.test(target ?? '') ? 'main-process code' : null,
  },
  {
    name: 'Electron main, preload and host never import React or the renderer',
    applies: (file) => /^apps\/console\/src\/(main|preload|host)\//.test(file),
    forbids: (spec, target) => (['react', 'react-dom', 'zustand'].includes(packageName(spec)) ? 'React' : target?.startsWith('apps/console/src/renderer/') ? 'renderer code' : null),
  },
  {
    name: 'apps never import each other',
    applies: (file) => file.startsWith('apps/'),
    forbids: (spec, target, file) => {
      const own = file.split('/')[1];
      const byName = /^@roomlink\/(console|server|room-agent)\b/.exec(spec)?.[1];
      const byPath = target?.startsWith('apps/') ? target.split('/')[1] : undefined;
      const other = byName ?? byPath;
      return other && other !== own ? `the ${other} app` : null;
    },
  },
];

const importPattern = /(?:^|[;\s])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[;\s])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(source) {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...withoutComments.matchAll(importPattern)].map((match) => match[1] ?? match[2] ?? match[3] ?? match[4]);
}

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(entry) && !entry.endsWith('.d.ts')) yield path;
  }
}

export function checkLayers(root) {
  const violations = [];
  for (const top of ['packages', 'apps']) {
    if (!existsSync(join(root, top))) continue;
    for (const path of sourceFiles(join(root, top))) {
      const file = relative(root, path).split(sep).join('/');
      const applicable = rules.filter((rule) => rule.applies(file));
      if (applicable.length === 0) continue;
      for (const spec of importsOf(readFileSync(path, 'utf8'))) {
        const target = spec.startsWith('.') ? relative(root, resolve(dirname(path), spec)).split(sep).join('/') : null;
        for (const rule of applicable) {
          const why = rule.forbids(spec, target, file);
          if (why) violations.push({ file, import: spec, rule: rule.name, why });
        }
      }
    }
  }
  return violations;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const violations = checkLayers(root);
  for (const v of violations) console.error(`${v.file}: imports '${v.import}' (${v.why}) — ${v.rule}`);
  if (violations.length > 0) {
    console.error(`\n${violations.length} layering violation(s).`);
    process.exit(1);
  }
  console.log('layers: ok');
}
