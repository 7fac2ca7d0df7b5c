/**
 * Every SQL statement of the effectiveness report, for both stores (SQLite and PostgreSQL), in one place.
 * The statements are written once with `?` placeholders (PostgreSQL gets them numbered, `$1`…); the few
 * pieces where the two dialects differ (seconds between two instants, a list parameter, the median) are
 * filled in per dialect.
 *
 * The report tables (migration 3 of migrations.ts, 2 of migrations-pg.ts) are kept up to date by the store,
 * in the same transaction as the rows they summarise, so that a report over a year (≈ 10⁶ hook calls) reads
 * a few thousand pre-aggregated rows instead of scanning the audit trail:
 *
 *   audit_card          one row per card shown (uuid, rule id, indicator, hook instance, time, version),
 *                       written with its audit row; unit_id is its report_unit once settled.
 *   report_unit         one row per distinct (service, hook instance, rule id, indicator): what "cards shown"
 *                       counts (an EHR calling again with the same hook instance shows the same advice again).
 *                       It holds the unit's counted feedback: the latest one (by outcome time, then arrival)
 *                       over all its cards, the override reason, and the seconds from that card to it.
 *   report_cards_daily  units by UTC day, hook, version, rule id, indicator, counted outcome and reason.
 *   report_calls_daily  hook calls by UTC day, hook, version, outcome and cause, with the set-aside counts.
 *
 * "Settling" (SETTLE_AUDIT after audit rows, SETTLE_FEEDBACK after feedback) attaches new cards to their
 * units, recomputes the counted feedback of every unit it touched and moves those units between the daily
 * buckets (the old bucket is decremented, the new one incremented). Feedback that arrives before its card's
 * audit row (the audit is written in batches) is picked up when the card is settled.
 */
import type { AuditRow } from '../store/audit';
import type { CallsRow, CardsRow, MedianRow, ReportQuery } from './types';

export type Dialect = 'sqlite' | 'postgres';

const MS_PER_DAY = 86_400_000;
const DAYS_AFTER_MONDAY = [6, 0, 1, 2, 3, 4, 5]; // by getUTCDay(): Sunday is the 7th day of its ISO week

/** The UTC day (YYYY-MM-DD) of an ISO 8601 instant. */
function utcDay(at: string): string {
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? at.slice(0, 10) : new Date(ms).toISOString().slice(0, 10);
}

/** The Monday (YYYY-MM-DD) of the ISO week holding a UTC day. */
export function weekOf(day: string): string {
  const date = new Date(`${day}T00:00:00.000Z`);
  const back = DAYS_AFTER_MONDAY[date.getUTCDay()] ?? 0;
  return new Date(date.getTime() - back * MS_PER_DAY).toISOString().slice(0, 10);
}

/** `?` → `$1`, `$2`… (PostgreSQL). The statements here hold no other question mark. */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

// ----- writing -----------------------------------------------------------------------------------

export const AUDIT_CARD_COLUMNS = [
  'at',
  'day',
  'week',
  'protocol_version',
  'service_id',
  'hook',
  'hook_instance',
  'rule_id',
  'indicator',
  'card',
] as const;

/** The audit_card rows of one audit row, in AUDIT_CARD_COLUMNS order (`at` as a UTC ISO instant). */
export function auditCardValues(row: AuditRow): unknown[][] {
  const ms = Date.parse(row.at);
  const at = Number.isNaN(ms) ? row.at : new Date(ms).toISOString();
  const day = utcDay(row.at);
  const week = weekOf(day);
  return (row.cards ?? []).map((card) => [
    at,
    day,
    week,
    row.protocolVersion,
    row.serviceId,
    row.hook,
    row.hookInstance,
    card.ruleId,
    card.indicator,
    card.uuid,
  ]);
}

/** The audit row's set-aside counts (set_aside_other_patient, _unreadable, _after_now); nulls when not recorded. */
export function setAsideValues(row: AuditRow): [number | null, number | null, number | null] {
  const s = row.setAside;
  return s ? [s.otherPatient, s.unreadable, s.afterNow ?? 0] : [null, null, null];
}

