/**
 * Request validation (CH-R1, CH-R2, CH-R3, CH-R5, CH-R6): the body of POST /cds-services/{id} checked
 * against the CDS Hooks 2.0 request schema and the service's hook context, then normalized.
 * Errors are 400 OperationOutcomes whose `expression` names the field (`context.selections[1]`); no
 * message ever repeats a value from the request (an access token must never be echoed).
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Bundle } from 'fhir/r4';
import { badRequest } from '../errors';
import type { CdsRequest, HookName, ServiceDefinition } from '../contract/cds-hooks';
import requestSchema from '../contract/schemas/request.schema.json';

const SCHEMA_ID = requestSchema.$id;

interface Validators {
  envelope: ValidateFunction;
  context: Record<HookName, ValidateFunction>;
}

let validators: Validators | null = null;

/** Compiled once, on first use; read-only afterwards (safe under concurrent requests). */
function getValidators(): Validators {
  if (validators) return validators;
  const ajv = new Ajv2020({ allErrors: false, strict: true, strictTypes: false, verbose: true });
  addFormats(ajv);
  ajv.addSchema(requestSchema);
  const context = (hook: HookName) => ajv.compile({ $ref: `${SCHEMA_ID}#/$defs/${hook}` });
  validators = {
    envelope: ajv.getSchema(SCHEMA_ID) as ValidateFunction,
    context: {
      'patient-view': context('patient-view'),
      'order-select': context('order-select'),
      'order-sign': context('order-sign'),
    },
  };
  return validators;
}

/** `/context/selections/0` → `context.selections[0]` (FHIRPath-like, as OperationOutcome.issue.expression). */
export function toExpression(instancePath: string, prefix = ''): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = prefix;
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : `${out ? '.' : ''}${part}`;
  return out;
}

/** One ajv error as a message and the field it concerns; never the offending value. */
function describe(error: ErrorObject, prefix = ''): { message: string; expression: string } {
  const at = toExpression(error.instancePath, prefix);
  const join = (field: string) => (at ? `${at}.${field}` : field);
  const described = (error.parentSchema as { description?: string } | undefined)?.description;
  switch (error.keyword) {
    case 'required': {
      const field = join(String((error.params as { missingProperty: string }).missingProperty));
      return { message: `${field} is required`, expression: field };
    }
    case 'dependentRequired': {
      const { property, missingProperty } = error.params as { property: string; missingProperty: string };
      return {
        message: `${join(missingProperty)} is required when ${join(property)} is present`,
        expression: join(missingProperty),
      };
    }
    case 'pattern':
    case 'const':
    case 'format':
      return { message: `${at || 'the request'} must be ${described ?? 'valid'}`, expression: at };
    default:
      return { message: `${at || 'the request body'} ${error.message ?? 'is invalid'}`, expression: at };
  }
}

function fail(errors: ErrorObject[] | null | undefined, prefix = ''): never {
  const first = errors?.[0];
  if (!first) throw badRequest('The request is invalid');
  const { message, expression } = describe(first, prefix);
  throw badRequest(message, expression ? [expression] : undefined);
}

const stripPrefix = (value: string, type: string): string =>
  value.startsWith(`${type}/`) ? value.slice(type.length + 1) : value;

/** `Type/id` of each draftOrders entry that has an id. */
function draftOrderReferences(draftOrders: Bundle | undefined): Set<string> {
  const refs = new Set<string>();
  for (const entry of draftOrders?.entry ?? []) {
    const resource = entry?.resource;
    if (resource?.id) refs.add(`${resource.resourceType}/${resource.id}`);
  }
  return refs;
}

/**
 * Checks `body` for the service `definition` and returns it normalized: `patientId`/`encounterId` sent
 * as `Patient/123`/`Encounter/9` become plain ids (CH-R6). Unknown fields are kept and ignored.
 * Throws a 400 OperationOutcomeError naming the field.
 */
export function validateRequest(body: unknown, definition: Pick<ServiceDefinition, 'hook'>): CdsRequest {
  const { envelope, context } = getValidators();
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('The request body must be a JSON object');
  if (!envelope(body)) fail(envelope.errors);
  const request = body as CdsRequest;
  if (request.hook !== definition.hook) {
    throw badRequest(`hook must be ${definition.hook} for this service`, ['hook']);
  }
  const check = context[definition.hook];
  if (!check(request.context)) fail(check.errors, 'context');

  if (definition.hook === 'order-select') {
    const drafts = draftOrderReferences(request.context.draftOrders);
    (request.context.selections ?? []).forEach((selection, i) => {
      if (!drafts.has(selection)) {
        throw badRequest(`context.selections[${i}] does not name an entry of context.draftOrders`, [
          `context.selections[${i}]`,
        ]);
      }
    });
  }

  const normalized: CdsRequest = {
    ...request,
    context: { ...request.context, patientId: stripPrefix(request.context.patientId, 'Patient') },
  };
  if (typeof request.context.encounterId === 'string')
    normalized.context.encounterId = stripPrefix(request.context.encounterId, 'Encounter');
  return normalized;
}
