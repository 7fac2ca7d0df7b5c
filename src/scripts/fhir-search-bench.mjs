#!/usr/bin/env node
/**
 * How much one prefetch costs the embedded FHIR server (dist/src/fhir/memory-server.js): every prefetch
 * query of the patient-view service, for one patient, over the examples alone and over the examples plus
 * FHIR_BENCH_COPIES copies of them (other patients: a busier server), through the express router (GET, and
 * POST _search with a form body), then the repository alone: the stock MemoryRepository against this
 * project's MemoryFhirRepository (index by reference), same searches, same process, alternating.
 * In-process, one request at a time; prints ms per whole prefetch (the machine is shared: compare within a run).
 *
 *   npm run build --silent && node src/scripts/fhir-search-bench.mjs
 * Environment: FHIR_BENCH_COPIES (default 10), FHIR_BENCH_ROUNDS (default 20).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const { startMemoryFhirServer, MemoryFhirRepository } = require(
  path.join(ROOT, 'dist', 'src', 'fhir', 'memory-server.js'),
);
const { MemoryRepository } = require('@medplum/fhir-router');
const { parseSearchRequest } = require('@medplum/core');

const COPIES = Number(process.env.FHIR_BENCH_COPIES ?? 10);
const ROUNDS = Number(process.env.FHIR_BENCH_ROUNDS ?? 20);
const PATIENT = 'case1-patient';
const examplesDir = path.join(ROOT, 'fhir-resources', 'examples');
const manifest = JSON.parse(readFileSync(path.join(examplesDir, 'index.json'), 'utf8'));
const bundles = manifest.map((e) => JSON.parse(readFileSync(path.join(examplesDir, e.file), 'utf8')));
const service = JSON.parse(
  readFileSync(path.join(ROOT, 'cds-hooks', 'services', 'ketamine-protocol-patient-view.json'), 'utf8'),
);
const queries = Object.values(service.prefetch)
  .map((t) => t.replaceAll('{{context.patientId}}', PATIENT))
  .filter((q) => q.includes('?'));

/** The bundle with every id (and every reference to it) given a suffix: another patient's copy. */
function copyOf(bundle, suffix) {
  const ids = new Set((bundle.entry ?? []).map((e) => e.resource?.id).filter(Boolean));
  let out = JSON.stringify(bundle);
  for (const id of ids)
    out = out.replaceAll(`/${id}"`, `/${id}-${suffix}"`).replaceAll(`"id":"${id}"`, `"id":"${id}-${suffix}"`);
  return JSON.parse(out);
}

async function measure(label, seed) {
  const server = await startMemoryFhirServer({ seed });
  const total = seed.reduce((n, b) => n + (b.entry?.length ?? 0), 0);
  const run = async (mode) => {
    const t0 = performance.now();
    for (let r = 0; r < ROUNDS; r++) {
      for (const q of queries) {
        const [type, search] = q.split('?');
        const res =
          mode === 'GET'
            ? await fetch(`${server.baseUrl}/${type}?${search}`)
            : await fetch(`${server.baseUrl}/${type}/_search`, {
                method: 'POST',
                headers: { 'content-type': 'application/x-www-form-urlencoded' },
                body: search,
              });
        if (!res.ok) throw new Error(`${mode} ${q}: HTTP ${res.status}`);
        await res.arrayBuffer();
      }
    }
    return (performance.now() - t0) / ROUNDS;
  };
  await run('GET'); // warm-up
  const get = await run('GET');
  const post = await run('POST');
  console.log(
    `${label.padEnd(34)} ${String(total).padStart(6)} resources  GET ${get.toFixed(1).padStart(7)} ms  POST _search ${post.toFixed(1).padStart(7)} ms  per prefetch (${queries.length} searches)`,
  );
  await server.close();
}

/** The repository alone: stock scan against the index, alternating, same searches. */
async function compareRepositories(label, seed) {
  const server = await startMemoryFhirServer({ seed }); // indexes the definitions; its repository is ours
  const stock = new MemoryRepository();
  for (const bundle of seed)
    for (const e of bundle.entry ?? []) if (e.resource?.id) await stock.updateResource(structuredClone(e.resource));
  const requests = queries.map((q) => {
    const [type, search] = q.split('?');
    return parseSearchRequest(type, Object.fromEntries(new URLSearchParams(search)));
  });
  const time = async (repo) => {
    const t0 = performance.now();
    for (let r = 0; r < ROUNDS; r++) for (const request of requests) await repo.search(request);
    return (performance.now() - t0) / ROUNDS;
  };
  if (!(server.repo instanceof MemoryFhirRepository)) throw new Error('not the indexed repository');
  const results = { stock: [], indexed: [] };
  for (let i = 0; i < 2; i++) {
    results.stock.push(await time(stock));
    results.indexed.push(await time(server.repo));
  }
  const best = (xs) =>
    Math.min(...xs)
      .toFixed(1)
      .padStart(7);
  console.log(
    `${label.padEnd(34)} repository only: stock MemoryRepository ${best(results.stock)} ms  indexed ${best(results.indexed)} ms  per prefetch`,
  );
  await server.close();
}

await measure('examples', bundles);
const many = [...bundles];
for (let c = 1; c <= COPIES; c++) for (const b of bundles) many.push(copyOf(b, `copy${c}`));
await measure(`examples + ${COPIES} copies`, many);
await compareRepositories('examples', bundles);
await compareRepositories(`examples + ${COPIES} copies`, many);