export const CALLS_COLUMNS = [
  'day',
  'week',
  'hook',
  'protocol_version',
  'outcome',
  'cause',
  'calls',
  'calls_with_cards',
  'set_aside_other_patient',
  'set_aside_unreadable',
  'set_aside_after_now',
] as const;

const CALLS_KEY = ['day', 'hook', 'protocol_version', 'outcome', 'cause'];
const CALLS_COUNTERS = CALLS_COLUMNS.slice(CALLS_COLUMNS.indexOf('calls'));

/** One batch of audit rows summed by report_calls_daily key, in CALLS_COLUMNS order (keys sorted). */
export function callsDeltas(rows: AuditRow[]): unknown[][] {
  const byKey = new Map<string, { key: string[]; counts: number[] }>();
  for (const row of rows) {
    const day = utcDay(row.at);
    const cause = row.outcome === 'ok' ? '' : (row.degradedCause ?? '');
    const key = [day, weekOf(day), row.hook, row.protocolVersion, row.outcome, cause];
    const id = JSON.stringify(key);
    const entry = byKey.get(id) ?? { key, counts: CALLS_COUNTERS.map(() => 0) };
    const [other, unreadable, afterNow] = setAsideValues(row);
    [1, row.cardCount > 0 ? 1 : 0, other ?? 0, unreadable ?? 0, afterNow ?? 0].forEach((value, i) => {
      entry.counts[i] = (entry.counts[i] ?? 0) + value;
    });
    byKey.set(id, entry);
  }
  return [...byKey.keys()].sort().map((id) => {
    const { key, counts } = byKey.get(id) as { key: string[]; counts: number[] };
    return [...key, ...counts];
  });
}

/** `ON CONFLICT … DO UPDATE` adding a batch's counts to report_calls_daily. */
export const CALLS_UPSERT = `ON CONFLICT (${CALLS_KEY.join(', ')}) DO UPDATE SET ${CALLS_COUNTERS.map(
  (c) => `${c} = report_calls_daily.${c} + excluded.${c}`,
).join(', ')}`;

/** One row of report_calls_daily (SQLite inserts row by row; PostgreSQL builds a multi-row VALUES). */
export const INSERT_CALLS = `INSERT INTO report_calls_daily (${CALLS_COLUMNS.join(', ')})
  VALUES (${CALLS_COLUMNS.map(() => '?').join(', ')}) ${CALLS_UPSERT}`;

const UNIT_KEY_MATCH = (unit: string, card: string) =>
  ['service_id', 'hook_instance', 'rule_id', 'indicator'].map((c) => `${unit}.${c} = ${card}.${c}`).join(' AND ');

const BUCKET = `day, week, hook, protocol_version, rule_id, indicator,
  COALESCE(outcome, ''), COALESCE(reason_system, ''), COALESCE(reason_code, '')`;

/** Moves the units being settled out of (sign '-', before recomputing) or into ('+') their daily bucket. */
const moveUnits = (sign: '-' | '', states: string) => `
  INSERT INTO report_cards_daily (day, week, hook, protocol_version, rule_id, indicator, outcome, reason_system,
    reason_code, units)
  SELECT ${BUCKET}, ${sign}COUNT(*) FROM report_unit WHERE state ${states}
  GROUP BY ${BUCKET}
  ON CONFLICT (day, hook, protocol_version, rule_id, indicator, outcome, reason_system, reason_code)
  DO UPDATE SET units = report_cards_daily.units + excluded.units`;

/** Seconds from the card (audit_card c) to the feedback (feedback f), to the millisecond. */
const SECONDS: Record<Dialect, string> = {
  sqlite: `ROUND(unixepoch(f.outcome_at, 'subsec') - unixepoch(c.at, 'subsec'), 3)`,
  postgres: `ROUND(CAST(EXTRACT(EPOCH FROM (CAST(f.outcome_at AS timestamptz) - c.at)) AS numeric), 3)`,
};

