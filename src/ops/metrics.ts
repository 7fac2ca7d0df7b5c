/**
 * Prometheus metrics (GET /metrics), one registry per app (never prom-client's global one, so two apps in
 * one process — tests, the multi-instance check — count separately). Labels hold service ids, rule ids,
 * indicators, statuses and failure kinds only: nothing about a patient.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { StoreOperation } from '../store';

export interface Metrics {
  registry: Registry;
  /** HTTP requests by route pattern, service id and status. */
  requests: Counter<'route' | 'service' | 'status'>;
  requestSeconds: Histogram<'route' | 'service' | 'status'>;
  /** Cards returned by protocol rule id and indicator. */
  cards: Counter<'service' | 'rule_id' | 'indicator'>;
  /** Hook calls answered degraded or failed, by cause. */
  degraded: Counter<'service' | 'cause'>;
  /**
   * Hook calls whose FHIR data could not be fetched, by kind (timeout, network-error, http-500, server-refused,
   * deadline, …): counted by the use case from gather's outcome (src/service/fetch-failures.ts), not from logs.
   */
  fhirFetchFailures: Counter<'kind'>;
  /** Feedback items by outcome: stored, duplicate, rejected (400), unavailable (503). */
  feedback: Counter<'outcome'>;
  /** Store failures by operation (audit batches, feedback, jti, ping). */
  storeErrors: Counter<'operation'>;
  /** Audit rows lost to a failed batch or a full queue. */
  auditRowsLost: Counter;
  storeError(operation: StoreOperation, rows?: number): void;
}

/** Latency histogram buckets, in ms (exported in seconds, as Prometheus expects). */
const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000];
const MS_PER_SECOND = 1000;

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'ketamine_cds_' });
  const registers = [registry];
  const requests = new Counter({
    name: 'ketamine_cds_http_requests_total',
    help: 'HTTP requests by route, service and status',
    labelNames: ['route', 'service', 'status'] as const,
    registers,
  });
  const requestSeconds = new Histogram({
    name: 'ketamine_cds_http_request_duration_seconds',
    help: 'HTTP request latency by route, service and status',
    labelNames: ['route', 'service', 'status'] as const,
    buckets: LATENCY_BUCKETS_MS.map((ms) => ms / MS_PER_SECOND),
    registers,
  });
  const cards = new Counter({
    name: 'ketamine_cds_cards_total',
    help: 'Cards returned by service, protocol rule id and indicator',
    labelNames: ['service', 'rule_id', 'indicator'] as const,
    registers,
  });
  const degraded = new Counter({
    name: 'ketamine_cds_degraded_calls_total',
    help: 'Hook calls answered degraded (no cards in time) or failed, by cause',
    labelNames: ['service', 'cause'] as const,
    registers,
  });
  const fhirFetchFailures = new Counter({
    name: 'ketamine_cds_fhir_fetch_failures_total',
    help: 'Hook calls whose FHIR data could not be fetched, by kind',
    labelNames: ['kind'] as const,
    registers,
  });
  const feedback = new Counter({
    name: 'ketamine_cds_feedback_total',
    help: 'Feedback items by outcome (stored, duplicate, rejected, unavailable)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const storeErrors = new Counter({
    name: 'ketamine_cds_store_errors_total',
    help: 'Store failures by operation',
    labelNames: ['operation'] as const,
    registers,
  });
  const auditRowsLost = new Counter({
    name: 'ketamine_cds_audit_rows_lost_total',
    help: 'Audit rows not written (failed batch or full queue)',
    registers,
  });

  return {
    registry,
    requests,
    requestSeconds,
    cards,
    degraded,
    fhirFetchFailures,
    feedback,
    storeErrors,
    auditRowsLost,
    storeError(operation, rows) {
      storeErrors.inc({ operation });
      if (operation === 'audit' && rows) auditRowsLost.inc(rows);
    },
  };
}
