/**
 * A year of synthetic hook calls and feedback for the effectiveness report's benchmark (`npm run
 * bench:report`, src/scripts/bench-report.mjs) and its "answers on 10⁶ rows" test. Not clinical data:
 * rule ids, times and ids are labels (uuid-shaped counters).
 *
 * The rows are bulk-written into a new SQLite file holding the schema as it was before the report
 * (migrations 1–2: audit and feedback only), the way a deployment upgrading with a year of audit trail
 * finds it; opening the store then applies migration 3 (which copies every card and call into the report
 * tables) and settles every card against its feedback. So the report tables are built by the store's own
 * code, and 10⁶ rows are written in seconds instead of one audit batch at a time.
 *
 * The mix (per call): hooks patient-view 60 %, order-select 25 %, order-sign 15 %; 1 % degraded (deadline),
 * 0.3 % failed; patient-view shows one card, order hooks none to two; 2 % of calls repeat the previous
 * call's hook instance (an EHR calling again). 40 % of cards get feedback (60 % accepted, the rest
 * overridden with one of the reviewed reasons or, 1 in 10, none); 5 % of those get a second, later answer.
 * Protocol 1.0.0 for the first half of the year, 1.1.0 after.
 */
import Database from 'better-sqlite3';
import { OVERRIDE_REASON_SYSTEM, OVERRIDE_REASONS } from '../cards/suggestions';
import { MIGRATIONS } from '../store/migrations';
import { keepForProcessLifetime } from '../store/sqlite';

export interface ReportDataOptions {
  /** Hook calls to write (default 10⁶). */
  calls?: number;
  /** First instant of the year of calls (UTC). */
  start?: string;
}

export const REPORT_DATA_DEFAULTS = { calls: 1_000_000, start: '2025-01-01T00:00:00.000Z' };

/** The schema version the file is written at: before the report tables (migration 3). */
const PRE_REPORT_SCHEMA = 2;

const MS_PER_YEAR = 365 * 86_400_000;
const PER_MILLE = 1000;
/** Shares of the mix, per mille (integers: no fraction here can be mistaken for a protocol number). */
const MIX = {
  patientView: 600,
  orderSelect: 250,
  degraded: 10,
  failed: 3,
  repeatedInstance: 20,
  feedback: 400,
  secondAnswer: 50,
  accepted: 600,
  coded: 900,
};
const PATIENT_VIEW_CARDS: ReadonlyArray<readonly [string, string]> = [
  ['S1', 'warning'],
  ['S2', 'warning'],
  ['S3', 'info'],
  ['E1', 'info'],
  ['E2', 'warning'],
  ['H1', 'warning'],
  ['T1', 'info'],
  ['X1', 'critical'],
];
const ORDER_CARDS: ReadonlyArray<readonly [string, string]> = [
  ['O1', 'info'],
  ['O2', 'critical'],
  ['O3', 'warning'],
];
const FEEDBACK_DELAY_MS = { min: 30_000, spread: 1_800_000 };
const DURATION_MS = { min: 20, spread: 200 };
const PATIENTS = 5000;
/** uuid-shaped ids from counters (hook instance, card, suggestion): they sort in the order written. */
const ID_PREFIX = {
  hookInstance: '10000000-0000-4000-8000-',
  card: '20000000-0000-4000-8000-',
  suggestion: '30000000-0000-4000-8000-',
};

/**
 * Writes the calls and their feedback into a new SQLite file at the pre-report schema; returns the
 * numbers written. Open the file with openSqliteStore to build the report tables. The rows are made by
 * SQL (SQLite's random(), so two files differ in their draws, not in their mix): 10⁶ calls in seconds.
 */
