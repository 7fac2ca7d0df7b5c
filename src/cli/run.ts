/**
 * The `ketamine-cds` command line: `load`, `hook`, `trusted-issuers`. `runCli` takes its output sinks
 * (and optionally fetch) so tests run it in-process; bin.ts wires it to the real process.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  assertPatient,
  buildContext,
  buildDraftOrder,
  callService,
  discover,
  fillPrefetch,
  findOpenEncounter,
  newHookInstance,
  pickService,
  RATE_UNITS,
  type RateUnit,
  type Transport,
  DEFAULT_USER,
} from './ehr';
import { HOOKS, type HookName } from '../contract/cds-hooks';
import { prefetchAsOf } from './as-of';
import { CliError, type FetchLike } from './http';
import {
  defaultKeyFile,
  DEFAULT_JWKS_PORT,
  issuerUrls,
  loadOrCreateKey,
  serveJwks,
  signCall,
  trustedIssuersValue,
} from './jwt';
import { loadExamples } from './load';
import { MomentError, MOMENT_NAMES, parseMoment, type Moment } from './timeline';
import { ANSI, formatResponse, PLAIN } from './print';

const DEFAULT_SERVICE_BASE = 'http://localhost:3000/cds-services';
/** The demo-only scenario clock header (honoured by the service only when it runs in demo mode). */
export const DEMO_NOW_HEADER = 'X-Demo-Now';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  color?: boolean;
  fetch?: FetchLike;
  /** The environment: KETAMINE_CDS_SERVICE and KETAMINE_CDS_JWKS_PORT set the defaults of --service and --jwks-port. */
  env?: Record<string, string | undefined>;
}

/** The environment variable holding the default JWKS port (e.g. when 3099 is taken). */
const JWKS_PORT_ENV = 'KETAMINE_CDS_JWKS_PORT';
/** The environment variable holding the default --service. */
const SERVICE_ENV = 'KETAMINE_CDS_SERVICE';

const USAGE = `ketamine-cds: play the EHR against the ketamine protocol CDS service

Usage:
  ketamine-cds load --fhir <base> [--at <moment>] [--patient <id,...>] [--examples <dir>]
      Upload the example patients (transaction bundles; idempotent).
      --at moves each example's timeline so that now falls at that moment of its admission
      (${MOMENT_NAMES.join(', ')}; first, admission, infusion; each +/- a duration such as
      taper+1h; +36h = 36 h after admission) and loads the record as it stands then.
  ketamine-cds hook <patient-view|order-select|order-sign> --fhir <base> --patient <id>
      [--service <cds-base>] [--service-id <id>] [--rate <n> --unit <mg/kg/h|mg/h|mL/h>]
      [--encounter <id|none>] [--user <Practitioner/id>] [--now <iso>] [--json]
      [--jwt [--key <file>] [--jwks-port <n>]]
      Read discovery, fill prefetch from the FHIR server, call the service and print its cards.
      --service defaults to $${SERVICE_ENV}, else ${DEFAULT_SERVICE_BASE}; the encounter defaults to the patient's
      in-progress Encounter (at --now: the one whose period covers that time); --now sets the demo scenario clock (${DEMO_NOW_HEADER}, demo mode only)
      and leaves out of prefetch what was charted after that time.
      --jwt signs each call with an ES384 key (kept in --key, default ~/.config/ketamine-cds/)
      and serves its JWK Set on 127.0.0.1:--jwks-port (default ${DEFAULT_JWKS_PORT}, or $${JWKS_PORT_ENV}).
  ketamine-cds trusted-issuers [--key <file>] [--jwks-port <n>]
      Print the CDS_TRUSTED_ISSUERS value (JSON, alone on stdout) that makes the service trust --jwt
      calls: CDS_TRUSTED_ISSUERS="$(ketamine-cds trusted-issuers)" npm start
`;

