/**
 * The program: read and check the configuration, the protocol parameters and the service definitions
 * (a bad value stops it here, with the message, exit code 1), build the dependencies, listen, and shut
 * down cleanly on SIGTERM/SIGINT (stop accepting, finish what is in flight, close the store).
 *
 * `compose(env)` builds the whole app as production runs it (demo mounted unless DEMO=off) without
 * listening; `start(env)` is compose + listen on HOST:PORT. The benchmark (src/bench/server.ts) composes
 * the same app and listens itself.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Application } from 'express';
import path from 'node:path';
import { loadKetamineMedication } from './cards/medication';
import { packageRoot } from './config/paths';
import { loadConfig, type ServiceConfig } from './config/env';
import { loadParameters } from './config/parameters';
import { createEvaluator, PLAN_DEFINITION_URL } from './cql';
import { closeFhirConnections } from './fhir/fetch-json';
import { createEvaluatorPool } from './cql/pool';
import { createDemo, demoEnabled, demoFhirServerUrls } from './demo';
import { renderProtocolPage } from './http/docs';
import { createApp } from './http/app';
import { answerClientErrors } from './http/client-error';
import { isLoopbackAddress, loopbackOnly } from './http/loopback';
import { createLogger, type Logger } from './log';
import { createMetrics, type Metrics } from './ops/metrics';
import { nodeVersionWarning } from './ops/runtime';
import { createAuthenticator } from './security/jwt';
import { createStoreReplayCache } from './security/replay-cache';
import { loadDefinitions } from './service/definitions';
import { STEPS } from './service/steps';
import { openStore, type Store, type StoreOperation } from './store';

/** How long in-flight requests get to finish after SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;
/** Above typical load balancer idle timeouts, so they close idle connections first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** The service built and ready to serve, not listening. */
export interface Composed {
  /** The express app (CDS Hooks endpoints, docs, health, and the demo unless DEMO=off). */
  app: Application;
  config: ServiceConfig;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  /** Whether the demo is mounted (DEMO not off). */
  demo: boolean;
  protocolVersion: string;
  /** Releases what compose opened (the store). Call it once nothing serves the app any more. */
  close(): Promise<void>;
}

/** The service listening. */
export interface Running extends Omit<Composed, 'close'> {
  server: Server;
  /** Graceful shutdown: stop accepting, let in-flight requests finish (bounded), then close the store. */
  close(): Promise<void>;
}

export interface ComposeOptions {
  /** The protocol parameter file (default cds-hooks/protocol-parameters.json; tests pass a broken one). */
  parameterFile?: string;
}
export type StartOptions = ComposeOptions;