export function writeReportData(
  file: string,
  options: ReportDataOptions = {},
): { calls: number; cards: number; feedback: number } {
  const total = options.calls ?? REPORT_DATA_DEFAULTS.calls;
  const start = Date.parse(options.start ?? REPORT_DATA_DEFAULTS.start);
  const db = new Database(file);
  keepForProcessLifetime(db);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = OFF');
  db.transaction(() => {
    MIGRATIONS.slice(0, PRE_REPORT_SCHEMA).forEach((sql) => db.exec(sql));
    db.exec(`PRAGMA user_version = ${PRE_REPORT_SCHEMA}`);
  })();
  const statement = (sql: string) => {
    const prepared = db.prepare(sql);
    keepForProcessLifetime(prepared);
    return prepared;
  };
  // The indexes are built after the rows (sorting once is much faster than 10⁶ inserts into each).
  const indexes = statement(
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
  ).all() as Array<{
    name: string;
    sql: string;
  }>;
  const draw = (n: number) => `abs(random()) % ${n}`;
  const list = (items: ReadonlyArray<readonly [string, string]>, at: number, field: 0 | 1) =>
    `json_extract('${JSON.stringify(items.map((item) => item[field]))}', '$[' || ${at === 0 ? 'r1' : 'r2'} || ']')`;
  const card = (k: number) => `json_object(
      'uuid', printf('${ID_PREFIX.card}%012x', i * 2 + ${k}),
      'ruleId', CASE WHEN hook = 'patient-view' THEN ${list(PATIENT_VIEW_CARDS, k, 0)} ELSE ${list(ORDER_CARDS, k, 0)} END,
      'indicator', CASE WHEN hook = 'patient-view' THEN ${list(PATIENT_VIEW_CARDS, k, 1)} ELSE ${list(ORDER_CARDS, k, 1)} END)`;
  const reasons = JSON.stringify(OVERRIDE_REASONS.map((r) => r.code));
  const counts = { calls: 0, cards: 0, feedback: 0 };
  db.transaction(() => {
    for (const { name } of indexes) db.exec(`DROP INDEX ${name}`);
    statement(`
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < @total - 1),
      drawn AS MATERIALIZED (
        SELECT i, @start + CAST((i + ${draw(PER_MILLE)} / ${PER_MILLE}.0) * @spacing AS INTEGER) AS ms,
          ${draw(PER_MILLE)} AS hook_draw, ${draw(PER_MILLE)} AS fate, ${draw(PER_MILLE)} AS repeat_draw,
          ${draw(3)} AS order_cards, ${draw(PATIENT_VIEW_CARDS.length)} AS pv1, ${draw(ORDER_CARDS.length)} AS o1,
          ${draw(ORDER_CARDS.length)} AS o2, ${draw(PATIENTS)} AS patient, ${draw(DURATION_MS.spread)} AS duration
        FROM n),
      call AS (
        SELECT i, ms, patient, duration,
          CASE WHEN hook_draw < ${MIX.patientView} THEN 'patient-view'
               WHEN hook_draw < ${MIX.patientView + MIX.orderSelect} THEN 'order-select' ELSE 'order-sign' END AS hook,
          CASE WHEN fate < ${MIX.degraded} THEN 'degraded' WHEN fate < ${MIX.degraded + MIX.failed} THEN 'error'
               ELSE 'ok' END AS outcome,
          CASE WHEN repeat_draw < ${MIX.repeatedInstance} AND i > 0 THEN i - 1 ELSE i END AS instance,
          pv1, o1, o2, order_cards
        FROM drawn),
      shaped AS (
        SELECT *, CASE WHEN outcome <> 'ok' THEN 0 WHEN hook = 'patient-view' THEN 1 ELSE order_cards END AS card_count,
          CASE WHEN hook = 'patient-view' THEN pv1 ELSE o1 END AS r1, o2 AS r2
        FROM call),
      carded AS (
        SELECT *, CASE card_count WHEN 0 THEN json_array() WHEN 1 THEN json_array(${card(0)})
                  ELSE json_array(${card(0)}, ${card(1)}) END AS cards
        FROM shaped)
      INSERT INTO audit (at, hook_instance, service_id, hook, patient_id, rule_ids, protocol_version, duration_ms,
        card_count, outcome, degraded_cause, card_ids, cards)
      SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ms / 1000.0, 'unixepoch'), printf('${ID_PREFIX.hookInstance}%012x', instance),
        'ketamine-protocol-' || hook, hook, 'synthetic-' || patient,
        (SELECT json_group_array(json_extract(value, '$.ruleId')) FROM json_each(cards)),
        CASE WHEN ms - @start < @half THEN '1.0.0' ELSE '1.1.0' END, ${DURATION_MS.min} + duration, card_count, outcome,
        CASE outcome WHEN 'ok' THEN NULL WHEN 'degraded' THEN 'deadline' ELSE 'fhir-unavailable' END,
        (SELECT json_group_array(json_extract(value, '$.uuid')) FROM json_each(cards)), cards
      FROM carded`).run({ total, start, spacing: MS_PER_YEAR / total, half: MS_PER_YEAR / 2 });
    // first answers for a share of the cards, then a later second answer for a share of those
    const answer = (source: string, share: number) => `
      WITH picked AS MATERIALIZED (
        SELECT service_id, card, at, seq, ${draw(PER_MILLE)} AS take, ${draw(PER_MILLE)} AS accept,
          ${draw(PER_MILLE)} AS coded, ${draw(OVERRIDE_REASONS.length)} AS reason,
          ${FEEDBACK_DELAY_MS.min} + ${draw(FEEDBACK_DELAY_MS.spread)} AS delay
        FROM (${source})),
      answered AS (
        SELECT *, strftime('%Y-%m-%dT%H:%M:%fZ', at, '+' || (delay / 1000.0) || ' seconds') AS outcome_at
        FROM picked WHERE take < ${share})
      INSERT INTO feedback (service_id, card, outcome, outcome_timestamp, outcome_at, accepted_suggestions,
        override_reason_system, override_reason_code, received_at)
      SELECT service_id, card, CASE WHEN accept < ${MIX.accepted} THEN 'accepted' ELSE 'overridden' END, outcome_at,
        outcome_at, CASE WHEN accept < ${MIX.accepted} THEN json_array(printf('${ID_PREFIX.suggestion}%012x', seq))
                         ELSE '[]' END,
        CASE WHEN accept >= ${MIX.accepted} AND coded < ${MIX.coded} THEN '${OVERRIDE_REASON_SYSTEM}' END,
        CASE WHEN accept >= ${MIX.accepted} AND coded < ${MIX.coded}
             THEN json_extract('${reasons}', '$[' || reason || ']') END,
        outcome_at
      FROM answered WHERE true
      ON CONFLICT (card, outcome, outcome_at) DO NOTHING`;
    statement(
      answer(
        `SELECT a.service_id, json_extract(c.value, '$.uuid') AS card, a.at, a.id * 2 + c.key AS seq
         FROM audit a, json_each(a.cards) c`,
        MIX.feedback,
      ),
    ).run();
    statement(
      answer(`SELECT service_id, card, outcome_at AS at, id + ${total * 2} AS seq FROM feedback`, MIX.secondAnswer),
    ).run();
    for (const { sql } of indexes) db.exec(sql);
    counts.calls = (statement('SELECT count(*) AS n FROM audit').get() as { n: number }).n;
    counts.cards = (statement('SELECT sum(card_count) AS n FROM audit').get() as { n: number }).n;
    counts.feedback = (statement('SELECT count(*) AS n FROM feedback').get() as { n: number }).n;
  })();
  db.close();
  return counts;
}
