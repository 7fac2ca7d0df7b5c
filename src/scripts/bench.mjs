#!/usr/bin/env node
/**
 * `npm run bench`: latency, throughput, cold start and memory of the CDS service, each beside a floor.
 *
 * The service runs in a child process (dist/src/bench/server.js: the app composed as main.ts composes
 * it, plus POST /floor, which only parses the same JSON body and answers {"cards":[]}), on 127.0.0.1,
 * authentication off, logs at warn, feedback/audit database in a temp dir. The FHIR server of the
 * fallback scenario (the project's in-memory FHIR server, dist/src/fhir/memory-server.js) runs in a
 * second child. The load generator is
 * autocannon, in this process. Only loopback traffic; every run is bounded; the children are always
 * killed at the end, also on error or Ctrl-C.
 *
 * Scenarios (fixtures: src/bench/fixtures.ts, deterministic for a given `now`):
 *   patient-view, typical prefetch: 72 h of hourly pain scores and vitals, 20 administrations
 *   patient-view, large prefetch: 7 days of the same
 *   order-sign: typical prefetch and a draft ketamine order three steps above the current rate
 *   patient-view through FHIR fallback: no prefetch, every key fetched from the FHIR server
 * Each fixture must first answer 200 with the expected card (extension ruleId) or the run stops.
 * Each scenario is measured at 1 connection (one request at a time: the latency of a request) and at
 * N connections (load), each right after the floor with the same body.
 *
 * Environment: BENCH_DURATION (s, default 10), BENCH_SERIAL_DURATION (s, default 5), BENCH_WARMUP (s,
 * default 2), BENCH_CONNECTIONS (default 10), BENCH_PROFILE=<dir> (run the service under --cpu-prof and
 * print its hot spots), BENCH_ONLY=<scenario key,...>.
 * Output: src/bench/results/results.json and src/bench/results/RESULTS.md (the Markdown table is also printed).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const DIST = path.join(ROOT, 'dist', 'src');
const SERVER_JS = path.join(DIST, 'bench', 'server.js');
const MAIN_JS = path.join(DIST, 'main.js');
const FHIR_SERVER_JS = path.join(DIST, 'fhir', 'memory-server.js');
const OUT_DIR = path.join(ROOT, 'src', 'bench', 'results');

const env = process.env;
const seconds = (name, fallback) => {
  const v = Number(env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const SETTINGS = {
  connections: Math.round(seconds('BENCH_CONNECTIONS', 10)),
  durationSeconds: seconds('BENCH_DURATION', 10),
  serialDurationSeconds: seconds('BENCH_SERIAL_DURATION', 5),
  warmupSeconds: seconds('BENCH_WARMUP', 2),
  /** Alternating floor/service runs per measurement; the table shows their medians. */
  rounds: Math.round(seconds('BENCH_ROUNDS', 3)),
  /** Evaluation worker threads of the measured service (EVAL_WORKERS; default: the CPU count). */
  evalWorkers: env.EVAL_WORKERS ?? String(os.availableParallelism()),
};
const PROFILE_DIR = env.BENCH_PROFILE ? path.resolve(env.BENCH_PROFILE) : null;
const ONLY = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim())) : null;
const ACCESS_TOKEN = 'bench-access-token';
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
const STARTUP_TIMEOUT_MS = 60_000;

// ----- children: started here, always killed here ----------------------------------------------

const children = new Set();
const tempDirs = new Set();

function killAll(signal = 'SIGKILL') {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}
process.on('exit', () => {
  killAll('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping`);
    process.exit(130);
  });
}

