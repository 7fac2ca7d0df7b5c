/**
 * The kind of a FHIR fetch failure, for ketamine_cds_fhir_fetch_failures_total (counted here, from what
 * gather hands the use case, whatever the log level). A key that cannot be fetched makes gather throw a
 * 412 OperationOutcomeError whose structured parts are the status and the keys (`expression`); the reason is only in its diagnostics ("… could not be fetched:
 * <reason>"), read here into a small fixed set of kinds so the metric's labels stay few. A reason this
 * module does not know is counted as `other`. The deadline (keys still being fetched when it fires) is
 * counted by the caller as `deadline`. A source gather could not read without failing the call (the
 * Medications the record references: GatheredRecord.failedSources) is counted by the caller with
 * fetchReasonKind, in the same kinds.
 */
import { OperationOutcomeError } from '../errors';

const REASON = /could not be fetched: (.*)$/s;

/** [pattern of the reason, kind]: the first match wins. */
const KINDS: Array<[RegExp, string]> = [
  [/^timeout$/, 'timeout'],
  [/^network error$/, 'network-error'],
  [/not an allowed FHIR server/, 'server-refused'],
  [/no fhirServer/, 'no-fhir-server'],
  [/larger than|bytes$|more than \d+ resources/, 'too-large'],
  [/results and no next page$/, 'incomplete'],
  [/referenced Medications missing/, 'too-many-references'],
  [/off the FHIR server/, 'off-server'],
  [/OperationOutcome returned/, 'operation-outcome'],
  [/malformed|compressed|unsupported URL scheme/, 'malformed'],
];

/**
 * The kind of a fetch failure's reason (`timeout`, `http-400`, `incomplete` …): the part after "could not be
 * fetched: " of a 412, or a source gather could not read without failing the call (GatheredRecord's
 * failedSources). An HTTP error is `http-<status>` whatever the server's reason quoted after it.
 */
export function fetchReasonKind(reason: string): string {
  const http = /^HTTP (\d{3})\b/.exec(reason);
  if (http) return `http-${http[1]}`;
  return KINDS.find(([pattern]) => pattern.test(reason))?.[1] ?? 'other';
}

/** The kind of a failed FHIR fetch (`timeout`, `http-500`, `server-refused` …); null when `err` is no fetch failure. */
export function fetchFailureKind(err: unknown): string | null {
  if (!(err instanceof OperationOutcomeError) || err.status !== 412) return null;
  const issue = err.outcome.issue[0];
  if (!issue?.expression?.some((e) => e.startsWith('prefetch.'))) return null;
  const reason = REASON.exec(issue.diagnostics ?? '')?.[1]?.trim() ?? '';
  return fetchReasonKind(reason);
}
