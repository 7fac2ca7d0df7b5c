/**
 * The CQL evaluation off the HTTP thread: a fixed pool of worker threads (./worker.ts), each loading
 * the ELM and the value sets once, each evaluating one record at a time with the very evaluator the
 * in-process path uses (createEvaluator), so both give the same facts.
 *
 * The HTTP thread only hands a record over and waits, so its deadline timer fires on time even when
 * every worker is busy. A call that gives up (its AbortSignal fires) is answered at once: a record still
 * waiting for a worker leaves the queue; a record being evaluated is abandoned (the worker finishes it,
 * the result is discarded, and the worker takes the next record). A worker is never killed for a late
 * call: restarting one costs the ELM load. A worker that dies is replaced, and its record fails.
 *
 * Running from the TypeScript sources (jest, ts checks) the workers register a small require hook that
 * compiles .ts with @swc/core (a dev dependency, as under jest); from dist/ they load the compiled
 * worker.js directly.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { OperationOutcomeError } from '../errors';
import type { ClinicalFacts } from '../protocol/facts';
import type { Evaluator, EvaluatorOptions } from './index';
import type { WorkerError, WorkerReply, WorkerTask } from './worker';

export interface PoolOptions extends Pick<EvaluatorOptions, 'elmDir' | 'optimizeElm'> {
  /** Worker threads (default: the available CPU parallelism). */
  size?: number;
  /** Another worker module speaking the messages of ./worker.ts, with its workerData `data` (tests). */
  worker?: { entry: string; data?: unknown };
}

/** Evaluations in worker threads: the same `evaluate` as the in-process Evaluator. */
export interface EvaluatorPool extends Pick<Evaluator, 'evaluate'> {
  /** Resolves once every worker has loaded the ELM and the value sets; rejects when they cannot. */
  readonly ready: Promise<void>;
  readonly size: number;
  /** Records waiting for a worker, and records being evaluated (abandoned ones included). */
  load(): { queued: number; running: number };
  /** Stops the workers (pending records fail). */
  close(): Promise<void>;
}

interface Task {
  id: number;
  message: WorkerTask;
  resolve(facts: ClinicalFacts): void;
  reject(err: unknown): void;
  /** The caller gave up: nobody reads the result any more. */
  abandoned: boolean;
  cleanup(): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  task: Task | null;
}

/** How a worker thread is started: the compiled worker.js, or worker.ts through a swc require hook. */
function workerSource(entry: string): { filename: string; eval: boolean; entry: string; swc?: string } {
  if (path.extname(entry) !== '.ts') return { filename: entry, eval: false, entry };
  return { filename: TS_BOOTSTRAP, eval: true, entry, swc: require.resolve('@swc/core') };
}

/** Worker bootstrap when running from the sources: compile each .ts module with swc as it is required. */
const TS_BOOTSTRAP = `
const { readFileSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
const { transformSync } = require(workerData.swc);
require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
require(workerData.entry);
`;

function fromWorkerError(error: WorkerError): Error {
  if (error.outcome) {
    const issue = error.outcome.issue[0];
    return new OperationOutcomeError(issue?.code ?? 'exception', error.message, {
      ...(error.status !== undefined ? { status: error.status } : {}),
      ...(issue?.expression ? { expression: issue.expression } : {}),
      ...(issue?.severity ? { severity: issue.severity } : {}),
    });
  }
  const err = new Error(error.message);
  err.name = error.name;
  return err;
}

export function createEvaluatorPool(options: PoolOptions = {}): EvaluatorPool {
  const size = Math.max(1, Math.floor(options.size ?? availableParallelism()));
  const source = workerSource(options.worker?.entry ?? path.join(__dirname, `worker${path.extname(__filename)}`));
  const evaluatorOptions: EvaluatorOptions = {
    ...(options.elmDir !== undefined ? { elmDir: options.elmDir } : {}),
    ...(options.optimizeElm !== undefined ? { optimizeElm: options.optimizeElm } : {}),
  };
  const queue: Task[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let closing = false;
  let failure: Error | null = null;

  let markReady!: () => void;
  let markFailed!: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  ready.catch(() => undefined); // also reported to every evaluate() call

  const failAll = (err: Error) => {
    failure = err;
    markFailed(err);
    for (const task of queue.splice(0)) task.reject(err);
  };

  const dispatch = () => {
    for (const slot of slots) {
      if (!slot.ready || slot.task) continue;
      let task = queue.shift();
      while (task?.abandoned) task = queue.shift();
      if (!task) return;
      slot.task = task;
      slot.worker.postMessage(task.message);
    }
  };

  const finish = (slot: Slot, settle: (task: Task) => void) => {
    const task = slot.task;
    slot.task = null;
    if (task && !task.abandoned) {
      task.cleanup();
      settle(task);
    }
    dispatch();
  };

  const spawn = (): Slot => {
    const worker = new Worker(source.filename, {
      eval: source.eval,
      workerData: { entry: source.entry, swc: source.swc, options: evaluatorOptions, data: options.worker?.data },
    });
    const slot: Slot = { worker, ready: false, task: null };
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'ready') {
        slot.ready = true;
        if (slots.every((s) => s.ready)) markReady();
        dispatch();
      } else if (reply.type === 'failed') {
        failAll(new Error(reply.message));
      } else if (reply.type === 'done') {
        finish(slot, (task) => task.resolve(reply.facts as ClinicalFacts));
      } else {
        finish(slot, (task) => task.reject(fromWorkerError(reply.error)));
      }
    });
    worker.on('error', (err) => {
      // An uncaught error ends the worker: its record fails, and 'exit' replaces it.
      finish(slot, (task) => task.reject(err));
    });
    worker.on('exit', (code) => {
      const index = slots.indexOf(slot);
      if (closing || index < 0) return;
      finish(slot, (task) => task.reject(new Error(`evaluation worker exited (code ${code})`)));
      if (!slot.ready) {
        // It never loaded: a replacement would fail the same way.
        if (!failure) failAll(new Error(`evaluation worker exited before it was ready (code ${code})`));
        return;
      }
      slots[index] = spawn();
    });
    return slot;
  };

  for (let i = 0; i < size; i += 1) slots.push(spawn());

  return {
    size,
    ready,
    load: () => ({ queued: queue.filter((t) => !t.abandoned).length, running: slots.filter((s) => s.task).length }),

    evaluate(bundle, now, hook, signal) {
      if (failure) return Promise.reject(failure);
      if (closing) return Promise.reject(new Error('the evaluation pool is closed'));
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise<ClinicalFacts>((resolve, reject) => {
        const id = nextId++;
        const onAbort = () => {
          task.abandoned = true;
          const queued = queue.indexOf(task);
          if (queued >= 0) queue.splice(queued, 1);
          reject(signal?.reason);
        };
        const task: Task = {
          id,
          message: { id, bundle: JSON.stringify(bundle), now: now.getTime(), hook },
          resolve,
          reject,
          abandoned: false,
          cleanup: () => signal?.removeEventListener('abort', onAbort),
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(task);
        dispatch();
      });
    },

    async close() {
      if (closing) return;
      closing = true;
      const closed = new Error('the evaluation pool is closed');
      for (const task of queue.splice(0)) task.reject(closed);
      for (const slot of slots) {
        if (slot.task && !slot.task.abandoned) slot.task.reject(closed);
        slot.task = null;
      }
      await Promise.all(slots.map((slot) => slot.worker.terminate()));
    },
  };
}
