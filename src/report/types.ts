/**
 * The CDS effectiveness report (docs/reports.md): what a pharmacy & therapeutics or CDS committee reads to
 * decide whether the service helps. Aggregates only: counts, rates and medians by rule, indicator, hook,
 * protocol version, week and override reason. No patient id, user, hook instance or card uuid ever leaves
 * the store: the queries (queries.ts) read only the report tables' aggregate columns.
 */

/** What a report covers: whole UTC days, both ends included; a protocol version or all of them. */
export interface ReportQuery {
  /** First UTC day (YYYY-MM-DD); null = from the first row. */
  from: string | null;
  /** Last UTC day (YYYY-MM-DD), included; null = up to the last row. */
  to: string | null;
  /** protocol-parameters.json version; null = every version. */
  version: string | null;
}

/** Cards shown (one per distinct hook instance, rule id and indicator) by week and how they were answered. */
export interface CardsRow {
  /** Monday (UTC) of the week the card was first shown. */
  week: string;
  hook: string;
  protocolVersion: string;
  ruleId: string;
  indicator: string;
  /** The counted feedback: 'accepted', 'overridden' or '' (none). */
  outcome: string;
  /** The override reason's coding ('' when none or not overridden). */
  reasonSystem: string;
  reasonCode: string;
  units: number;
}

/** Hook calls by week, hook, version, outcome and cause. */
export interface CallsRow {
  week: string;
  hook: string;
  protocolVersion: string;
  /** 'ok' | 'degraded' | 'error'. */
  outcome: string;
  /** Why a call was degraded or failed ('' when ok). */
  cause: string;
  calls: number;
  callsWithCards: number;
  setAsideOtherPatient: number;
  setAsideUnreadable: number;
  setAsideAfterNow: number;
}

/** Median seconds from a card to its counted feedback, by rule and indicator (both null: every card). */
export interface MedianRow {
  ruleId: string | null;
  indicator: string | null;
  median: number | null;
}

/** The rows a store returns for one report (src/report/aggregate.ts builds the report from them). */
export interface ReportRows {
  cards: CardsRow[];
  calls: CallsRow[];
  medians: MedianRow[];
  /** Versions with calls in the period (whatever version was asked for), to choose from. */
  versions: Array<{ protocolVersion: string; calls: number }>;
}

/** An acceptance rate with its 95 % Wilson score interval, rounded to 4 decimals. */
export interface Rate {
  rate: number;
  low95: number;
  high95: number;
}

export interface FeedbackCounts {
  /** Distinct (hook instance, rule id, indicator) shown. */
  cardsShown: number;
  accepted: number;
  overridden: number;
  noFeedback: number;
  /** accepted / (accepted + overridden); null when no card got feedback. */
  acceptanceRate: Rate | null;
}

export interface ReasonCount {
  /** The override reason's system and code as the EHR sent them; both null when no coded reason was given. */
  system: string | null;
  code: string | null;
  /** The service's own display for its codes (cds-hooks/override-reasons.json); null for other codes. */
  display: string | null;
  count: number;
}

export interface RuleRow extends FeedbackCounts {
  ruleId: string;
  indicator: string;
  overriddenByReason: ReasonCount[];
  medianSecondsToFeedback: number | null;
}

interface HookRow extends FeedbackCounts {
  hook: string;
  calls: number;
  degraded: number;
  failed: number;
}

export interface WeekRow extends FeedbackCounts {
  /** Monday of the week (UTC). */
  weekStart: string;
  calls: number;
}

interface VersionRow extends FeedbackCounts {
  protocolVersion: string;
  calls: number;
}

export interface EffectivenessReport {
  report: 'cds-effectiveness';
  period: { from: string | null; to: string | null; timeZone: 'UTC' };
  protocolVersion: string | null;
  /** Which feedback counts when a card got several: always the latest (docs/reports.md). */
  countedFeedback: 'latest';
  totals: FeedbackCounts & {
    calls: number;
    callsWithCards: number;
    degradedCalls: number;
    failedCalls: number;
    medianSecondsToFeedback: number | null;
  };
  rules: RuleRow[];
  overrideReasons: ReasonCount[];
  hooks: HookRow[];
  degradedCalls: Array<{ outcome: 'degraded' | 'failed'; cause: string; calls: number }>;
  weekly: WeekRow[];
  versions: VersionRow[];
  /** Every version with calls in the period, whatever version was asked for. */
  availableVersions: string[];
  /** Resources set aside before evaluation (docs/clinical-specification.md §2), summed over the calls. */
  setAside: { otherPatient: number; unreadable: number; afterNow: number };
}
