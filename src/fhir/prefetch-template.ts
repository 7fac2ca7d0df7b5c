/**
 * Prefetch templates (CDS Hooks 2.0 §Prefetch template): rendering a template against a request's context
 * (the one renderer: the service's fallback fetch, the CLI playing the EHR and the benchmark's prefetch all
 * use it), and checking at startup that a template stays in the recommended subset (CH-D3).
 *
 * Tokens: `{{context.<root primitive field>}}`, `{{userPractitionerId}}`, `{{userPractitionerRoleId}}`,
 * `{{userPatientId}}`, `{{userRelatedPersonId}}` (the last four derived from `context.userId`, `Type/id`).
 */
import { badRequest } from '../errors';
import type { CdsRequest } from '../contract/cds-hooks';

/** Every `{{…}}` occurrence; the captured name is checked against the allowed tokens. */
const TOKEN = /\{\{([^{}]*)\}\}/g;
const CONTEXT_TOKEN = /^context\.([A-Za-z][A-Za-z0-9_]*)$/;

/** User tokens → the resource type `context.userId` must name for the token to have a value. */
const USER_TOKENS = {
  userPractitionerId: 'Practitioner',
  userPractitionerRoleId: 'PractitionerRole',
  userPatientId: 'Patient',
  userRelatedPersonId: 'RelatedPerson',
} as const;
type UserToken = keyof typeof USER_TOKENS;

/** Context fields of the supported hooks that are not primitives and so cannot be prefetch tokens. */
const NON_PRIMITIVE_CONTEXT_FIELDS = new Set(['selections', 'draftOrders']);

/** Context id fields an EHR may send as a reference (`Patient/123`, CH-R6) → the type to strip. */
const ID_FIELD_TYPES: Record<string, string> = { patientId: 'Patient', encounterId: 'Encounter' };

const isUserToken = (name: string): name is UserToken => Object.prototype.hasOwnProperty.call(USER_TOKENS, name);

/**
 * The id in a context id field: `Patient/123` → `123` for `patientId` (CH-R6), `Encounter/9` → `9`
 * for `encounterId`; other values unchanged.
 */
export function normalizeContextId(field: string, value: string): string {
  const type = ID_FIELD_TYPES[field];
  if (type && value.startsWith(`${type}/`)) return value.slice(type.length + 1);
  return value;
}

/** The id of `context.userId` when it references `type` (`Practitioner/abc` → `abc`), else undefined. */
function userIdOfType(userId: unknown, type: string): string | undefined {
  if (typeof userId !== 'string') return undefined;
  const match = /(?:^|\/)([A-Za-z]+)\/([^/]+)$/.exec(userId);
  if (!match || match[1] !== type) return undefined;
  return match[2];
}