/** Reads and checks the configuration and every file, builds the dependencies and the app (no listening). */
export async function compose(env: NodeJS.ProcessEnv = process.env, options: ComposeOptions = {}): Promise<Composed> {
  const { config, warnings } = loadConfig(env);
  const metrics = createMetrics();
  const logger = createLogger({ level: config.logLevel });
  for (const warning of warnings) logger.warn({ event: 'config.warning' }, warning);
  const runtimeWarning = nodeVersionWarning(process.versions.node);
  if (runtimeWarning) logger.warn({ event: 'runtime.warning', node: process.versions.node }, runtimeWarning);

  const root = packageRoot();
  const parameters = loadParameters(options.parameterFile ?? path.join(root, 'cds-hooks', 'protocol-parameters.json'));
  const definitions = loadDefinitions();
  // CQL off the HTTP thread (EVAL_WORKERS threads, each loading the ELM once), or in process with EVAL_WORKERS=0.
  // The workers load while the rest is composed; compose returns once they are ready (the first call gets cards).
  const pool = config.evalWorkers > 0 ? createEvaluatorPool({ size: config.evalWorkers }) : undefined;
  const evaluator = pool ?? createEvaluator();
  const medication = loadKetamineMedication(path.join(root, 'fhir-resources', 'ValueSet', 'ketamine.json'));

  const demo = demoEnabled(env) ? await createDemo({ logger, timeZone: config.timeZone }) : undefined;
  const fhirServerAllowlist =
    demo && config.fhirServerAllowlist.length > 0
      ? [...config.fhirServerAllowlist, ...demoFhirServerUrls(config.port)]
      : config.fhirServerAllowlist;

  await pool?.ready.catch(async (err: unknown) => {
    await pool.close();
    throw err;
  });
  const onStoreError = (operation: StoreOperation, err: unknown, rows?: number, requestId?: string) => {
    metrics.storeError(operation, rows);
    logger.error(
      {
        event: `store.${operation}.failed`,
        store: config.databaseUrl ? 'postgres' : 'sqlite',
        rows,
        error: errorName(err),
        ...(requestId ? { requestId } : {}), // a jti claim: the request it was made for
      },
      operation === 'audit' ? 'audit rows not recorded' : 'store operation failed',
    );
  };
  if (!config.databaseUrl && config.feedbackDb !== ':memory:')
    mkdirSync(path.dirname(config.feedbackDb), { recursive: true });
  const store = await openStore(config.databaseUrl ?? config.feedbackDb, {
    onError: onStoreError,
    schema: config.databaseSchema,
  });

  const app = createApp({
    definitions,
    parameters: parameters.values,
    steps: STEPS,
    evaluator,
    store,
    logger,
    metrics,
    readiness: [
      { name: 'elm', check: () => undefined }, // compose fails before this point when the ELM cannot be loaded
      { name: 'store', check: () => store.ping() },
    ],
    clock: () => new Date(),
    uuid: randomUUID,
    config: {
      deadlineMs: config.deadlineMs,
      fhirServerAllowlist,
      fhirTimeoutMs: config.fhirTimeoutMs,
      fhirMaxPages: config.fhirMaxPages,
      fetchBudget: {
        maxResponseBytes: config.fhirMaxResponseBytes,
        maxCallBytes: config.fhirMaxCallBytes,
        maxEntries: config.prefetchMaxEntries,
      },
      docsUrl: config.docsUrl,
      planDefinitionUrl: PLAN_DEFINITION_URL,
      timeZone: config.timeZone,
    },
    cardDefaults: {
      medication,
      evidence: { citation: parameters.file.citation, evidenceLevel: parameters.file.evidenceLevel },
    },
    http: {
      publicBaseUrl: config.publicBaseUrl,
      requestLimitBytes: config.requestLimitBytes,
      corsOrigins: config.corsOrigins,
      feedbackMaxItems: config.feedbackMaxItems,
      feedbackTextLimits: config.feedbackTextLimits,
      rateLimitPerMinute: config.rateLimitPerMinute,
      trustProxy: config.trustProxy,
    },
    ...(config.trustedIssuers
      ? {
          authenticate: createAuthenticator({
            trustedIssuers: config.trustedIssuers,
            maxLifetimeSeconds: config.jwtMaxLifetimeSeconds,
            logger,
            jtiCache: createStoreReplayCache(store, {
              onError: (err, requestId) => onStoreError('jti', err, undefined, requestId),
              timeoutMs: config.replayStoreTimeoutMs,
            }),
          }),
        }
      : {}),
    docsHtml: renderProtocolPage(parameters.file, parameters.values, new Date()),
    // Without REPORTS_TOKEN the reports are off, except for loopback clients in demo mode.
    reports: { source: store, token: config.reportsToken, openOnLoopback: demo !== undefined },
    ...(demo
      ? {
          mount: (a) => {
            // The writable demo FHIR server and its reset answer loopback clients only, unless DEMO_FHIR_PUBLIC=on.
            if (!config.demoFhirPublic) a.use(['/fhir', '/demo/api/reset'], loopbackOnly('The demo FHIR server'));
            a.use(demo.router);
          },
          demoClock: true,
        }
      : {}),
  });

  let closed = false;
  return {
    app,
    config,
    store,
    logger,
    metrics,
    demo: demo !== undefined,
    protocolVersion: parameters.values.protocolVersion,
    close: async () => {
      if (closed) return;
      closed = true;
      await store.close(); // writes the queued audit rows first
      closeFhirConnections(); // idle kept-alive FHIR connections (src/fhir/fetch-json.ts)
      await pool?.close();
    },
  };
}

