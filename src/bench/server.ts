/**
 * The benchmark's server (spawned by src/scripts/bench.mjs, never used in production): the service composed
 * exactly as the program composes it (src/main.ts `compose(env)`: configuration, parameters, definitions,
 * CQL evaluator, store, app; then `serve()`: keep-alive, listening log, graceful shutdown), plus a
 * **floor** route in an outer express app in front of it: POST /floor parses the same JSON body with the
 * same parser options and answers `{"cards":[]}`, so every scenario can be compared with "the same app
 * doing nothing". The floor shares the server, its sockets and its keep-alive settings.
 *
 * It always listens on 127.0.0.1 (loopback only, whatever HOST says).
 * Environment: as main.ts (PORT, LOG_LEVEL, FEEDBACK_DB, FHIR_SERVER_ALLOWLIST, DEMO=off…).
 */
import express from 'express';
import { JSON_TYPES } from '../http/app';
import { compose, serve, stopOnSignals, type Running } from '../main';

const LOOPBACK = '127.0.0.1';

/** The floor: the same body parser (types, limit, strict), then an empty CDS Hooks response. */
export function withFloor(app: express.Application, requestLimitBytes: number): express.Express {
  const outer = express();
  outer.disable('x-powered-by');
  outer.set('etag', false);
  outer.post('/floor', express.json({ type: JSON_TYPES, limit: requestLimitBytes, strict: true }), (_req, res) => {
    res.json({ cards: [] });
  });
  outer.use(app);
  return outer;
}

/** The composed service behind the floor, listening on 127.0.0.1:PORT. */
export async function startBenchServer(env: NodeJS.ProcessEnv = process.env): Promise<Running> {
  const composed = await compose(env);
  return serve(composed, { app: withFloor(composed.app, composed.config.requestLimitBytes), host: LOOPBACK });
}

async function main(): Promise<void> {
  const running = await startBenchServer(process.env);
  stopOnSignals(running, ['disconnect']);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(
      `bench server cannot start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
}