/** The cards of one list parameter (see cardList). */
const CARD_LIST: Record<Dialect, string> = {
  sqlite: 'SELECT value FROM json_each(?)',
  postgres: 'SELECT unnest(CAST(? AS text[]))',
};

/** The list parameter of CARD_LIST: JSON text for SQLite, an array for PostgreSQL. */
export const cardList = (dialect: Dialect, cards: string[]): unknown =>
  dialect === 'sqlite' ? JSON.stringify(cards) : cards;

const MEDIAN: Record<Dialect, string> = {
  sqlite: 'median(seconds_to_feedback)',
  postgres: 'percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds_to_feedback)',
};

/** Recomputes the counted feedback of the units being settled and moves them between daily buckets. */
const settleUnits = (dialect: Dialect): string[] => [
  // units whose counted feedback may change leave their bucket (new units, state 2, are in none yet)
  moveUnits('-', '> 0 AND state = 1'), // `state > 0` lets SQLite use the partial index
  `UPDATE report_unit SET (feedback_id, outcome, reason_system, reason_code, seconds_to_feedback) = (
     SELECT f.id, f.outcome,
       CASE WHEN f.outcome = 'overridden' THEN f.override_reason_system END,
       CASE WHEN f.outcome = 'overridden' THEN f.override_reason_code END,
       ${SECONDS[dialect]}
     FROM audit_card c JOIN feedback f ON f.card = c.card
     WHERE c.unit_id = report_unit.id
     ORDER BY f.outcome_at DESC, f.id DESC LIMIT 1)
   WHERE state > 0`,
  moveUnits('', '> 0'),
  'UPDATE report_unit SET state = 0 WHERE state > 0',
];

/** After audit rows (and their audit_card rows, unit_id null) are inserted: no parameters. */
export const settleAudit = (dialect: Dialect): string[] => [
  // a unit's first card makes the unit (state 2: new, in no bucket yet)
  `INSERT INTO report_unit (service_id, hook_instance, rule_id, indicator, at, day, week, protocol_version, hook, state)
   SELECT c.service_id, c.hook_instance, c.rule_id, c.indicator, c.at, c.day, c.week, c.protocol_version, c.hook, 2
   FROM audit_card c
   WHERE c.id IN (SELECT MIN(n.id) FROM audit_card n WHERE n.unit_id IS NULL
                  GROUP BY n.service_id, n.hook_instance, n.rule_id, n.indicator)
   ON CONFLICT (service_id, hook_instance, rule_id, indicator) DO NOTHING`,
  // a known unit shown again whose new card already has feedback (it came before the audit row)
  `UPDATE report_unit SET state = 1 WHERE state = 0 AND id IN (
     SELECT u.id FROM audit_card c
     JOIN feedback f ON f.card = c.card
     JOIN report_unit u ON ${UNIT_KEY_MATCH('u', 'c')}
     WHERE c.unit_id IS NULL)`,
  `UPDATE audit_card SET unit_id = (SELECT u.id FROM report_unit u WHERE ${UNIT_KEY_MATCH('u', 'audit_card')})
   WHERE unit_id IS NULL`,
  ...settleUnits(dialect),
];

/** After feedback rows are inserted: the first statement takes the list of their cards (cardList). */
export const settleFeedback = (dialect: Dialect): string[] => [
  `UPDATE report_unit SET state = 1 WHERE state = 0 AND id IN (
     SELECT c.unit_id FROM audit_card c WHERE c.card IN (${CARD_LIST[dialect]}))`,
  ...settleUnits(dialect),
];

// ----- reading -----------------------------------------------------------------------------------

/** Open ends of a period, as days every stored day sorts between. */
const FIRST_DAY = '0000-01-01';
const LAST_DAY = '9999-12-31';

const PERIOD = `day >= ? AND day <= ? AND (CAST(? AS TEXT) IS NULL OR protocol_version = ?)`;

/** The parameters of PERIOD. */
const periodParams = (q: ReportQuery): unknown[] => [q.from ?? FIRST_DAY, q.to ?? LAST_DAY, q.version, q.version];

