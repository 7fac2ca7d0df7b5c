/**
 * The evaluation pool (src/cql/pool.ts): worker threads running the in-process evaluator, so the same
 * facts come out; a call that gives up is answered at once, even when every worker is busy.
 */
import path from 'node:path';
import type { Bundle } from 'fhir/r4';
import { examplesDir } from '../../src/config/paths';
import { readBundle, readManifest } from '../../src/cli/examples';
import { createEvaluator, ENTRY_LIBRARIES } from '../../src/cql';
import type { HookName } from '../../src/contract/cds-hooks';
import { createEvaluatorPool, type EvaluatorPool } from '../../src/cql/pool';
import { OperationOutcomeError } from '../../src/errors';
import { callService } from '../../src/service/call-service';
import { harness, PATIENT_VIEW, patientViewRequest } from '../support/service';
import { bundle, concept, observation, patient, SYSTEMS } from '../support/chart';

const HOOKS = Object.keys(ENTRY_LIBRARIES) as HookName[];
/** Every example × scenario time × hook, twice: generous on a loaded machine (no timing is asserted). */
const EXAMPLES_TIMEOUT_MS = 180_000;
const NOW = new Date('2026-11-24T12:00:00Z');

describe('when the pool evaluates a record', () => {
  const inProcess = createEvaluator();
  let pool: EvaluatorPool;
  beforeAll(async () => {
    pool = createEvaluatorPool({ size: 2 });
    await pool.ready;
  });
  afterAll(() => pool.close());

  it(
    'it gives exactly the facts of the in-process evaluator, for every example, scenario time and hook',
    async () => {
      const dir = examplesDir();
      let compared = 0;
      for (const entry of readManifest(dir)) {
        const record = readBundle(dir, entry.file);
        const times = (entry.scenarioTimes ?? []).map((t) => new Date(t.at));
        for (const now of times.length > 0 ? times : [NOW]) {
          const runs = HOOKS.map(async (hook) => {
            const [expected, actual] = await Promise.all([
              inProcess.evaluate(record, now, hook),
              pool.evaluate(record, now, hook),
            ]);
            expect(actual).toStrictEqual(expected);
            compared += 1;
          });
          await Promise.all(runs);
        }
      }
      expect(compared).toBeGreaterThan(HOOKS.length * 10);
    },
    EXAMPLES_TIMEOUT_MS,
  );

  it('it keeps the 412 of a record without a Patient as an OperationOutcomeError', async () => {
    const pain = concept(SYSTEMS.loinc, '72514-3');
    const noPatient: Bundle = bundle(observation('o1', pain, '2026-11-24T10:00:00Z', { valueInteger: 5 }));
    const failure = await pool.evaluate(noPatient, NOW, 'patient-view').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(OperationOutcomeError);
    expect((failure as OperationOutcomeError).status).toBe(412);
    // …and the worker goes on with the next record.
    expect((await pool.evaluate(bundle(patient('p7')), NOW, 'patient-view')).patient.id).toBe('p7');
  });
});

describe('when every worker is busy', () => {
  const BLOCKING_WORKER = path.join(__dirname, 'blocking-worker.ts');
  const GATE = 0;
  const STARTED = 1;
  const FINISHED = 2;
  let shared: Int32Array;
  let pool: EvaluatorPool;
  beforeEach(async () => {
    const buffer = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
    shared = new Int32Array(buffer);
    pool = createEvaluatorPool({ size: 1, worker: { entry: BLOCKING_WORKER, data: buffer } });
    await pool.ready;
  });
  afterEach(async () => {
    Atomics.store(shared, GATE, 1);
    Atomics.notify(shared, GATE);
    await pool.close();
  });
  const open = () => {
    Atomics.store(shared, GATE, 1);
    Atomics.notify(shared, GATE);
  };
  const started = async (n: number) => {
    while (Atomics.load(shared, STARTED) < n) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it('a call past its deadline gets its degraded answer while the worker is still evaluating its record', async () => {
    const { deps, audits } = harness({ evaluator: pool }, { deadlineMs: 50 });
    const response = await callService(PATIENT_VIEW, patientViewRequest('p1'), deps);
    expect(response).toEqual({ cards: [] });
    expect(audits[0]?.outcome).toBe('degraded');
    // Answered while the worker still holds the record: it started it and has not finished it.
    expect(Atomics.load(shared, STARTED)).toBe(1);
    expect(Atomics.load(shared, FINISHED)).toBe(0);
    expect(pool.load().running).toBe(1);
  });

  it('an abandoned record leaves the queue, a running one finishes unread, and the worker takes the next', async () => {
    const running = new AbortController();
    const queued = new AbortController();
    const first = pool.evaluate(bundle(patient('first')), NOW, 'patient-view', running.signal);
    const second = pool.evaluate(bundle(patient('second')), NOW, 'patient-view', queued.signal);
    const third = pool.evaluate(bundle(patient('third')), NOW, 'patient-view');
    await started(1);
    expect(pool.load()).toEqual({ queued: 2, running: 1 });

    queued.abort(new Error('gave up in the queue'));
    running.abort(new Error('gave up while evaluated'));
    await expect(second).rejects.toThrow('gave up in the queue');
    await expect(first).rejects.toThrow('gave up while evaluated');
    expect(pool.load()).toEqual({ queued: 1, running: 1 });

    open();
    expect((await third).patient.id).toBe('third');
    // The worker evaluated the first record (abandoned, not killed) and then the third; never the second.
    expect(Atomics.load(shared, FINISHED)).toBe(2);
    expect(pool.load()).toEqual({ queued: 0, running: 0 });
  });
});