/** The raw (unencoded) value of one token, or undefined when the request carries none. */
function tokenValue(name: string, request: Pick<CdsRequest, 'context'>): string | undefined {
  if (isUserToken(name)) return userIdOfType(request.context.userId, USER_TOKENS[name]);
  const field = CONTEXT_TOKEN.exec(name)?.[1];
  if (field === undefined) return undefined;
  const value: unknown = request.context[field];
  if (typeof value === 'string') return value === '' ? undefined : normalizeContextId(field, value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * The relative FHIR query for one prefetch key, tokens substituted and URL-encoded; null when a token
 * has no value in this request (the key then simply yields no data). A value that would make a path
 * dot-segment (`.`/`..`) is a bad request: it could walk out of the resource path.
 */
export function renderTemplate(template: string, request: Pick<CdsRequest, 'context'>): string | null {
  let missing = false;
  const rendered = template.replace(TOKEN, (_whole, name: string) => {
    const value = tokenValue(name, request);
    if (value === undefined) {
      missing = true;
      return '';
    }
    if (value === '.' || value === '..') throw badRequest(`A prefetch token value is not a valid id (${name})`);
    return encodeURIComponent(value);
  });
  return missing ? null : rendered;
}

// ---------------------------------------------------------------------------------------------------
// CH-D3: templates only use the allowed tokens and stay in the recommended query subset:
// instance read, type search with reference params, token equality (optionally `:in`), dates with
// eq/lt/gt/ge/le, `_count`, `_sort`.

const RESOURCE_TYPE = /^[A-Z][A-Za-z]+$/;
const LITERAL_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const PARAM_NAME = /^[a-z][A-Za-z0-9-]*$/;
const ALLOWED_SPECIAL_PARAMS = new Set(['_id', '_lastUpdated', '_count', '_sort']);
const PREFIX = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)(?=\d)/;
const ALLOWED_PREFIXES = new Set(['eq', 'lt', 'gt', 'ge', 'le']);
const SORT_VALUE = /^-?_?[a-z][A-Za-z0-9-]*(,-?_?[a-z][A-Za-z0-9-]*)*$/;
const POSITIVE_INTEGER = /^[1-9][0-9]*$/;
const WHOLE_TOKEN = /^\{\{[^{}]*\}\}$/;

function tokenProblems(template: string): string[] {
  const problems: string[] = [];
  for (const match of template.matchAll(TOKEN)) {
    const name = match[1] ?? '';
    if (isUserToken(name)) continue;
    const field = CONTEXT_TOKEN.exec(name)?.[1];
    if (field === undefined) problems.push(`token {{${name}}} is not allowed`);
    else if (NON_PRIMITIVE_CONTEXT_FIELDS.has(field))
      problems.push(`token {{${name}}} is not a primitive context field`);
  }
  if (/[{}]/.test(template.replace(TOKEN, ''))) problems.push('unbalanced braces');
  return problems;
}

function parameterProblems(query: string): string[] {
  const problems: string[] = [];
  if (query === '') return ['a search needs at least one parameter'];
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    if (name.includes('{{')) {
      problems.push(`parameter name ${name} contains a token`);
      continue;
    }
    const [base = '', modifier, ...rest] = name.split(':');
    if (value === '') problems.push(`parameter ${name} has no value`);
    if (rest.length > 0) problems.push(`parameter ${name} has more than one modifier`);
    if (base.includes('.')) {
      problems.push(`chained parameter ${name} is not in the recommended subset`);
      continue;
    }
    if (base.startsWith('_')) {
      if (!ALLOWED_SPECIAL_PARAMS.has(base)) problems.push(`parameter ${base} is not in the recommended subset`);
    } else if (!PARAM_NAME.test(base)) {
      problems.push(`parameter name ${name} is not valid`);
    }
    if (modifier !== undefined && modifier !== 'in' && !RESOURCE_TYPE.test(modifier)) {
      problems.push(`modifier :${modifier} is not in the recommended subset (only :in and reference types)`);
    }
    if (base === '_count' && !POSITIVE_INTEGER.test(value)) problems.push('_count must be a positive integer');
    if (base === '_sort' && !SORT_VALUE.test(value)) problems.push('_sort must list parameter names');
    for (const part of value.split(',')) {
      const prefix = PREFIX.exec(part)?.[1];
      if (prefix !== undefined && !ALLOWED_PREFIXES.has(prefix))
        problems.push(`prefix ${prefix} in ${name} is not in the recommended subset`);
    }
  }
  return problems;
}

function pathProblems(path: string, isSearch: boolean): string[] {
  const segments = path.split('/');
  const [type = '', id, ...rest] = segments;
  if (!RESOURCE_TYPE.test(type)) return [`${type || '(empty)'} is not a resource type`];
  if (isSearch) return segments.length === 1 ? [] : ['a search must be a type-level search (Type?params)'];
  if (id === undefined) return ['neither a read (Type/id) nor a search (Type?params)'];
  if (rest.length > 0) return ['only instance reads (Type/id) and type searches (Type?params) are allowed'];
  if (!WHOLE_TOKEN.test(id) && !LITERAL_ID.test(id)) return [`${id} is not an id or a single token`];
  return [];
}

/**
 * CH-D3: the problems with one prefetch template (empty when it is valid): only allowed tokens, and
 * only reads and searches of the recommended subset, relative to the FHIR base.
 */
export function validateTemplate(template: string): string[] {
  if (template.trim() === '') return ['the template is empty'];
  if (/\s/.test(template)) return ['the template contains whitespace'];
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(template) || template.startsWith('/')) {
    return ['the template must be a query relative to the FHIR base'];
  }
  if (template.includes('#')) return ['the template must not contain a fragment'];
  const problems = tokenProblems(template);
  const q = template.indexOf('?');
  const path = q < 0 ? template : template.slice(0, q);
  problems.push(...pathProblems(path, q >= 0));
  if (q >= 0) problems.push(...parameterProblems(template.slice(q + 1)));
  return problems;
}

/** Every problem of a definition's prefetch map, each prefixed with its key; empty when all are valid. */
export function validatePrefetchTemplates(prefetch: Record<string, string>): string[] {
  return Object.entries(prefetch).flatMap(([key, template]) =>
    typeof template === 'string'
      ? validateTemplate(template).map((p) => `prefetch.${key}: ${p}`)
      : [`prefetch.${key}: not a string`],
  );
}
