/**
 * The benchmark's server (spawned by scripts/bench.mjs, never used in production): the service composed
 * exactly as the program composes it (src/main.ts `start(env)`: configuration, parameters, definitions,
 * CQL evaluator, store, app, keep-alive, shutdown), plus a **floor** route in an outer express app in
 * front of it: POST /floor parses the same JSON body with the same parser options and answers
 * `{"cards":[]}`, so every scenario can be compared with "the same app doing nothing".
 *
 * main.ts exports no composition step separate from listening, so this file lets `start(env)` build and
 * listen as usual, bound to 127.0.0.1 (`BENCH_HOST`), then puts the outer app in front of the app on the
 * very same server (the floor shares the server, its sockets and its keep-alive settings).
 * Environment: as main.ts (PORT, LOG_LEVEL, FEEDBACK_DB, FHIR_SERVER_ALLOWLIST, DEMO=off…).
 */
import type { RequestListener } from 'node:http';
import { Server as NetServer } from 'node:net';
import express from 'express';
import { JSON_TYPES } from '../http/app';
import { start, type Running } from '../main';

const HOST = process.env.BENCH_HOST ?? '127.0.0.1';

/** The floor: the same body parser (types, limit, strict), then an empty CDS Hooks response. */
export function withFloor(app: RequestListener, requestLimitBytes: number): express.Express {
  const outer = express();
  outer.disable('x-powered-by');
  outer.set('etag', false);
  outer.post('/floor', express.json({ type: JSON_TYPES, limit: requestLimitBytes, strict: true }), (_req, res) => {
    res.json({ cards: [] });
  });
  outer.use(app as express.RequestHandler);
  return outer;
}

/**
 * `start(env)` with every `listen(port)` made during it bound to HOST (main.ts listens on all interfaces;
 * the benchmark must stay on loopback). The patch is removed as soon as start() returns.
 */
async function startOnLoopback(): Promise<Running> {
  const original = NetServer.prototype.listen;
  NetServer.prototype.listen = function listen(this: NetServer, ...args: unknown[]) {
    if (typeof args[0] === 'number' && typeof args[1] !== 'string') args.splice(1, 0, HOST);
    return (original as (...a: unknown[]) => NetServer).apply(this, args);
  } as typeof original;
  try {
    return await start(process.env);
  } finally {
    NetServer.prototype.listen = original;
  }
}

async function main(): Promise<void> {
  const running = await startOnLoopback();
  const { server, config } = running;
  const [app, ...others] = server.listeners('request') as RequestListener[];
  if (!app || others.length > 0)
    throw new Error('expected exactly one request listener (the express app) on the server');
  server.removeAllListeners('request');
  server.on('request', withFloor(app, config.requestLimitBytes));

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // process.exit (not a signal death) so that --cpu-prof writes its profile.
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(
      `bench server cannot start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
}