const OPTIONS = {
  fhir: { type: 'string' },
  examples: { type: 'string' },
  patient: { type: 'string' },
  service: { type: 'string' },
  'service-id': { type: 'string' },
  rate: { type: 'string' },
  unit: { type: 'string' },
  encounter: { type: 'string' },
  user: { type: 'string' },
  now: { type: 'string' },
  at: { type: 'string' },
  json: { type: 'boolean' },
  jwt: { type: 'boolean' },
  key: { type: 'string' },
  'jwks-port': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

const usageError = (message: string) => new CliError(`${message}\n\n${USAGE}`, 2);

function required(values: Values, name: 'fhir' | 'patient'): string {
  const value = values[name];
  if (!value) throw usageError(`--${name} is required`);
  return value;
}

function baseUrl(value: string, flag: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw usageError(`${flag} must be an http(s) URL, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

function jwksPort(values: Values, io: CliIo): number {
  const fromEnv = io.env?.[JWKS_PORT_ENV];
  const raw = values['jwks-port'] ?? (fromEnv === '' ? undefined : fromEnv);
  if (raw === undefined) return DEFAULT_JWKS_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw usageError(`--jwks-port (or ${JWKS_PORT_ENV}) must be a port number, got "${raw}"`);
  return port;
}

function scenarioNow(values: Values): string | undefined {
  if (values.now === undefined) return undefined;
  const ms = Date.parse(values.now);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}T/.test(values.now))
    throw usageError(`--now must be an ISO 8601 date-time, got "${values.now}"`);
  return new Date(ms).toISOString();
}

function momentOf(values: Values): Moment | undefined {
  if (values.at === undefined) return undefined;
  try {
    return parseMoment(values.at);
  } catch (err) {
    if (err instanceof MomentError) throw usageError(err.message);
    throw err;
  }
}

async function runLoad(values: Values, io: CliIo): Promise<void> {
  const fhir = baseUrl(required(values, 'fhir'), '--fhir');
  const at = momentOf(values);
  const patients = values.patient
    ?.split(',')
    .map((p) => p.trim().replace(/^Patient\//, ''))
    .filter(Boolean);
  io.stderr(`Loading example patients into ${fhir}${at ? `, now at "${at.text}" of each admission` : ''}\n`);
  const loaded = await loadExamples(fhir, {
    ...(values.examples ? { dir: values.examples } : {}),
    ...(io.fetch ? { fetch: io.fetch } : {}),
    ...(at ? { at } : {}),
    ...(patients && patients.length > 0 ? { patients } : {}),
    log: (line) => io.stdout(`${line}\n`),
  });
  io.stderr(
    `Loaded ${loaded.length} example patient${loaded.length === 1 ? '' : 's'}: ${loaded.map((l) => l.patientId).join(', ')}\n`,
  );
}

async function runTrustedIssuers(values: Values, io: CliIo): Promise<void> {
  const keyFile = values.key ?? defaultKeyFile();
  const { key, created } = await loadOrCreateKey(keyFile);
  if (created) io.stderr(`Created a new ES384 key in ${keyFile} (kid ${key.kid})\n`);
  // stdout holds the value alone (JSON), so that CDS_TRUSTED_ISSUERS="$(ketamine-cds trusted-issuers)" works.
  io.stdout(`${trustedIssuersValue(issuerUrls(jwksPort(values, io)))}\n`);
}

function rateArgs(values: Values, hook: HookName): { rate: number; unit: RateUnit } | undefined {
  if (values.rate === undefined) {
    if (hook !== 'patient-view')
      throw usageError(`${hook} needs a draft order: give --rate (and --unit, default mg/kg/h)`);
    return undefined;
  }
  const rate = Number(values.rate);
  if (!Number.isFinite(rate) || rate < 0)
    throw usageError(`--rate must be a non-negative number, got "${values.rate}"`);
  const unit = (values.unit ?? 'mg/kg/h') as RateUnit;
  if (!RATE_UNITS.includes(unit))
    throw usageError(`--unit must be one of ${RATE_UNITS.join(', ')}, got "${values.unit}"`);
  return { rate, unit };
}

async function runHook(hookArg: string | undefined, values: Values, io: CliIo): Promise<void> {
  if (!hookArg || !HOOKS.includes(hookArg as HookName)) throw usageError(`hook must be one of ${HOOKS.join(', ')}`);
  const hook = hookArg as HookName;
  const fhir = baseUrl(required(values, 'fhir'), '--fhir');
  const patientId = required(values, 'patient').replace(/^Patient\//, '');
  const service = baseUrl(values.service ?? (io.env?.[SERVICE_ENV] || DEFAULT_SERVICE_BASE), '--service');
  const now = scenarioNow(values);
  const draft = rateArgs(values, hook);
  const userId = values.user ?? DEFAULT_USER;

  const transport: Transport = {
    ...(io.fetch ? { fetch: io.fetch } : {}),
    warn: (line) => io.stderr(`note: ${line}\n`),
  };
  const extraHeaders: Record<string, string> = now ? { [DEMO_NOW_HEADER]: now } : {};
  let closeJwks: (() => Promise<void>) | undefined;
  try {
    if (values.jwt) {
      const keyFile = values.key ?? defaultKeyFile();
      const { key, created } = await loadOrCreateKey(keyFile);
      const jwks = await serveJwks(key, jwksPort(values, io));
      closeJwks = jwks.close;
      io.stderr(
        `${created ? `Created a new ES384 key in ${keyFile}. ` : ''}Signing calls as ${jwks.iss} (kid ${key.kid}); JWK Set at ${jwks.jwksUri}\n` +
          `Configure the service with: CDS_TRUSTED_ISSUERS='${trustedIssuersValue(jwks)}'\n`,
      );
      transport.serviceHeaders = async (url) => ({ Authorization: `Bearer ${await signCall(key, jwks, url)}` });
    }

    const services = await discover(service, transport);
    const definition = pickService(services, hook, values['service-id']);
    await assertPatient(fhir, patientId, transport);
    let encounterId = values.encounter;
    if (encounterId === 'none') encounterId = undefined;
    else if (encounterId === undefined)
      encounterId = await findOpenEncounter(fhir, patientId, transport, now ? Date.parse(now) : undefined);
    else encounterId = encounterId.replace(/^Encounter\//, '');

    const orders = draft
      ? [
          buildDraftOrder({
            patientId,
            rate: draft.rate,
            unit: draft.unit,
            authoredOn: now ?? new Date().toISOString(),
            requesterId: userId,
            ...(encounterId ? { encounterId } : {}),
          }),
        ]
      : [];
    const context = buildContext({
      hook,
      fhirServer: fhir,
      patientId,
      userId,
      draftOrders: orders,
      ...(encounterId ? { encounterId } : {}),
    });
    const fetched = await fillPrefetch(definition.prefetch ?? {}, fhir, context, transport);
    // At a scenario time the EHR holds nothing from later (the example bundles hold whole admissions).
    const prefetch = now
      ? Object.fromEntries(Object.entries(fetched).map(([k, v]) => [k, prefetchAsOf(v, Date.parse(now))]))
      : fetched;
    const request = { hook, hookInstance: newHookInstance(), fhirServer: fhir, context, prefetch };

    if (!values.json) {
      io.stderr(
        `${hook} → ${definition.id} for Patient/${patientId}${encounterId ? `, Encounter/${encounterId}` : ''}` +
          `${draft ? `, draft ${draft.rate} ${draft.unit}` : ''}${now ? `, at ${now}` : ''}` +
          ` (prefetch: ${Object.keys(prefetch).join(', ') || 'none'})\n`,
      );
    }
    const response = await callService(service, definition.id, request, transport, extraHeaders);
    if (values.json) io.stdout(`${JSON.stringify(response, null, 2)}\n`);
    else io.stdout(`${formatResponse(response, io.color ? ANSI : PLAIN)}\n`);
  } finally {
    await closeJwks?.();
  }
}

/** Run the CLI; resolves to the process exit code (0 ok, 1 error, 2 usage). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (err) {
      throw usageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    const [command, ...rest] = positionals;
    if (values.help || command === 'help' || command === undefined) {
      io.stdout(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    if (command === 'load') await runLoad(values, io);
    else if (command === 'hook') await runHook(rest[0], values, io);
    else if (command === 'trusted-issuers') await runTrustedIssuers(values, io);
    else throw usageError(`Unknown command "${command}"`);
    return 0;
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr(`ketamine-cds: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`ketamine-cds: ${(err as Error)?.message ?? String(err)}\n`);
    return 1;
  }
}