/** SIGTERM, then SIGKILL if the child has not exited within `graceMs`. */
async function stopChild(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

/** The last few KB a child wrote (its warnings), shown when something fails. */
function captureOutput(child) {
  let text = '';
  const keep = (chunk) => {
    text = (text + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => text;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resident memory of a process (MB), from /proc (Linux only; null elsewhere). */
function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
    const mb = (v) => (Number.isFinite(v) ? Math.round((v / 1024) * 10) / 10 : null);
    return { rssMB: mb(kb('VmRSS')), peakRssMB: mb(kb('VmHWM')) };
  } catch {
    return { rssMB: null, peakRssMB: null };
  }
}

/**
 * CPU time a process has used so far (ms, all its threads: user + system), from /proc (Linux only; null
 * elsewhere). Per request it is a figure that the machine's other load barely moves, unlike latency.
 */
function cpuTimeMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
const CLOCK_TICKS_PER_SECOND = 100;

// ----- HTTP helpers --------------------------------------------------------------------------

async function request(base, method, urlPath, body) {
  const started = performance.now();
  const res = await fetch(`${base}${urlPath}`, {
    method,
    headers: JSON_HEADERS,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started };
}

/** Polls GET /healthz until 200; returns ms since `spawnedAt`. */
async function waitHealthy(base, child, spawnedAt, output) {
  const deadline = spawnedAt + STARTUP_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the bench server exited during startup (code ${child.exitCode ?? child.signalCode}):\n${output()}`,
      );
    }
    try {
      const res = await fetch(`${base}/healthz`);
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - spawnedAt;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  throw new Error(`the bench server did not answer /healthz within ${STARTUP_TIMEOUT_MS} ms:\n${output()}`);
}

// ----- the measured runs ---------------------------------------------------------------------

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
const round2 = (v) => (v === null || v === undefined ? null : Math.round(v * 100) / 100);

/**
 * One autocannon run; latencies are taken from every 2xx response (exact percentiles, sub-ms resolution).
 * `check(body)` (optional) returns false for a 200 whose body is not the expected answer.
 */
async function load(base, urlPath, body, { connections, duration, check }) {
  const latencies = [];
  let unexpected = 0;
  const instance = autocannon({
    url: base,
    connections,
    duration,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: urlPath,
        headers: JSON_HEADERS,
        body,
        ...(check
          ? {
              onResponse: (status, text) => {
                if (status === 200 && !check(text)) unexpected += 1;
              },
            }
          : {}),
      },
    ],
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const mean = latencies.length ? latencies.reduce((s, v) => s + v, 0) / latencies.length : null;
  return {
    requests: latencies.length,
    rps: round2(latencies.length / (result.duration || duration)),
    p50: round2(percentile(latencies, 50)),
    p95: round2(percentile(latencies, 95)),
    p99: round2(percentile(latencies, 99)),
    mean: round2(mean),
    max: round2(latencies[latencies.length - 1] ?? null),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    unexpected,
  };
}

const EMPTY_RUN = {
  cpuMsPerRequest: null,
  requests: 0,
  rps: null,
  p50: null,
  p95: null,
  p99: null,
  mean: null,
  max: null,
  non2xx: 0,
  errors: 0,
  timeouts: 0,
  unexpected: 0,
};

/**
 * Waits until the server has finished the requests still in flight when autocannon stopped (they keep
 * the event loop busy): GET /healthz must answer within a few ms twice in a row.
 */
async function drain(base, limitMs = 60_000) {
  const until = performance.now() + limitMs;
  let quick = 0;
  while (quick < 2 && performance.now() < until) {
    const started = performance.now();
    try {
      const res = await fetch(`${base}/healthz`);
      await res.arrayBuffer();
      quick = performance.now() - started < 5 ? quick + 1 : 0;
    } catch {
      quick = 0;
      await sleep(50);
    }
  }
}

const median = (values) => {
  const sorted = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** The median of each latency/throughput figure over the rounds; counts of problems are summed. */
function medianRun(runs) {
  const out = { rounds: runs.length };
  for (const key of ['requests', 'rps', 'p50', 'p95', 'p99', 'mean', 'max', 'cpuMsPerRequest'])
    out[key] = round2(median(runs.map((r) => r[key])));
  for (const key of ['non2xx', 'errors', 'timeouts', 'unexpected']) out[key] = runs.reduce((n, r) => n + r[key], 0);
  return out;
}

/**
 * Warm-up (discarded), then SETTINGS.rounds alternating runs of the floor and the scenario with the same
 * body at the same concurrency (floor, service, floor, service…); each figure is the median of the rounds.
 */
async function measure(base, scenario, connections, duration, pid) {
  /** One load run, with the service process's CPU time per answered request. */
  const run = async (urlPath, options) => {
    const before = pid ? cpuTimeMs(pid) : null;
    const result = await load(base, urlPath, scenario.body, options);
    const after = pid ? cpuTimeMs(pid) : null;
    result.cpuMsPerRequest =
      before !== null && after !== null && result.requests > 0 ? round2((after - before) / result.requests) : null;
    return result;
  };
  const warm = Math.min(SETTINGS.warmupSeconds, duration);
  // Under the profiler the floor is not run: its JSON parsing would swamp the service's profile.
  if (!PROFILE_DIR) await load(base, '/floor', scenario.body, { connections, duration: warm });
  await drain(base);
  await load(base, scenario.path, scenario.body, { connections, duration: warm });
  await drain(base);
  const floors = [];
  const services = [];
  for (let round = 0; round < SETTINGS.rounds; round += 1) {
    floors.push(PROFILE_DIR ? EMPTY_RUN : await run('/floor', { connections, duration }));
    await drain(base);
    services.push(await run(scenario.path, { connections, duration, check: scenario.check }));
    await drain(base);
  }
  const service = medianRun(services);
  const floor = medianRun(floors);
  return {
    connections,
    durationSeconds: duration,
    service,
    floor,
    p50OverFloor: service.p50 && floor.p50 ? round2(service.p50 / floor.p50) : null,
    p99OverFloor: service.p99 && floor.p99 ? round2(service.p99 / floor.p99) : null,
  };
}

// ----- fixtures and checks -------------------------------------------------------------------

function cardsOf(text) {
  try {
    const body = JSON.parse(text);
    return Array.isArray(body.cards) ? body.cards : null;
  } catch {
    return null;
  }
}

/** A check on the response body: a card carrying the expected ruleId (and rate, when given). */
function expectCard(ruleId, recommendedRate) {
  const needle = `"ruleId":"${ruleId}"`;
  return {
    ruleId,
    recommendedRate,
    fast: (text) => text.includes(needle),
    full: (text) => {
      const cards = cardsOf(text);
      if (!cards) return 'the body is not a CDS Hooks response';
      const ext = cards.map((c) => c.extension?.['ketamine-protocol']).filter(Boolean);
      const card = ext.find((e) => e.ruleId === ruleId);
      if (!card)
        return `no card with ruleId ${ruleId} (got ${ext.map((e) => e.ruleId).join(', ') || 'no protocol card'})`;
      if (recommendedRate !== undefined && Math.abs(card.recommendedRate - recommendedRate) > 1e-9) {
        return `ruleId ${ruleId} recommends ${card.recommendedRate}, expected ${recommendedRate}`;
      }
      return null;
    },
  };
}

/**
 * The child running the FHIR server of the fallback scenario: the project's in-memory FHIR server
 * (src/fhir/memory-server.ts) on loopback, seeded with the record, requiring the bearer token. Its own
 * process, so its work is neither charged to the service nor slowed by the load generator.
 * Protocol: the parent sends `{ type: 'start', seed, token }`; the child answers `{ type: 'ready', baseUrl }`
 * or `{ type: 'error', message }`, and exits when the parent goes away.
 */
const FHIR_CHILD_SOURCE = `
const { startMemoryFhirServer } = require(${JSON.stringify(FHIR_SERVER_JS)});
process.on('message', (m) => {
  if (!m || m.type !== 'start') return;
  startMemoryFhirServer({ seed: [m.seed], requireBearer: m.token, host: '127.0.0.1' }).then(
    (fhir) => process.send({ type: 'ready', baseUrl: fhir.baseUrl }),
    (err) => process.send({ type: 'error', message: err && err.message }),
  );
});
process.on('disconnect', () => process.exit(0));
`;

async function startFhirServer(seed) {
  const child = spawn(process.execPath, ['-e', FHIR_CHILD_SOURCE], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...env, NODE_ENV: 'production' },
  });
  children.add(child);
  const output = captureOutput(child);
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the FHIR server did not start:\n${output()}`)),
      STARTUP_TIMEOUT_MS,
    );
    child.on('message', (m) => {
      clearTimeout(timer);
      if (m?.type === 'ready') resolve(m.baseUrl);
      else reject(new Error(`the FHIR server failed: ${m?.message ?? 'unknown'}`));
    });
    child.once('exit', (code) => reject(new Error(`the FHIR server exited (${code}):\n${output()}`)));
    child.send({ type: 'start', seed, token: ACCESS_TOKEN });
  });
  return { child, baseUrl };
}

