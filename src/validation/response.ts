/**
 * Every outgoing CDS Hooks response is checked before it is sent (docs/cds-hooks-conformance.md CH-C9): the JSON Schema
 * in src/contract/schemas/response.schema.json (CH-C1…CH-C7) plus what a schema cannot say (uuids unique across the
 * response, CH-C4). A non-conformant response is a bug of ours: it becomes a 500 OperationOutcome whose
 * diagnostics name the failing paths (never the values, which may hold patient data).
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { OperationOutcomeError } from '../errors';
import responseSchema from '../contract/schemas/response.schema.json';

/** How many schema errors the diagnostics list. */
const MAX_REPORTED = 5;

let compiled: ValidateFunction | null = null;

/** The schema, compiled once (on first use). */
function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    addFormats(ajv);
    compiled = ajv.compile(responseSchema);
  }
  return compiled;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath || '/';
  const params = error.params as Record<string, unknown>;
  let extra = '';
  if (typeof params.additionalProperty === 'string') extra = ` (${params.additionalProperty})`;
  else if (Array.isArray(params.allowedValues)) extra = ` (${params.allowedValues.join(', ')})`;
  else if (typeof params.missingProperty === 'string' && !error.message?.includes(params.missingProperty)) {
    extra = ` (${params.missingProperty})`;
  }
  return `${where} ${error.message ?? 'is invalid'}${extra}`;
}

/** Paths at which a uuid is used a second time (cards and suggestions share one namespace). */
function duplicateUuids(response: unknown): string[] {
  const seen = new Set<string>();
  const duplicates: string[] = [];
  const visit = (value: unknown, path: string) => {
    if (typeof value !== 'string') return;
    if (seen.has(value)) duplicates.push(path);
    seen.add(value);
  };
  const cards = (response as { cards?: unknown }).cards;
  if (!Array.isArray(cards)) return duplicates;
  cards.forEach((card: unknown, i) => {
    const c = card as { uuid?: unknown; suggestions?: unknown };
    visit(c.uuid, `/cards/${i}/uuid`);
    if (Array.isArray(c.suggestions)) {
      c.suggestions.forEach((s: unknown, j) =>
        visit((s as { uuid?: unknown }).uuid, `/cards/${i}/suggestions/${j}/uuid`),
      );
    }
  });
  return duplicates;
}

function fail(problems: string[], paths: string[]): never {
  const shown = problems.slice(0, MAX_REPORTED);
  const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
  throw new OperationOutcomeError('exception', `CDS Hooks response is not conformant: ${shown.join('; ')}${more}`, {
    status: 500,
    expression: [...new Set(paths)].slice(0, MAX_REPORTED),
  });
}

/** Throws an OperationOutcomeError (500, `exception`) naming the failing paths unless `response` conforms. */
export function assertConformant(response: unknown): void {
  const validate = validator();
  if (!validate(response)) {
    // An `if`/`then` failure is also reported as the error inside `then`: keep only that one.
    const all = validate.errors ?? [];
    const specific = all.filter((e) => e.keyword !== 'if');
    const errors = specific.length > 0 ? specific : all;
    fail(
      errors.map(describe),
      errors.map((e) => e.instancePath || '/'),
    );
  }
  const duplicates = duplicateUuids(response);
  if (duplicates.length > 0) {
    fail(
      duplicates.map((path) => `${path} repeats a uuid already used in this response`),
      duplicates,
    );
  }
}
