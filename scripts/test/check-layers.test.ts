import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLayers, importsOf } from '../check-layers.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(repo, 'scripts', 'check-layers.mjs');
let root: string;

function plant(files: Record<string, string>): string {
  root = mkdtempSync(join(tmpdir(), 'layers-'));
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), source);
  }
  return root;
}

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('import layering', () => {
  const cases: { name: string; files: Record<string, string>; expected: string[] }[] = [
    { name: 'packages importing Node', files: { 'packages/shared/src/a.ts': "import { readFileSync } from 'node:fs';" }, expected: ['node:fs'] },
    { name: 'packages importing an app', files: { 'packages/rbac/src/a.ts': "import { x } from '@roomlink/server';" }, expected: ['@roomlink/server'] },
    { name: 'packages importing a DOM library', files: { 'packages/rbac/src/a.ts': "import React from 'react';" }, expected: ['react'] },
    { name: 'agent core importing a platform adapter', files: { 'apps/room-agent/src/core/session.ts': "import { x } from '../platform/x11/capture';" }, expected: ['../platform/x11/capture'] },
    { name: 'the console API importing the host', files: { 'apps/console/src/api/a.ts': "import { x } from '../host/auth';\nimport { y } from 'node:fs';" }, expected: ['../host/auth', 'node:fs'] },
    { name: 'one adapter importing another', files: { 'apps/room-agent/src/platform/x11/a.ts': "import { x } from '../windows/b';" }, expected: ['../windows/b'] },
    { name: 'renderer importing main', files: { 'apps/console/src/renderer/App.tsx': "export { token } from '../main/auth';" }, expected: ['../main/auth'] },
    { name: 'renderer importing Node', files: { 'apps/console/src/renderer/App.tsx': "const fs = await import('fs');" }, expected: ['fs'] },
    { name: 'main importing React', files: { 'apps/console/src/main/window.ts': "import { createElement } from 'react';" }, expected: ['react'] },
    { name: 'one app importing another', files: { 'apps/console/src/host/x.ts': "import { db } from '../../../server/src/store/db';" }, expected: ['../../../server/src/store/db'] },
  ];
  for (const c of cases) {
    it(`fails on ${c.name}`, () => {
      const violations = checkLayers(plant(c.files));
      expect(violations.map((v) => v.import)).toEqual(c.expected);
      const run = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(c.expected[0]);
    });
  }

  it('allows what the layers allow', () => {
    plant({
      'packages/rbac/src/a.ts': "import { z } from 'zod';\nimport type { RoomId } from '@roomlink/shared';",
      'apps/room-agent/src/core/a.ts': "import { decodeMessage } from '@roomlink/shared';\nimport { b } from './b';",
      'apps/room-agent/src/platform/x11/a.ts': "import { Capture } from '../../core/ports';\nimport { b } from './b';",
      'apps/console/src/renderer/a.tsx': "import { create } from 'zustand';\nimport type { ConsoleApi } from '../api';",
      'apps/server/src/a.ts': "import { readFileSync } from 'node:fs';",
    });
    expect(checkLayers(root)).toEqual([]);
  });

  it('ignores imports in comments and finds every import form', () => {
    expect(importsOf("// import x from 'fs';\n/* import('os') */\nimport a from 'a';\nexport * from './b';\nimport './c';\nconst d = require('d');")).toEqual(['a', './b', './c', 'd']);
  });

  it('passes on this repository', () => {
    expect(execFileSync(process.execPath, [script, repo], { encoding: 'utf8' })).toContain('layers: ok');
  });
});
