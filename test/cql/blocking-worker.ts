/**
 * A stand-in evaluation worker for test/cql/pool.test.ts: it speaks the messages of src/cql/worker.ts,
 * but holds its thread (as a long CPU-bound evaluation does) until the test opens the gate, and counts
 * the records it started and finished in a shared array: [gate, started, finished].
 */
import { parentPort, workerData } from 'node:worker_threads';

const shared = new Int32Array((workerData as { data: SharedArrayBuffer }).data);
const GATE = 0;
const STARTED = 1;
const FINISHED = 2;
const port = parentPort;
if (!port) throw new Error('a worker thread');

port.on('message', (task: { id: number; bundle: string }) => {
  Atomics.add(shared, STARTED, 1);
  while (Atomics.load(shared, GATE) === 0) Atomics.wait(shared, GATE, 0);
  Atomics.add(shared, FINISHED, 1);
  const record = JSON.parse(task.bundle) as { entry?: Array<{ resource?: { id?: string } }> };
  const patientId = record.entry?.[0]?.resource?.id ?? '';
  port.postMessage({ type: 'done', id: task.id, facts: { patient: { id: patientId } } });
});
port.postMessage({ type: 'ready' });
