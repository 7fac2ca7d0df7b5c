/** The service as main.ts wires it for the golden pairs: real modules, pinned clock, uuid sequence, in-memory store. */
import path from 'node:path';
import { loadKetamineMedication } from '../../src/cards/medication';
import { loadParameters } from '../../src/config/parameters';
import { createEvaluator, PLAN_DEFINITION_URL } from '../../src/cql';
import { createApp, type AppDeps } from '../../src/http/app';
import { loadDefinitions } from '../../src/service/definitions';
import { STEPS } from '../../src/service/steps';
import type { AuditRow } from '../../src/store';
import { memoryLogger } from '../support/logs';

const PUBLIC_BASE = 'https://cds.example.org';

const parameters = loadParameters();
const evaluator = createEvaluator();
const definitions = loadDefinitions();
const medication = loadKetamineMedication(path.resolve(__dirname, '../../fhir-resources/ValueSet/ketamine.json'));

/** Deterministic, v4-shaped uuids: 00000000-0000-4000-8000-000000000001, …002, … */
function uuidSequence(): () => string {
  let n = 0;
  return () => {
    n += 1;
    return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  };
}

/** The service as main.ts wires it, with a pinned clock, a fresh uuid sequence and an in-memory store. */
export function goldenApp(now: Date, audits: AuditRow[], timeZone = 'UTC') {
  const deps: AppDeps = {
    definitions,
    parameters: parameters.values,
    steps: STEPS,
    evaluator,
    store: {
      recordAudit: (row) => void audits.push(row),
      recordFeedback: (_id, items) => ({ stored: items.length, duplicates: 0 }),
    },
    logger: memoryLogger('warn').logger,
    clock: () => new Date(now.getTime()),
    uuid: uuidSequence(),
    config: {
      deadlineMs: 20_000,
      fhirServerAllowlist: [],
      fhirTimeoutMs: 5_000,
      fhirMaxPages: 3,
      docsUrl: `${PUBLIC_BASE}/docs/protocol`,
      planDefinitionUrl: PLAN_DEFINITION_URL,
      timeZone,
    },
    cardDefaults: {
      medication,
      evidence: { citation: parameters.file.citation, evidenceLevel: parameters.file.evidenceLevel },
    },
    http: { publicBaseUrl: PUBLIC_BASE, requestLimitBytes: 5 * 1024 * 1024, corsOrigins: [] },
  };
  return createApp(deps);
}