async function startService(fhirBaseUrl, tmp, { evalWorkers = SETTINGS.evalWorkers, script = SERVER_JS } = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const childEnv = {
    ...env,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    CDS_PUBLIC_BASE_URL: base,
    LOG_LEVEL: 'warn',
    FEEDBACK_DB: path.join(tmp, `feedback-${port}.sqlite`),
    FHIR_SERVER_ALLOWLIST: fhirBaseUrl,
    DEMO: 'off',
    CDS_TRUSTED_ISSUERS: '',
    EVAL_WORKERS: String(evalWorkers),
  };
  const nodeArgs = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, script], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const output = captureOutput(child);
  const healthzMs = await waitHealthy(base, child, spawnedAt, output);
  return { child, base, spawnedAt, healthzMs, output };
}

// ----- report --------------------------------------------------------------------------------

const fmt = (v) =>
  v === null || v === undefined ? 'n/a' : v >= 100 ? String(Math.round(v)) : v.toFixed(v >= 10 ? 1 : 2);
const kb = (bytes) => (bytes < 10 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${Math.round(bytes / 1024)} KB`);

function markdown(results) {
  const lines = [];
  lines.push(
    `Measured ${results.date} on ${results.machine.cpus} CPU(s) (${results.machine.cpuModel}), Node ${results.machine.node}, ` +
      `load average before the run ${results.machine.loadAverageBefore.join(' / ')}.`,
  );
  lines.push('');
  lines.push(
    '| Scenario | Body | Conn. | p50 ms | p95 ms | p99 ms | req/s | CPU ms/req | Floor p50 | Floor p95 | Floor p99 | Floor req/s | Floor CPU ms/req | p50 / floor |',
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of results.scenarios) {
    for (const run of s.runs) {
      const sv = run.service;
      const fl = run.floor;
      const problems = (r, what) =>
        r.non2xx + r.errors + r.unexpected > 0
          ? ` ⚠ ${what}: ${r.non2xx} non-2xx, ${r.errors} errors (${r.timeouts} timeouts), ${r.unexpected} 200s without the expected card`
          : '';
      const flags = problems(sv, 'service') + problems(fl, 'floor');
      lines.push(
        `| ${s.name}${flags} | ${kb(s.bodyBytes)} | ${run.connections} | ${fmt(sv.p50)} | ${fmt(sv.p95)} | ${fmt(sv.p99)} | ${fmt(sv.rps)} | ${fmt(sv.cpuMsPerRequest)} | ` +
          `${fmt(fl.p50)} | ${fmt(fl.p95)} | ${fmt(fl.p99)} | ${fmt(fl.rps)} | ${fmt(fl.cpuMsPerRequest)} | ${fmt(run.p50OverFloor)}× |`,
      );
    }
  }
  for (const comparison of results.comparisons ?? []) {
    for (const run of comparison.runs) {
      const sv = run.service;
      const fl = run.floor;
      lines.push(
        `| patient-view, typical prefetch, EVAL_WORKERS=${comparison.evalWorkers}${comparison.evalWorkers === 0 ? ' (CQL on the HTTP thread)' : ''} | | ${run.connections} | ${fmt(sv.p50)} | ${fmt(sv.p95)} | ${fmt(sv.p99)} | ${fmt(sv.rps)} | ${fmt(sv.cpuMsPerRequest)} | ` +
          `${fmt(fl.p50)} | ${fmt(fl.p95)} | ${fmt(fl.p99)} | ${fmt(fl.rps)} | ${fmt(fl.cpuMsPerRequest)} | ${fmt(run.p50OverFloor)}× |`,
      );
    }
  }
  lines.push('');
  const c = results.coldStart;
  lines.push(`| Cold start and memory | Service | Floor |`);
  lines.push('|---|---:|---:|');
  lines.push(`| spawn → first 200 on GET /healthz | ${fmt(c.healthzMs)} ms | |`);
  lines.push(
    `| spawn → first patient-view 200 (typical prefetch; after one discovery call) | ${fmt(c.firstPatientViewMs)} ms | |`,
  );
  lines.push(
    `| first patient-view request alone (cold) | ${fmt(c.firstPatientViewLatencyMs)} ms | ${fmt(c.firstFloorLatencyMs)} ms |`,
  );
  lines.push(
    `| \`node dist/src/main.js\` with DEMO=off: spawn → first 200 on GET /healthz (median of ${results.startup.runsMs.length}) | ${fmt(results.startup.mainDemoOffReadyMs)} ms | |`,
  );
  lines.push(`| RSS after startup and the first requests | ${fmt(results.memory.afterStartup.rssMB)} MB | |`);
  lines.push(
    `| RSS after the run / peak RSS | ${fmt(results.memory.afterRun.rssMB)} MB / ${fmt(results.memory.afterRun.peakRssMB)} MB | |`,
  );
  lines.push('');
  const a = results.aims;
  const verdict = (ok) => (ok === null ? 'not measured' : ok ? 'met' : 'NOT met');
  lines.push('| Aim (typical patient-view unless said) | Measured | |');
  lines.push('|---|---:|---|');
  lines.push(
    `| p50 at 1 connection ≤ 3× the floor's p50 | ${fmt(a.serialP50OverFloor)}× | ${verdict(a.serialP50WithinThreeTimesFloor)} |`,
  );
  lines.push(
    `| p99 at ${a.connections} connections ≤ 3× the floor's p99 | ${fmt(a.loadedP99OverFloorP99)}× | ${verdict(a.loadedP99WithinThreeTimesFloorP99)} |`,
  );
  lines.push(
    `| FHIR fallback p50 ≤ 2× the prefetch path's p50 (1 connection) | ${fmt(a.fallbackP50OverPrefetchP50)}× | ${verdict(a.fallbackWithinTwiceThePrefetchPath)} |`,
  );
  lines.push(
    `| throughput at ${a.connections} connections with EVAL_WORKERS=2 ≥ 1.6× that with EVAL_WORKERS=1 | ${fmt(a.throughputOverSingleWorker)}× | ${verdict(a.throughputAtLeast1_6TimesSingleWorker)} |`,
  );
  lines.push(
    `| \`node dist/src/main.js\` (DEMO=off) ready < 500 ms | ${fmt(a.mainDemoOffReadyMs)} ms | ${verdict(a.mainReadyUnderHalfASecond)} |`,
  );
  lines.push('');
  lines.push(
    `What was measured: the service in its own Node process (composed as \`main.ts\` composes it: CQL evaluation in ` +
      `${results.settings.evalWorkers} worker thread(s) (EVAL_WORKERS), ` +
      `prefetch engine, decision core, cards, response schema check, SQLite audit row per call; authentication off, ` +
      `logs at warn) on 127.0.0.1, driven by autocannon from a second process on the same ${results.machine.cpus} cores. ` +
      `The floor is POST /floor in front of the same app: it parses the same JSON body and answers \`{"cards":[]}\`. ` +
      `Latency is per request, from autocannon's send to the last byte (every 2xx counted, exact percentiles); ` +
      `"1" connection = one request at a time, ${results.settings.connections} connections = load (latency then includes queueing). ` +
      `${results.settings.durationSeconds} s per loaded run, ${results.settings.serialDurationSeconds} s per serial run, after ${results.settings.warmupSeconds} s of warm-up; ` +
      `each figure is the median of ${results.settings.rounds} alternating floor/service runs. ` +
      `"CPU ms/req" is the service process's CPU time (all its threads, from /proc) per answered request: unlike ` +
      `latency, the machine's other load barely moves it. ` +
      `The FHIR fallback scenario sends no prefetch: the service fetches all ${results.fallbackKeys} keys from the project's ` +
      `in-memory FHIR server (src/fhir/memory-server.ts, @medplum/fhir-router, its own process on loopback, the same 72 h ` +
      `record, bearer token required, \`_count\` honoured with \`next\` links); its Observation searches over this record ` +
      `take ~5–20 ms each, so that row includes the FHIR server's time as an EHR's would. ` +
      `The machine is shared: the load average before the run is given above; latencies are only comparable within one run. ` +
      `Only the typical request is held to the aims.`,
  );
  return lines.join('\n');
}

