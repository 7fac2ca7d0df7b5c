/**
 * One error vocabulary: an OperationOutcomeError carries a FHIR OperationOutcome, and one mapping
 * gives its HTTP status. The express error handler is the only place that turns errors into responses.
 */
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4';

export type IssueCode = OperationOutcomeIssue['code'];

const STATUS_BY_CODE: Partial<Record<IssueCode, number>> = {
  invalid: 400,
  structure: 400,
  required: 400,
  value: 400,
  'not-found': 404,
  'not-supported': 404,
  processing: 412,
  'too-costly': 413,
  security: 401,
  login: 401,
  forbidden: 403,
  timeout: 504,
};

export class OperationOutcomeError extends Error {
  readonly outcome: OperationOutcome;
  readonly status: number;

  constructor(
    code: IssueCode,
    diagnostics: string,
    options: { status?: number; expression?: string[]; severity?: OperationOutcomeIssue['severity'] } = {},
  ) {
    super(diagnostics);
    this.name = 'OperationOutcomeError';
    this.status = options.status ?? STATUS_BY_CODE[code] ?? 500;
    const issue: OperationOutcomeIssue = { severity: options.severity ?? 'error', code, diagnostics };
    if (options.expression && options.expression.length > 0) issue.expression = options.expression;
    this.outcome = { resourceType: 'OperationOutcome', issue: [issue] };
  }
}

export const badRequest = (diagnostics: string, expression?: string[]) =>
  new OperationOutcomeError('invalid', diagnostics, expression ? { expression } : {});
export const notFound = (diagnostics: string) => new OperationOutcomeError('not-found', diagnostics);
/** 412: prefetch data missing and it cannot be fetched (CDS Hooks §Prefetch). */
export const preconditionFailed = (diagnostics: string, expression?: string[]) =>
  new OperationOutcomeError('processing', diagnostics, { status: 412, ...(expression ? { expression } : {}) });
export const tooLarge = (diagnostics: string) => new OperationOutcomeError('too-costly', diagnostics, { status: 413 });
/** 401 carries no validation detail (CH-J6). */
export const unauthorized = () => new OperationOutcomeError('login', 'Authentication required', { status: 401 });

/** Any thrown value as an OperationOutcomeError; unknown errors become a 500 with no detail. */
export function toOperationOutcomeError(err: unknown): OperationOutcomeError {
  if (err instanceof OperationOutcomeError) return err;
  return new OperationOutcomeError('exception', 'Internal error', { status: 500 });
}