/** compose + listen on HOST:PORT (loopback, 127.0.0.1, when HOST is unset). */
export async function start(env: NodeJS.ProcessEnv = process.env, options: StartOptions = {}): Promise<Running> {
  return serve(await compose(env, options));
}

export interface ServeOptions {
  /** What the server runs (default the composed app; the benchmark puts its floor route in front of it). */
  app?: Application;
  /** Address to listen on (default the configured HOST; null = all interfaces). */
  host?: string | null;
}

/**
 * Listens on PORT with the composed app, logs where, and returns the running service whose close() is the
 * graceful shutdown. On a listen error (port in use…) the composed resources are released and it rejects.
 */
export async function serve(composed: Composed, options: ServeOptions = {}): Promise<Running> {
  const { config, logger } = composed;
  const host = options.host === undefined ? config.host : options.host;
  let server: Server;
  try {
    server = await listen(options.app ?? composed.app, config.port, host);
  } catch (err) {
    await composed.close();
    throw err;
  }
  const port = (server.address() as { port: number }).port;
  logger.info(
    {
      event: 'listening',
      host: host ?? 'all interfaces',
      port,
      services: `${config.publicBaseUrl}/cds-services`,
      authentication: config.trustedIssuers ? 'jwt' : 'off',
      demo: composed.demo ? `http://localhost:${port}/` : 'off',
      demoFhirServer: !composed.demo ? 'off' : config.demoFhirPublic ? 'open to every client' : 'loopback clients only',
      protocolVersion: composed.protocolVersion,
    },
    'ketamine-cds listening',
  );
  const exposed = host === null || !(host === 'localhost' || isLoopbackAddress(host));
  if (exposed && composed.demo && config.demoFhirPublic)
    logger.warn(
      { event: 'demo.exposed', host: host ?? 'all interfaces', port },
      'DEMO_FHIR_PUBLIC=on with a non-loopback HOST: the demo FHIR server (writable, resettable, no authentication) is open to the network',
    );
  return { ...composed, server, close: () => shutdown(server, composed, logger) };
}

/**
 * Listens on `host` (null: Node's default, all interfaces) and `port`, with keep-alive above typical load
 * balancer idle timeouts. Resolves once listening; rejects on a listen error (port in use…).
 */
function listen(app: Application, port: number, host: string | null): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = host === null ? app.listen(port) : app.listen(port, host);
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    answerClientErrors(server); // oversized headers (431) and malformed HTTP answer with an OperationOutcome
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

async function shutdown(server: Server, composed: Composed, logger: Logger): Promise<void> {
  logger.info({ event: 'shutdown' }, 'shutting down');
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
  await composed.close();
}

/**
 * Graceful shutdown: on SIGTERM/SIGINT (and any extra process events named) close the server and the store,
 * then exit 0 (1 when closing failed). Exiting (not dying of the signal) lets `--cpu-prof` write its profile.
 */
export function stopOnSignals(running: Pick<Running, 'close'>, extraEvents: Array<'disconnect'> = []): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  for (const event of extraEvents) process.on(event, stop);
}

const errorName = (err: unknown): string => (err instanceof Error ? err.name : typeof err);

if (require.main === module) {
  start()
    .then((running) => {
      stopOnSignals(running);
      // A bad request never brings the process down (CH-B1): a stray rejection is logged, not fatal.
      process.on('unhandledRejection', (reason) => {
        running.logger.error(
          { event: 'unhandled-rejection', errorName: reason instanceof Error ? reason.name : typeof reason },
          'unhandled rejection',
        );
      });
    })
    .catch((err: unknown) => {
      process.stderr.write(`ketamine-cds cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
