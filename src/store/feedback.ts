/**
 * CDS Hooks feedback (CH-F1…CH-F3): `POST {base}/cds-services/{id}/feedback` with `{ "feedback": [...] }`.
 * validateFeedback checks the body against the 2.0 shape and returns clean items (unknown fields dropped);
 * anything else is a 400 naming the offending field. Free text and codes are bounded (issue 7: limits on
 * every input): a comment or code longer than its limit is a 400 too, and nothing of the request is stored.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { badRequest } from '../errors';

interface Coding {
  system: string;
  code: string;
  display?: string;
}

export type FeedbackOutcome = 'accepted' | 'overridden';

export interface FeedbackItem {
  /** card.uuid from the response. */
  card: string;
  outcome: FeedbackOutcome;
  /** Required when accepted: the suggestion uuids the user took. */
  acceptedSuggestions?: { id: string }[];
  overrideReason?: { reason?: Coding; userComment?: string };
  /** RFC 3339 date-time with a time zone. */
  outcomeTimestamp: string;
}

/** The most one feedback item may carry: text in characters (code points), accepted suggestions in items. */
export interface FeedbackTextLimits {
  /** overrideReason.userComment (setting FEEDBACK_MAX_TEXT_LENGTH). */
  comment: number;
  /** overrideReason.reason system, code and display (setting FEEDBACK_MAX_CODE_LENGTH). */
  code: number;
  /** acceptedSuggestions (setting FEEDBACK_MAX_SUGGESTIONS). */
  suggestions: number;
}

/** The defaults of FEEDBACK_MAX_TEXT_LENGTH, FEEDBACK_MAX_CODE_LENGTH and FEEDBACK_MAX_SUGGESTIONS (src/config/settings.schema.json). */
export const DEFAULT_FEEDBACK_TEXT_LIMITS: Readonly<FeedbackTextLimits> = {
  comment: 4096,
  code: 1024,
  suggestions: 32,
};

const codingSchema = (maxLength: number) => ({
  type: 'object',
  required: ['system', 'code'],
  properties: {
    system: { type: 'string', minLength: 1, maxLength },
    code: { type: 'string', minLength: 1, maxLength },
    display: { type: 'string', maxLength },
  },
});

const itemSchema = (limits: FeedbackTextLimits) => ({
  type: 'object',
  required: ['card', 'outcome', 'outcomeTimestamp'],
  properties: {
    card: { type: 'string', format: 'uuid' },
    outcome: { type: 'string', enum: ['accepted', 'overridden'] },
    acceptedSuggestions: {
      type: 'array',
      minItems: 1,
      maxItems: limits.suggestions,
      items: { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } },
    },
    overrideReason: {
      type: 'object',
      minProperties: 1,
      properties: {
        reason: codingSchema(limits.code),
        userComment: { type: 'string', maxLength: limits.comment },
      },
    },
    outcomeTimestamp: { type: 'string', format: 'date-time' },
  },
  if: { type: 'object', required: ['outcome'], properties: { outcome: { const: 'accepted' } } },
  then: { required: ['acceptedSuggestions'] },
});

const feedbackSchema = (limits: FeedbackTextLimits) => ({
  type: 'object',
  required: ['feedback'],
  properties: { feedback: { type: 'array', minItems: 1, items: itemSchema(limits) } },
});

const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false });
addFormats(ajv, ['uuid', 'date-time']);
/** One compiled validator per pair of limits (in practice one: the configured limits). */
const validators = new Map<string, ValidateFunction>();
function validatorFor(limits: FeedbackTextLimits): ValidateFunction {
  const key = `${limits.comment}:${limits.code}:${limits.suggestions}`;
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(feedbackSchema(limits));
    validators.set(key, validate);
  }
  return validate;
}

const FORMAT_TEXT: Record<string, string> = {
  uuid: 'a UUID',
  'date-time': 'an RFC 3339 date-time with a time zone (e.g. 2024-05-01T10:15:00Z)',
};

/** The body as FeedbackItems, or a 400 OperationOutcome naming the first offending field. */
export function validateFeedback(
  body: unknown,
  limits: FeedbackTextLimits = DEFAULT_FEEDBACK_TEXT_LIMITS,
): FeedbackItem[] {
  const validate = validatorFor(limits);
  if (!validate(body)) {
    const error = (validate.errors ?? []).find((e) => e.keyword !== 'if');
    const { field, problem } = describe(error);
    throw badRequest(`Invalid feedback: ${field} ${problem}`, [field]);
  }
  return (body as { feedback: FeedbackItem[] }).feedback.map(cleanItem);
}

function describe(error: ErrorObject | undefined): { field: string; problem: string } {
  if (!error) return { field: 'feedback', problem: 'is invalid' };
  const base = fieldPath(error.instancePath);
  switch (error.keyword) {
    case 'required': {
      const missing = String((error.params as { missingProperty: string }).missingProperty);
      const field = base ? `${base}.${missing}` : missing;
      const conditional = error.schemaPath.includes('/then/');
      return { field, problem: conditional ? 'is required when outcome is accepted' : 'is required' };
    }
    case 'enum':
      return {
        field: base,
        problem: `must be one of: ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`,
      };
    case 'format': {
      const format = String((error.params as { format: string }).format);
      return { field: base, problem: `must be ${FORMAT_TEXT[format] ?? format}` };
    }
    case 'type':
      return { field: base || 'body', problem: `must be ${article((error.params as { type: string }).type)}` };
    case 'maxLength':
      return {
        field: base,
        problem: `must be at most ${(error.params as { limit: number }).limit} characters long`,
      };
    case 'maxItems':
      return { field: base, problem: `must have at most ${(error.params as { limit: number }).limit} items` };
    case 'minItems':
    case 'minLength':
    case 'minProperties':
      return { field: base, problem: 'must not be empty' };
    default:
      return { field: base || 'body', problem: error.message ?? 'is invalid' };
  }
}

/** `/feedback/0/overrideReason/reason/code` → `feedback[0].overrideReason.reason.code`. */
function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

const article = (type: string) => (type === 'object' || type === 'array' ? `an ${type}` : `a ${type}`);

function cleanItem(item: FeedbackItem): FeedbackItem {
  const clean: FeedbackItem = { card: item.card, outcome: item.outcome, outcomeTimestamp: item.outcomeTimestamp };
  if (item.acceptedSuggestions) clean.acceptedSuggestions = item.acceptedSuggestions.map(({ id }) => ({ id }));
  if (item.overrideReason) {
    const { reason, userComment } = item.overrideReason;
    clean.overrideReason = {};
    if (reason) {
      clean.overrideReason.reason = { system: reason.system, code: reason.code };
      if (reason.display !== undefined) clean.overrideReason.reason.display = reason.display;
    }
    if (userComment !== undefined) clean.overrideReason.userComment = userComment;
  }
  return clean;
}
