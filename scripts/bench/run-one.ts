import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatTable, type Benchmark } from './report';

/** Runs one benchmark file in its own process, so native handles (WebRTC, X) cannot leak into the next. */
const file = process.argv[2];
if (!file) throw new Error('usage: run-one <file.bench.ts>');
const module = (await import(pathToFileURL(resolve(file)).href)) as { default: Benchmark };
const report = await module.default();
const outDir = resolve(process.env.BENCH_RESULTS_DIR ?? 'bench-results');
mkdirSync(outDir, { recursive: true });
const out = resolve(outDir, `${basename(file, '.bench.ts')}.json`);
writeFileSync(out, `${JSON.stringify({ ...report, at: new Date().toISOString(), node: process.version }, null, 2)}\n`);
console.log(`${formatTable(report)}\n(written to ${out})\n`);
process.exit(0);
