/**
 * The program: read and check the configuration, the protocol parameters and the service definitions
 * (a bad value stops it here, with the message, exit code 1), build the dependencies, listen, and shut
 * down cleanly on SIGTERM/SIGINT (stop accepting, finish what is in flight, close the store).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { loadKetamineMedication } from './cards/medication';
import { packageRoot } from './config/paths';
import { loadConfig, type ServiceConfig } from './config/env';
import { loadParameters } from './config/parameters';
import { createEvaluator, PLAN_DEFINITION_URL } from './cql';
import { createDemo, demoEnabled, demoFhirServerUrls } from './demo';
import { renderProtocolPage } from './http/docs';
import { createApp } from './http/app';
import { createLogger, type Logger } from './log';
import { createAuthenticator } from './security/jwt';
import { loadDefinitions } from './service/definitions';
import { STEPS } from './service/steps';
import { openStore, type Store } from './store';

/** How long in-flight requests get to finish after SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;
/** Above typical load balancer idle timeouts, so they close idle connections first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface Running {
  server: Server;
  config: ServiceConfig;
  logger: Logger;
  close(): Promise<void>;
}

export interface StartOptions {
  /** The protocol parameter file (default cds-hooks/protocol-parameters.json; tests pass a broken one). */
  parameterFile?: string;
}

export async function start(env: NodeJS.ProcessEnv = process.env, options: StartOptions = {}): Promise<Running> {
  const { config, warnings } = loadConfig(env);
  const logger = createLogger({ level: config.logLevel });
  for (const warning of warnings) logger.warn({ event: 'config.warning' }, warning);

  const root = packageRoot();
  const parameters = loadParameters(options.parameterFile ?? path.join(root, 'cds-hooks', 'protocol-parameters.json'));
  const definitions = loadDefinitions();
  const evaluator = createEvaluator();
  const medication = loadKetamineMedication(path.join(root, 'fhir-resources', 'ValueSet', 'ketamine.json'));

  const demo = demoEnabled(env) ? await createDemo({ logger }) : undefined;
  const fhirServerAllowlist =
    demo && config.fhirServerAllowlist.length > 0 ? [...config.fhirServerAllowlist, ...demoFhirServerUrls(config.port)] : config.fhirServerAllowlist;

  if (config.feedbackDb !== ':memory:') mkdirSync(path.dirname(config.feedbackDb), { recursive: true });
  const store = openStore(config.feedbackDb);

  const app = createApp({
    definitions,
    parameters: parameters.values,
    steps: STEPS,
    evaluator,
    store,
    logger,
    clock: () => new Date(),
    uuid: randomUUID,
    config: {
      deadlineMs: config.deadlineMs,
      fhirServerAllowlist,
      fhirTimeoutMs: config.fhirTimeoutMs,
      fhirMaxPages: config.fhirMaxPages,
      docsUrl: config.docsUrl,
      planDefinitionUrl: PLAN_DEFINITION_URL,
    },
    cardDefaults: { medication, evidence: { citation: parameters.file.citation, evidenceLevel: parameters.file.evidenceLevel } },
    http: { publicBaseUrl: config.publicBaseUrl, requestLimitBytes: config.requestLimitBytes, corsOrigins: config.corsOrigins },
    ...(config.trustedIssuers ? { authenticate: createAuthenticator({ trustedIssuers: config.trustedIssuers, logger }) } : {}),
    docsHtml: renderProtocolPage(parameters.file, parameters.values, new Date()),
    ...(demo ? { mount: (a) => a.use(demo.router), demoClock: true } : {}),
  });

  const server = await listen(app, config.port);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  const port = (server.address() as { port: number }).port;
  logger.info(
    {
      event: 'listening',
      port,
      services: `${config.publicBaseUrl}/cds-services`,
      authentication: config.trustedIssuers ? 'jwt' : 'off',
      demo: demo ? `http://localhost:${port}/` : 'off',
      protocolVersion: parameters.values.protocolVersion,
    },
    'ketamine-cds listening',
  );
  return { server, config, logger, close: () => shutdown(server, store, logger) };
}

function listen(app: ReturnType<typeof createApp>, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

async function shutdown(server: Server, store: Store, logger: Logger): Promise<void> {
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
  store.close();
}

if (require.main === module) {
  start()
    .then((running) => {
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
      // A bad request never brings the process down (CH-B1): a stray rejection is logged, not fatal.
      process.on('unhandledRejection', (reason) => {
        running.logger.error({ event: 'unhandled-rejection', errorName: reason instanceof Error ? reason.name : typeof reason }, 'unhandled rejection');
      });
    })
    .catch((err: unknown) => {
      process.stderr.write(`ketamine-cds cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
