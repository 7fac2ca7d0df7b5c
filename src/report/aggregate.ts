/**
 * The effectiveness report from the store's aggregate rows (queries.ts): per rule id and indicator, per
 * hook, per week and per protocol version, with the acceptance rate and its 95 % Wilson score interval.
 * Definitions (docs/reports.md):
 *  - a card shown is one distinct (hook instance, rule id, indicator) of one service, counted in the UTC
 *    week and day of its first showing;
 *  - its outcome is its latest feedback (by outcome time, then arrival), over every card of that hook
 *    instance for that rule and indicator; none = no feedback;
 *  - acceptance rate = accepted / (accepted + overridden), null when no card got feedback;
 *  - median time to feedback: from the card the counted feedback is about to that feedback, in seconds.
 */
import { OVERRIDE_REASONS } from '../cards/suggestions';
import type {
  CallsRow,
  CardsRow,
  EffectivenessReport,
  FeedbackCounts,
  Rate,
  ReasonCount,
  ReportQuery,
  ReportRows,
  RuleRow,
  WeekRow,
} from './types';
import { weekOf } from './queries';

/** The 0.975 quantile of the standard normal distribution (two-sided 95 %). */
const Z_95 = 1.959963984540054;
const DECIMALS = 4;
const MS_PER_WEEK = 604_800_000;

const round = (value: number, decimals = DECIMALS): number => {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
};

/** Wilson score interval of successes out of n (null when n is 0), rounded to 4 decimals. */
function wilson(successes: number, n: number, z = Z_95): Rate | null {
  if (n <= 0) return null;
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return { rate: round(p), low95: round(Math.max(0, centre - half)), high95: round(Math.min(1, centre + half)) };
}

interface Tally {
  cardsShown: number;
  accepted: number;
  overridden: number;
}

const emptyTally = (): Tally => ({ cardsShown: 0, accepted: 0, overridden: 0 });

function addCards(tally: Tally, row: CardsRow): void {
  tally.cardsShown += row.units;
  if (row.outcome === 'accepted') tally.accepted += row.units;
  if (row.outcome === 'overridden') tally.overridden += row.units;
}

const counts = (t: Tally): FeedbackCounts => ({
  cardsShown: t.cardsShown,
  accepted: t.accepted,
  overridden: t.overridden,
  noFeedback: t.cardsShown - t.accepted - t.overridden,
  acceptanceRate: wilson(t.accepted, t.accepted + t.overridden),
});

const KNOWN_REASONS = new Map(OVERRIDE_REASONS.map((r) => [`${r.system}\u0000${r.code}`, r.display ?? null]));

/** Reason counts of overridden rows, most frequent first. */
function reasons(rows: CardsRow[]): ReasonCount[] {
  const byKey = new Map<string, ReasonCount>();
  for (const row of rows) {
    if (row.outcome !== 'overridden') continue;
    const key = `${row.reasonSystem}\u0000${row.reasonCode}`;
    const entry = byKey.get(key) ?? {
      system: row.reasonSystem || null,
      code: row.reasonCode || null,
      display: KNOWN_REASONS.get(key) ?? null,
      count: 0,
    };
    entry.count += row.units;
    byKey.set(key, entry);
  }
  return [...byKey.values()].sort(
    (a, b) =>
      b.count - a.count || text(a.system).localeCompare(text(b.system)) || text(a.code).localeCompare(text(b.code)),
  );
}

const text = (value: string | null): string => value ?? '';
const natural = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

const tallyOf = (rows: CardsRow[]): Tally => {
  const tally = emptyTally();
  for (const row of rows) addCards(tally, row);
  return tally;
};

const sum = (rows: CallsRow[], pick: (row: CallsRow) => number): number => rows.reduce((n, r) => n + pick(r), 0);

/** Every Monday from the first week to the last (weeks without a call or card included, at zero). */
function weeksBetween(weeks: string[]): string[] {
  if (weeks.length === 0) return [];
  const sorted = [...weeks].sort();
  const first = Date.parse(`${sorted[0]}T00:00:00Z`);
  const last = Date.parse(`${sorted[sorted.length - 1]}T00:00:00Z`);
  const all: string[] = [];
  for (let t = first; t <= last; t += MS_PER_WEEK) all.push(weekOf(new Date(t).toISOString().slice(0, 10)));
  return all;
}