/** Where a profile frame's code lives: a package, an area of the project, node itself, or the VM. */
function moduleOf(frame) {
  const url = frame.url ?? '';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const own = /\/dist\/src\/([^/]+)/.exec(url);
  if (own) return `src/${own[1].replace(/\.js$/, '')}`;
  if (url.startsWith('node:')) return 'node (internals)';
  return frame.functionName ? `(${frame.functionName.replace(/[()]/g, '')})` : '(vm)';
}

/** Self time in the service's CPU profile(s), by function and by package/area. */
function hotSpots(dir, top = 25) {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  const byFunction = new Map();
  const byModule = new Map();
  let total = 0;
  const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
  for (const file of files) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const dt = new Map();
    profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    for (const [id, us] of dt) {
      const f = byId.get(id).callFrame;
      if (f.functionName === '(idle)') continue;
      const where = f.url
        ? `${f.url.replace(`file://${ROOT}/`, '').replace(/^.*node_modules\//, 'node_modules/')}:${f.lineNumber + 1}`
        : '';
      add(byFunction, `${f.functionName || '(anonymous)'} ${where}`.trim(), us);
      add(byModule, moduleOf(f), us);
      total += us;
    }
  }
  const rank = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: `${((us / total) * 100).toFixed(1)}%` }));
  return { busyMs: Math.round(total / 1000), byModule: rank(byModule, 15), byFunction: rank(byFunction, top) };
}

