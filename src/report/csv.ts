/**
 * The report's table by rule id and indicator as CSV (RFC 4180: comma-separated, CRLF line ends, fields
 * quoted when needed), with a last row "all" for every card. The override reasons are one column per code
 * of the service's reviewed list (cds-hooks/override-reasons.json), then other codes and no coded reason.
 * A text field that a spreadsheet would run as a formula (= + - @) is prefixed with an apostrophe.
 */
import { OVERRIDE_REASON_SYSTEM, OVERRIDE_REASONS } from '../cards/suggestions';
import type { EffectivenessReport, FeedbackCounts, ReasonCount } from './types';

const REASON_CODES = OVERRIDE_REASONS.map((r) => r.code);

const CSV_COLUMNS = [
  'rule_id',
  'indicator',
  'cards_shown',
  'accepted',
  'overridden',
  'no_feedback',
  'acceptance_rate',
  'acceptance_ci95_low',
  'acceptance_ci95_high',
  'median_seconds_to_feedback',
  ...REASON_CODES.map((code) => `overridden_${code}`),
  'overridden_other_reason',
  'overridden_no_reason',
];

function field(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function reasonColumns(reasons: ReasonCount[]): number[] {
  const known = REASON_CODES.map(
    (code) => reasons.find((r) => r.system === OVERRIDE_REASON_SYSTEM && r.code === code)?.count ?? 0,
  );
  const none = reasons.filter((r) => r.code === null).reduce((n, r) => n + r.count, 0);
  const all = reasons.reduce((n, r) => n + r.count, 0);
  return [...known, all - none - known.reduce((n, c) => n + c, 0), none];
}

function line(
  ruleId: string,
  indicator: string,
  c: FeedbackCounts,
  median: number | null,
  reasons: ReasonCount[],
): string {
  const rate = c.acceptanceRate;
  return [
    ruleId,
    indicator,
    c.cardsShown,
    c.accepted,
    c.overridden,
    c.noFeedback,
    rate?.rate ?? null,
    rate?.low95 ?? null,
    rate?.high95 ?? null,
    median,
    ...reasonColumns(reasons),
  ]
    .map(field)
    .join(',');
}

export function toCsv(report: EffectivenessReport): string {
  const lines = [
    CSV_COLUMNS.join(','),
    ...report.rules.map((r) => line(r.ruleId, r.indicator, r, r.medianSecondsToFeedback, r.overriddenByReason)),
    line('all', '', report.totals, report.totals.medianSecondsToFeedback, report.overrideReasons),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** A file name for the CSV: the period and version, in safe characters only. */
export function csvFileName(report: EffectivenessReport): string {
  const part = (value: string | null, fallback: string) => (value ?? fallback).replace(/[^A-Za-z0-9._-]/g, '_');
  return `cds-effectiveness_${part(report.period.from, 'start')}_${part(report.period.to, 'end')}_${part(
    report.protocolVersion,
    'all-versions',
  )}.csv`;
}