export function buildReport(rows: ReportRows, query: ReportQuery): EffectivenessReport {
  const { cards, calls } = rows;
  const medians = new Map(rows.medians.map((m) => [`${m.ruleId ?? ''}\u0000${m.indicator ?? ''}`, m.median]));
  const median = (ruleId: string, indicator: string): number | null => {
    const value = medians.get(`${ruleId}\u0000${indicator}`);
    return value === null || value === undefined ? null : round(value, 3);
  };

  const rules: RuleRow[] = [...groupBy(cards, (r) => `${r.ruleId}\u0000${r.indicator}`).values()]
    .map((group) => {
      const { ruleId, indicator } = group[0] as CardsRow;
      return {
        ruleId,
        indicator,
        ...counts(tallyOf(group)),
        overriddenByReason: reasons(group),
        medianSecondsToFeedback: median(ruleId, indicator),
      };
    })
    .sort((a, b) => natural(a.ruleId, b.ruleId) || a.indicator.localeCompare(b.indicator));

  const callsByHook = groupBy(calls, (r) => r.hook);
  const cardsByHook = groupBy(cards, (r) => r.hook);
  const hooks = [...new Set([...callsByHook.keys(), ...cardsByHook.keys()])].sort().map((hook) => {
    const hookCalls = callsByHook.get(hook) ?? [];
    return {
      hook,
      calls: sum(hookCalls, (r) => r.calls),
      degraded: sum(hookCalls, (r) => (r.outcome === 'degraded' ? r.calls : 0)),
      failed: sum(hookCalls, (r) => (r.outcome === 'error' ? r.calls : 0)),
      ...counts(tallyOf(cardsByHook.get(hook) ?? [])),
    };
  });

  const degradedCalls = [
    ...groupBy(
      calls.filter((r) => r.outcome !== 'ok'),
      (r) => `${r.outcome}\u0000${r.cause}`,
    ).values(),
  ]
    .map((group) => {
      const { outcome, cause } = group[0] as CallsRow;
      return {
        outcome: outcome === 'degraded' ? ('degraded' as const) : ('failed' as const),
        cause: cause || 'unknown',
        calls: sum(group, (r) => r.calls),
      };
    })
    .sort((a, b) => b.calls - a.calls || a.outcome.localeCompare(b.outcome) || a.cause.localeCompare(b.cause));

  const callsByWeek = groupBy(calls, (r) => r.week);
  const cardsByWeek = groupBy(cards, (r) => r.week);
  const weekly: WeekRow[] = weeksBetween([...callsByWeek.keys(), ...cardsByWeek.keys()]).map((weekStart) => ({
    weekStart,
    calls: sum(callsByWeek.get(weekStart) ?? [], (r) => r.calls),
    ...counts(tallyOf(cardsByWeek.get(weekStart) ?? [])),
  }));

  const callsByVersion = groupBy(calls, (r) => r.protocolVersion);
  const cardsByVersion = groupBy(cards, (r) => r.protocolVersion);
  const versions = [...new Set([...callsByVersion.keys(), ...cardsByVersion.keys()])]
    .sort(natural)
    .map((protocolVersion) => ({
      protocolVersion,
      calls: sum(callsByVersion.get(protocolVersion) ?? [], (r) => r.calls),
      ...counts(tallyOf(cardsByVersion.get(protocolVersion) ?? [])),
    }));

  return {
    report: 'cds-effectiveness',
    period: { from: query.from, to: query.to, timeZone: 'UTC' },
    protocolVersion: query.version,
    countedFeedback: 'latest',
    totals: {
      calls: sum(calls, (r) => r.calls),
      callsWithCards: sum(calls, (r) => r.callsWithCards),
      degradedCalls: sum(calls, (r) => (r.outcome === 'degraded' ? r.calls : 0)),
      failedCalls: sum(calls, (r) => (r.outcome === 'error' ? r.calls : 0)),
      ...counts(tallyOf(cards)),
      medianSecondsToFeedback: median('', ''),
    },
    rules,
    overrideReasons: reasons(cards),
    hooks,
    degradedCalls,
    weekly,
    versions,
    availableVersions: rows.versions.map((v) => v.protocolVersion).sort(natural),
    setAside: {
      otherPatient: sum(calls, (r) => r.setAsideOtherPatient),
      unreadable: sum(calls, (r) => r.setAsideUnreadable),
      afterNow: sum(calls, (r) => r.setAsideAfterNow),
    },
  };
}