export interface ReportStatements {
  /** → CardsRow[] (PERIOD parameters). */
  cards: string;
  /** → CallsRow[] (PERIOD parameters). */
  calls: string;
  /** → MedianRow[] (PERIOD parameters twice). */
  medians: string;
  /** → { protocolVersion, calls }[] (from, to). */
  versions: string;
}

export const reportStatements = (dialect: Dialect): ReportStatements => ({
  cards: `
    SELECT week, hook, protocol_version AS "protocolVersion", rule_id AS "ruleId", indicator, outcome,
      reason_system AS "reasonSystem", reason_code AS "reasonCode", CAST(SUM(units) AS INTEGER) AS units
    FROM report_cards_daily WHERE ${PERIOD}
    GROUP BY week, hook, protocol_version, rule_id, indicator, outcome, reason_system, reason_code
    HAVING SUM(units) <> 0
    ORDER BY week, hook, protocol_version, rule_id, indicator, outcome, reason_system, reason_code`,
  calls: `
    SELECT week, hook, protocol_version AS "protocolVersion", outcome, cause,
      CAST(SUM(calls) AS INTEGER) AS calls, CAST(SUM(calls_with_cards) AS INTEGER) AS "callsWithCards",
      CAST(SUM(set_aside_other_patient) AS INTEGER) AS "setAsideOtherPatient",
      CAST(SUM(set_aside_unreadable) AS INTEGER) AS "setAsideUnreadable",
      CAST(SUM(set_aside_after_now) AS INTEGER) AS "setAsideAfterNow"
    FROM report_calls_daily WHERE ${PERIOD}
    GROUP BY week, hook, protocol_version, outcome, cause
    ORDER BY week, hook, protocol_version, outcome, cause`,
  medians: `
    SELECT rule_id AS "ruleId", indicator, ${MEDIAN[dialect]} AS median
    FROM report_unit WHERE outcome IS NOT NULL AND ${PERIOD}
    GROUP BY rule_id, indicator
    UNION ALL
    SELECT NULL, NULL, ${MEDIAN[dialect]} FROM report_unit WHERE outcome IS NOT NULL AND ${PERIOD}`,
  versions: `
    SELECT protocol_version AS "protocolVersion", CAST(SUM(calls) AS INTEGER) AS calls
    FROM report_calls_daily WHERE day >= ? AND day <= ?
    GROUP BY protocol_version ORDER BY protocol_version`,
});

/** The parameters of each statement of reportStatements. */
export const reportParams = (q: ReportQuery) => ({
  cards: periodParams(q),
  calls: periodParams(q),
  medians: [...periodParams(q), ...periodParams(q)],
  versions: periodParams(q).slice(0, 2),
});

/** Numbers as numbers whatever the driver returned (PostgreSQL's numeric and bigint arrive as text). */
export function asReportRows(raw: {
  cards: Record<string, unknown>[];
  calls: Record<string, unknown>[];
  medians: Record<string, unknown>[];
  versions: Record<string, unknown>[];
}) {
  const num = (v: unknown): number => Number(v);
  return {
    cards: raw.cards.map((r) => ({ ...(r as unknown as CardsRow), units: num(r.units) })),
    calls: raw.calls.map((r) => {
      const row = r as unknown as CallsRow;
      return {
        ...row,
        calls: num(row.calls),
        callsWithCards: num(row.callsWithCards),
        setAsideOtherPatient: num(row.setAsideOtherPatient),
        setAsideUnreadable: num(row.setAsideUnreadable),
        setAsideAfterNow: num(row.setAsideAfterNow),
      };
    }),
    medians: raw.medians.map((r): MedianRow => ({
      ruleId: (r.ruleId as string | null) ?? null,
      indicator: (r.indicator as string | null) ?? null,
      median: r.median === null || r.median === undefined ? null : num(r.median),
    })),
    versions: raw.versions.map((r) => ({ protocolVersion: String(r.protocolVersion), calls: num(r.calls) })),
  };
}
