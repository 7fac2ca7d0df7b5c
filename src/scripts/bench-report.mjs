#!/usr/bin/env node
/**
 * `npm run bench:report`: how long the CDS effectiveness report takes over a year of audit trail.
 *
 * Writes ≈ 10⁶ synthetic hook calls and their feedback (dist/src/bench/report-data.js: the mix is
 * described there) into a SQLite file in a temp dir, opens it with the store (which builds the report
 * tables: migration + settling every card), then asks for the report several times: the whole year, one
 * quarter of one protocol version, and the JSON and CSV built from it exactly as GET /reports/effectiveness
 * does. Prints the times (median and slowest of the runs) and writes src/bench/results/report.json.
 *
 * Environment: BENCH_REPORT_CALLS (default 1000000), BENCH_REPORT_RUNS (default 7).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const DIST = path.join(ROOT, 'dist', 'src');
const OUT = path.join(ROOT, 'src', 'bench', 'results', 'report.json');

const { writeReportData, REPORT_DATA_DEFAULTS } = require(path.join(DIST, 'bench', 'report-data.js'));
const { openSqliteStore } = require(path.join(DIST, 'store', 'index.js'));
const { buildReport } = require(path.join(DIST, 'report', 'aggregate.js'));
const { toCsv } = require(path.join(DIST, 'report', 'csv.js'));

const calls = Number(process.env.BENCH_REPORT_CALLS) || REPORT_DATA_DEFAULTS.calls;
const runs = Number(process.env.BENCH_REPORT_RUNS) || 7;

const ms = (start) => Math.round((performance.now() - start) * 10) / 10;
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function time(store, query, asCsv) {
  const samples = [];
  let report;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    report = buildReport(await store.reportRows(query), query);
    const body = asCsv ? toCsv(report) : JSON.stringify(report);
    if (body.length === 0) throw new Error('empty report');
    samples.push(ms(start));
  }
  return { medianMs: median(samples), slowestMs: Math.max(...samples), samples, calls: report.totals.calls };
}

const loadBefore = os.loadavg().map((x) => Math.round(x * 100) / 100);
const dir = mkdtempSync(path.join(os.tmpdir(), 'ketamine-bench-report-'));
try {
  const file = path.join(dir, 'year.sqlite');
  console.log(`writing ${calls} synthetic hook calls and their feedback …`);
  let start = performance.now();
  const written = writeReportData(file, { calls });
  const writeMs = ms(start);
  console.log(
    `  ${written.calls} calls, ${written.cards} cards, ${written.feedback} feedback items in ${(writeMs / 1000).toFixed(1)} s`,
  );

  console.log('opening the store (migration: report tables built, every card settled) …');
  start = performance.now();
  const store = openSqliteStore(file);
  const openMs = ms(start);
  console.log(`  ${(openMs / 1000).toFixed(1)} s`);

  try {
    const scenarios = [
      { name: 'the whole year, all versions (JSON)', query: { from: '2025-01-01', to: '2025-12-31', version: null } },
      {
        name: 'the whole year, all versions (CSV)',
        query: { from: '2025-01-01', to: '2025-12-31', version: null },
        csv: true,
      },
      { name: 'one quarter, protocol 1.1.0 (JSON)', query: { from: '2025-07-01', to: '2025-09-30', version: '1.1.0' } },
    ];
    const results = [];
    for (const s of scenarios) {
      const r = await time(store, s.query, s.csv === true);
      results.push({ scenario: s.name, query: s.query, ...r });
      console.log(`  ${s.name}: median ${r.medianMs} ms, slowest ${r.slowestMs} ms (${runs} runs, ${r.calls} calls)`);
    }
    const out = {
      date: new Date().toISOString(),
      node: process.versions.node,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      /** The machine is shared: its load (1, 5, 15 min) before the run and after the timings. */
      loadAverageBefore: loadBefore,
      loadAverageAfter: os.loadavg().map((x) => Math.round(x * 100) / 100),
      written,
      writeMs,
      openMs,
      runs,
      results,
    };
    mkdirSync(path.dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`load average before ${loadBefore.join(' / ')}, after ${out.loadAverageAfter.join(' / ')}`);
    console.log(`results: ${path.relative(ROOT, OUT)}`);
  } finally {
    await store.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
