/**
 * One evaluation worker of the pool (./pool.ts): a worker thread that loads the ELM and the value sets
 * once (createEvaluator, the same in-process evaluator the tests and the CLI use) and then evaluates
 * one record at a time, as the pool hands them over. Messages:
 *   in:  { id, bundle (JSON text), now (epoch ms), hook }
 *   out: { type: 'ready' } once loaded | { type: 'failed', message } when loading fails (the worker ends)
 *        { id, facts } | { id, error } for each record (an OperationOutcomeError keeps its code and status).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Bundle } from 'fhir/r4';
import { OperationOutcomeError } from '../errors';
import type { HookName } from '../contract/cds-hooks';
import { createEvaluator, type EvaluatorOptions } from './index';

export interface WorkerTask {
  id: number;
  /**
   * The record as JSON text: JSON.stringify here and JSON.parse there cost about a third of what the
   * structured clone of the same few hundred resources costs (its deserializer is slow on many small objects).
   */
  bundle: string;
  now: number;
  hook: HookName;
}

/** An error as it crosses the thread boundary (a structured clone keeps no class). */
export interface WorkerError {
  message: string;
  name: string;
  outcome?: OperationOutcomeError['outcome'];
  status?: number;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'done'; id: number; facts: unknown }
  | { type: 'error'; id: number; error: WorkerError };

function toWorkerError(err: unknown): WorkerError {
  if (err instanceof OperationOutcomeError)
    return { name: err.name, message: err.message, outcome: err.outcome, status: err.status };
  return err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
}

function run(): void {
  const port = parentPort;
  if (!port) throw new Error('src/cql/worker runs as a worker thread of the evaluation pool');
  const options = ((workerData as { options?: EvaluatorOptions } | null)?.options ?? {}) as EvaluatorOptions;
  let evaluator: ReturnType<typeof createEvaluator>;
  try {
    evaluator = createEvaluator({ ...options, poolSize: 1 });
  } catch (err) {
    port.postMessage({ type: 'failed', message: (err as Error).message } satisfies WorkerReply);
    return;
  }
  port.on('message', (task: WorkerTask) => {
    Promise.resolve()
      .then(() => evaluator.evaluate(JSON.parse(task.bundle) as Bundle, new Date(task.now), task.hook))
      .then(
        (facts) => port.postMessage({ type: 'done', id: task.id, facts } satisfies WorkerReply),
        (err: unknown) =>
          port.postMessage({ type: 'error', id: task.id, error: toWorkerError(err) } satisfies WorkerReply),
      );
  });
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
}

run();