// ----- main ----------------------------------------------------------------------------------

async function main() {
  for (const file of [SERVER_JS, FHIR_SERVER_JS]) {
    if (!existsSync(file))
      throw new Error(`${path.relative(ROOT, file)} is missing: run \`npm run build\` first (npm run bench does)`);
  }
  const fixtures = require(path.join(DIST, 'bench', 'fixtures.js'));
  const { loadParameters } = require(path.join(DIST, 'config', 'parameters.js'));
  const params = loadParameters(path.join(ROOT, 'cds-hooks', 'protocol-parameters.json')).values;

  const loadAverageBefore = os.loadavg().map((v) => Math.round(v * 100) / 100);
  const now = new Date();
  const typical = fixtures.buildRecord(params, now, fixtures.TYPICAL);
  const large = fixtures.buildRecord(params, now, fixtures.LARGE);

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ketamine-cds-bench-'));
  tempDirs.add(tmp);
  if (PROFILE_DIR) {
    rmSync(PROFILE_DIR, { recursive: true, force: true });
    mkdirSync(PROFILE_DIR, { recursive: true });
  }

  console.error('bench: starting the FHIR server (fallback scenario) and the service…');
  const fhir = await startFhirServer(fixtures.transactionOf(typical));
  const service = await startService(fhir.baseUrl, tmp);
  const { base } = service;

  // Discovery: the prefetch keys of each service, so the fixtures always match the definitions.
  const discovery = await request(base, 'GET', '/cds-services');
  if (discovery.status !== 200)
    throw new Error(`GET /cds-services answered ${discovery.status}: ${discovery.text.slice(0, 300)}`);
  const services = JSON.parse(discovery.text).services;
  const byHook = (hook) => {
    const found = services.find((s) => s.hook === hook);
    if (!found) throw new Error(`no ${hook} service in discovery`);
    return found;
  };
  const pv = byHook('patient-view');
  const sign = byHook('order-sign');

  const typicalBody = JSON.stringify(fixtures.patientViewRequest(pv, typical, 1));
  const firstStarted = performance.now();
  const first = await request(base, 'POST', `/cds-services/${pv.id}`, typicalBody);
  const firstPatientViewMs = performance.now() - service.spawnedAt;
  const firstPatientViewLatencyMs = performance.now() - firstStarted;
  if (first.status !== 200)
    throw new Error(
      `the first patient-view answered ${first.status}: ${first.text.slice(0, 500)}\n${service.output()}`,
    );
  const firstFloor = await request(base, 'POST', '/floor', typicalBody);
  if (firstFloor.status !== 200 || firstFloor.text !== '{"cards":[]}')
    throw new Error(`POST /floor answered ${firstFloor.status}: ${firstFloor.text.slice(0, 200)}`);

  const draftRate = fixtures.rateAtStep(params, typical.currentStep + 3);
  const scenarios = [
    {
      key: 'patient-view-typical',
      name: 'patient-view, typical prefetch (72 h hourly pain/vitals, 20 administrations)',
      path: `/cds-services/${pv.id}`,
      body: typicalBody,
      expect: expectCard('T8', typical.expectedNextRate),
    },
    {
      key: 'patient-view-large',
      name: 'patient-view, large prefetch (7 days)',
      path: `/cds-services/${pv.id}`,
      body: JSON.stringify(fixtures.patientViewRequest(pv, large, 2)),
      expect: expectCard('T8', large.expectedNextRate),
    },
    {
      key: 'order-sign',
      name: `order-sign, typical prefetch, draft at ${draftRate} mg/kg/h (> current + one step)`,
      path: `/cds-services/${sign.id}`,
      body: JSON.stringify(fixtures.orderSignRequest(sign, typical, draftRate, 3)),
      expect: expectCard('O6'),
    },
    {
      key: 'patient-view-fallback',
      name: 'patient-view through FHIR fallback (no prefetch, 72 h record on the FHIR server)',
      path: `/cds-services/${pv.id}`,
      body: JSON.stringify(fixtures.patientViewFallbackRequest(typical, fhir.baseUrl, ACCESS_TOKEN, 4)),
      expect: expectCard('T8', typical.expectedNextRate),
    },
  ].filter((s) => !ONLY || ONLY.has(s.key));

  for (const s of scenarios) {
    const res = await request(base, 'POST', s.path, s.body);
    const problem = res.status !== 200 ? `status ${res.status}: ${res.text.slice(0, 500)}` : s.expect.full(res.text);
    if (problem)
      throw new Error(`scenario ${s.key} does not give the expected answer: ${problem}\n${service.output()}`);
    s.check = s.expect.fast;
    console.error(
      `bench: ${s.key} answers 200 with ${s.expect.ruleId} (${kb(s.body.length)} body, ${Math.round(res.ms)} ms)`,
    );
  }
  const afterStartup = memoryOf(service.child.pid);

  const measured = [];
  for (const s of scenarios) {
    console.error(`bench: measuring ${s.key}…`);
    const serial = await measure(base, s, 1, SETTINGS.serialDurationSeconds, service.child.pid);
    const loaded = await measure(base, s, SETTINGS.connections, SETTINGS.durationSeconds, service.child.pid);
    measured.push({
      key: s.key,
      name: s.name,
      path: s.path,
      bodyBytes: s.body.length,
      expectedRuleId: s.expect.ruleId,
      runs: [serial, loaded],
    });
  }
  const afterRun = memoryOf(service.child.pid);
  await stopChild(service.child);

  // The same typical request against the same service with one evaluation worker, and with none (CQL on
  // the HTTP thread): what the pool buys under load.
  const typicalScenario = scenarios.find((s) => s.key === 'patient-view-typical');
  const comparisons = [];
  if (typicalScenario && !PROFILE_DIR) {
    for (const evalWorkers of ['1', '2', '0']) {
      if (evalWorkers === SETTINGS.evalWorkers) continue;
      console.error(`bench: measuring patient-view-typical with EVAL_WORKERS=${evalWorkers}…`);
      const other = await startService(fhir.baseUrl, tmp, { evalWorkers });
      const runs = [
        await measure(other.base, typicalScenario, 1, SETTINGS.serialDurationSeconds, other.child.pid),
        await measure(other.base, typicalScenario, SETTINGS.connections, SETTINGS.durationSeconds, other.child.pid),
      ];
      await stopChild(other.child);
      comparisons.push({ evalWorkers: Number(evalWorkers), runs });
    }
  }

  // Startup of the program itself: `node dist/src/main.js` with DEMO=off, spawn → first 200 on /healthz.
  const mainStartupMs = [];
  for (let i = 0; i < SETTINGS.rounds; i += 1) {
    const started = await startService('', tmp, { script: MAIN_JS });
    mainStartupMs.push(started.healthzMs);
    await stopChild(started.child);
  }

  const typicalRuns = measured.find((m) => m.key === 'patient-view-typical')?.runs ?? [];
  const [serialRun, loadedRun] = typicalRuns;
  const fallbackSerial = measured.find((m) => m.key === 'patient-view-fallback')?.runs[0];
  /** The typical request's loaded run with this many workers (the main run, or a comparison). */
  const loadedWith = (workers) =>
    String(workers) === SETTINGS.evalWorkers ? loadedRun : comparisons.find((c) => c.evalWorkers === workers)?.runs[1];
  const singleWorkerLoaded = loadedWith(1);
  const twoWorkersLoaded = loadedWith(2);
  const ratio = (a, b) => (a !== null && a !== undefined && b ? round2(a / b) : null);
  const within = (value, limit) => (value === null ? null : value <= limit);
  const fallbackOverPrefetch = ratio(fallbackSerial?.service.p50, serialRun?.service.p50);
  const throughputOverSingleWorker = ratio(twoWorkersLoaded?.service.rps, singleWorkerLoaded?.service.rps);
  const mainReadyMs = round2(median(mainStartupMs));
  const results = {
    date: now.toISOString(),
    machine: {
      node: process.version,
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      platform: `${os.platform()} ${os.release()}`,
      loadAverageBefore,
    },
    settings: SETTINGS,
    coldStart: {
      healthzMs: round2(service.healthzMs),
      firstPatientViewMs: round2(firstPatientViewMs),
      firstPatientViewLatencyMs: round2(firstPatientViewLatencyMs),
      firstFloorLatencyMs: round2(firstFloor.ms),
    },
    memory: { afterStartup, afterRun },
    fixtures: {
      typical: { resources: typical.resources.length, counts: typical.counts },
      large: { resources: large.resources.length, counts: large.counts },
    },
    fallbackKeys: Object.keys(pv.prefetch ?? {}).length,
    scenarios: measured,
    comparisons,
    startup: { mainDemoOffReadyMs: mainReadyMs, runsMs: mainStartupMs.map(round2) },
    aims: {
      connections: SETTINGS.connections,
      serialP50OverFloor: serialRun?.p50OverFloor ?? null,
      serialP50WithinThreeTimesFloor: within(serialRun?.p50OverFloor ?? null, 3),
      loadedP99OverFloorP99: loadedRun?.p99OverFloor ?? null,
      loadedP99WithinThreeTimesFloorP99: within(loadedRun?.p99OverFloor ?? null, 3),
      fallbackP50OverPrefetchP50: fallbackOverPrefetch,
      fallbackWithinTwiceThePrefetchPath: within(fallbackOverPrefetch, 2),
      throughputOverSingleWorker,
      throughputAtLeast1_6TimesSingleWorker:
        throughputOverSingleWorker === null ? null : throughputOverSingleWorker >= 1.6,
      mainDemoOffReadyMs: mainReadyMs,
      mainReadyUnderHalfASecond: mainReadyMs === null ? null : mainReadyMs < 500,
    },
  };

  await stopChild(fhir.child);

  if (PROFILE_DIR) results.hotSpots = hotSpots(PROFILE_DIR);

  // A profiled run is slower than a real one: its numbers go beside the profiles, never into bench/.
  const outDir = PROFILE_DIR ?? OUT_DIR;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const table = markdown(results);
  writeFileSync(path.join(outDir, 'RESULTS.md'), `# Benchmark results (\`npm run bench\`)\n\n${table}\n`);
  console.log(table);
  if (results.hotSpots) {
    const show = (rows) =>
      rows.forEach((h) => console.log(`  ${String(h.ms).padStart(7)} ms ${h.share.padStart(6)}  ${h.name}`));
    console.log(
      `\nService CPU profile: ${results.hotSpots.busyMs} ms busy (idle excluded). Self time by package/area:`,
    );
    show(results.hotSpots.byModule);
    console.log('Self time by function:');
    show(results.hotSpots.byFunction);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench: ${err.stack ?? err}`);
    process.exit(1);
  },
);
