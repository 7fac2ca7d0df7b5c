/**
 * The words of the cards: rule titles and meanings, labels for missing items, contraindications,
 * cautions and vitals, and the one-line summaries. Every number comes from the parameters or the
 * recommendation; every summary is phrased as the protocol's suggestion, never as a command.
 */
import type { ProtocolParameters } from '../config/parameters';
import type { CautionCategory, VitalKind } from '../protocol/facts';
import type {
  Contraindication,
  ContraindicationCode,
  MissingCode,
  Note,
  OrderCheck,
  OrderFinding,
  OrderFindingId,
  OrderRuleId,
  Recommendation,
  RuleId,
  VitalReading,
} from '../protocol/recommendation';
import { displayQuantity, displayTime, displayUnit } from '../protocol/display';
import { SUMMARY_MAX_LENGTH } from '../contract/cds-hooks';
import { escapeMarkdown, formatTime, plural, type Numbers } from './format';

export const RATE_UNIT = 'mg/kg/h';

export const RULE_TITLES: Record<RuleId | OrderRuleId, string> = {
  P0: 'Outside the protocol',
  S1: 'Start contraindicated',
  S2: 'Data needed before a start',
  S3: 'Start',
  X1: 'Course completed',
  A1: 'Adverse effect',
  A2: 'Vital-sign breach',
  A3: 'Above the hard maximum',
  D1: 'Dosing weight or readable rate needed',
  T1: 'Too soon for a rate change',
  T2: 'Pain score needed',
  T3: 'Pain rebound during taper',
  T4: 'Taper step',
  T5: 'Taper complete',
  T6: 'Pain at target',
  T7: 'Maximum rate reached',
  V1: 'Vital signs needed before an increase',
  T8: 'Titration step',
  O0: 'Draft rate unreadable',
  O1: 'Draft order while contraindicated',
  O2: 'Draft order while data are missing',
  O3: 'Draft rate above the hard maximum',
  O4: 'Draft start rate off protocol',
  O5: 'Draft increase not due',
  O6: 'Draft increase larger than one step',
};

/** What each rule means, with the parameter values it applies. */
export function ruleMeaning(ruleId: RuleId | OrderRuleId, p: ProtocolParameters, n: Numbers): string {
  const step = `${n.rate(p.escalationStep)} ${RATE_UNIT}`;
  const every = `every ${n.plain(p.minHoursBetweenChanges)}–${n.plain(p.maxHoursBetweenChanges)} h`;
  const target = `${n.plain(p.targetPain)}/${n.plain(p.painScaleMax)}`;
  switch (ruleId) {
    case 'P0':
      return 'No active chronic-migraine diagnosis: the protocol does not apply.';
    case 'S1':
      return 'Not started, and a contraindication is charted: the protocol does not suggest a start.';
    case 'S2':
      return (
        `Not started, and a prerequisite for a start is missing or stale: a dosing weight within ${n.plain(p.weightMaxAgeDays)} d, ` +
        `an EKG within ${n.plain(p.ekgMaxAgeDays)} d, for every patient not recorded as male a negative pregnancy test within ` +
        `${n.plain(p.pregnancyTestMaxAgeDays)} d, a baseline blood pressure and heart rate within ${n.plain(p.vitalsMaxAgeHours)} h, ` +
        `and a baseline pain score within ${n.plain(p.painMaxAgeHours)} h.`
      );
    case 'S3':
      return `Not started, prerequisites met: the protocol starts at ${n.rate(p.startRate)} ${RATE_UNIT}.`;
    case 'X1':
      return 'The infusion has ended; a new ketamine order would be judged as a new start.';
    case 'A1':
      return `An adverse effect (psychotomimetic, or attributed to ketamine) was recorded since the last rate change: decrease by ${step} (stop when that reaches 0).`;
    case 'A2':
      return `A vital sign within the last ${n.plain(p.vitalsMaxAgeHours)} h is outside its limits: decrease by ${step} (stop when that reaches 0).`;
    case 'A3':
      return `The running rate is above the hard maximum of ${n.rate(p.hardMaxRate)} ${RATE_UNIT}, which the protocol never accepts: decrease to the hard maximum.`;
    case 'V1':
      return `An increase would be due, but a blood pressure and heart rate within the last ${n.plain(p.vitalsMaxAgeHours)} h are needed first.`;
    case 'D1':
      return `The dosing weight or the running rate is missing, older than ${n.plain(p.weightMaxAgeDays)} d or unreadable, so no rate can be computed.`;
    case 'T1':
      return `Less than ${n.plain(p.minHoursBetweenChanges)} h since the last rate change: the rate stays until the next review.`;
    case 'T2':
      return `A rate decision needs a pain score taken after the last rate change and no older than ${n.plain(p.painMaxAgeHours)} h.`;
    case 'T3':
      return `Taper phase, and the latest pain score is above ${target}: the protocol gives no rule for a rebound, so the rate stays for clinician review.`;
    case 'T4':
      return `Taper phase (pain at or below ${target} sustained for ${n.plain(p.sustainedHours)} h): decrease by ${n.rate(p.taperStep)} ${RATE_UNIT} ${every} until 0.`;
    case 'T5':
      return `Taper phase: the next taper step of ${n.rate(p.taperStep)} ${RATE_UNIT} reaches 0, so the infusion stops.`;
    case 'T6':
      return (
        `Titration phase, and the latest pain score is at or below ${target}: the rate stays; the taper starts once at least ` +
        `${plural(p.minScoresForSustained, 'score')} at or below target span ${n.plain(p.sustainedHours)} h.`
      );
    case 'T7':
      return `Titration phase: one more step of ${step} would pass the hard maximum of ${n.rate(p.hardMaxRate)} ${RATE_UNIT} or the max tolerated rate, so the rate stays.`;
    case 'T8':
      return (
        `Titration phase, pain above ${target}: increase by ${step} ${every} as tolerated; ` +
        `a rate above ${n.rate(p.softMaxRate)} ${RATE_UNIT} asks for attending review.`
      );
    case 'O0':
      return `The draft order's rate could not be read (a rate in ${RATE_UNIT}, mg/h or mL/h is expected).`;
    case 'O1':
      return 'A start is contraindicated for this patient: the protocol suggests removing the draft order.';
    case 'O2':
      return 'Data needed before a start are missing or stale.';
    case 'O3':
      return `The draft rate is above the hard maximum of ${n.rate(p.hardMaxRate)} ${RATE_UNIT}, which the protocol never accepts.`;
    case 'O4':
      return `The infusion has not started: the protocol starts at ${n.rate(p.startRate)} ${RATE_UNIT}.`;
    case 'O5':
      return 'The draft rate is above the current rate, but the protocol does not suggest an increase now.';
    case 'O6':
      return `The draft rate is more than one escalation step (${step}) above the current rate.`;
  }
}

/** Which maximum holds (T7) or lowers (A3) the rate. */
type MaxRateReason = NonNullable<Recommendation['maxRateReason']>;

function maxRateReasonOf(rec: Recommendation): MaxRateReason {
  return rec.maxRateReason ?? (rec.action === 'hold' ? 'hard-max' : 'above-hard-max');
}

/** "Hallucinations (a psychotomimetic effect) at 2026-11-24 10:00 UTC, at 0.3 mg/kg/h": the effect as charted. */
export function effectWords(ae: NonNullable<Recommendation['adverseEffect']>, n: Numbers): string {
  const kind = ae.psychotomimetic ? 'a psychotomimetic effect' : 'an adverse effect attributed to ketamine';
  const at = ae.atRate === null ? '' : `, at ${n.rate(ae.atRate)} ${RATE_UNIT}`;
  return `${escapeMarkdown(ae.display)} (${kind}) on ${formatTime(ae.time)}${at}`;
}

/** The title of a finding on a draft: its rule's, or the re-challenge of a new start (S3, §8). */
export const findingTitle = (f: Pick<OrderFinding, 'ruleId' | 'reason'>): string =>
  f.reason === 're-challenge' ? 'Start after an adverse effect (re-challenge)' : RULE_TITLES[f.ruleId];

/**
 * §8 (v1.1): a new course would be a re-challenge (S3 on a draft, X1): the earlier effects with their time
 * and rate, the ceiling below the start rate, and the attending's decision. Null when it would not be.
 */
function rechallengeWords(rec: Recommendation, p: ProtocolParameters, n: Numbers): string | null {
  const r = rec.rechallenge;
  if (!r) return null;
  const effects = r.effects.length > 0 ? r.effects.map((e) => effectWords(e, n)).join('; ') : 'an adverse effect';
  const ceiling =
    r.maxToleratedRate === null
      ? 'the max tolerated rate is unknown'
      : `the max tolerated rate of ${n.rate(r.maxToleratedRate)} ${RATE_UNIT} lies below the start rate of ${n.rate(p.startRate)} ${RATE_UNIT}`;
  return `Re-challenge: after ${effects}, ${ceiling}: a new course needs the attending's decision.`;
}

/** What the rule of a recommendation means: ruleMeaning, with the T7 variants naming what holds the rate. */
export function recommendationMeaning(rec: Recommendation, p: ProtocolParameters, n: Numbers): string {
  const rechallenge = rec.ruleId === 'X1' ? rechallengeWords(rec, p, n) : null;
  if (rechallenge) return `${ruleMeaning(rec.ruleId, p, n)} ${rechallenge}`;
  const step = `${n.rate(p.escalationStep)} ${RATE_UNIT}`;
  if (rec.ruleId === 'D1') return d1Meaning(rec, p, n);
  if (cappedAtHardMax(rec)) {
    const why =
      rec.ruleId === 'A1'
        ? 'An adverse effect (psychotomimetic, or attributed to ketamine) was recorded since the last rate change'
        : `A vital sign within the last ${n.plain(p.vitalsMaxAgeHours)} h is outside its limits`;
    return (
      `${why}, and one step down (${step}) would still be above the hard maximum of ${n.rate(p.hardMaxRate)} ${RATE_UNIT}: ` +
      `decrease to the hard maximum ${n.rate(p.hardMaxRate)} ${RATE_UNIT}.`
    );
  }
  if (rec.ruleId !== 'T7') return ruleMeaning(rec.ruleId, p, n);
  const ceiling =
    rec.maxToleratedRate === null
      ? 'the max tolerated rate'
      : `the max tolerated rate of ${n.rate(rec.maxToleratedRate)} ${RATE_UNIT}`;
  const setBy = rec.adverseEffect ? `, set by ${effectWords(rec.adverseEffect, n)}` : '';
  switch (maxRateReasonOf(rec)) {
    case 'above-hard-max':
      return ruleMeaning('A3', p, n);
    case 'tolerance-unknown':
      return (
        'Held: an adverse effect was charted while the running rate could not be read, so the max tolerated rate is ' +
        'unknown and the protocol suggests no increase; the rate stays.'
      );
    case 'hard-max':
      return `Held by the hard maximum of ${n.rate(p.hardMaxRate)} ${RATE_UNIT}: one more step of ${step} would pass it, so the rate stays.`;
    case 'max-tolerated':
      return `Held by ${ceiling}${setBy}: one more step of ${step} would pass it, so the rate stays.`;
    case 'above-max-tolerated':
      return (
        `Held: the running rate is above ${ceiling}${setBy}, and no effect has been charted since this rate started, ` +
        'so it is tolerated: the rate stays (never cut for the ceiling alone) and no increase is suggested.'
      );
  }
}

/**
 * A1/A2 whose one step down would still be above the hard maximum: the core lowers the rate to
 * hardMaxRate instead (v1.1) and says so with maxRateReason.
 */
export function cappedAtHardMax(rec: Recommendation): boolean {
  return (
    (rec.ruleId === 'A1' || rec.ruleId === 'A2') && rec.action === 'decrease' && rec.maxRateReason === 'above-hard-max'
  );
}

/** What D1 waits for, from its missing items: the dosing weight, the running rate, or both. */
type D1Cause = 'weight' | 'rate' | 'both';

function d1Cause(rec: Recommendation): D1Cause {
  const weight = rec.missing.some((m) => m.code.startsWith('weight-'));
  const rate = rec.missing.some((m) => m.code === 'rate-unreadable') || rec.currentRate === null;
  return weight && rate ? 'both' : rate ? 'rate' : 'weight';
}

const D1_TITLES: Record<D1Cause, string> = {
  weight: 'Dosing weight needed',
  rate: 'Running rate unreadable',
  both: 'Dosing weight and readable rate needed',
};

/** The title of a recommendation's rule on its card: RULE_TITLES, with D1 named by what it waits for. */
export function recommendationTitle(rec: Recommendation): string {
  return rec.ruleId === 'D1' ? D1_TITLES[d1Cause(rec)] : RULE_TITLES[rec.ruleId];
}

function d1Meaning(rec: Recommendation, p: ProtocolParameters, n: Numbers): string {
  const weight = `The dosing weight is missing, older than ${n.plain(p.weightMaxAgeDays)} d or unreadable`;
  const unread = `the running rate could not be read (it needs charting again in ${RATE_UNIT}, mg/h or mL/h)`;
  switch (d1Cause(rec)) {
    case 'weight':
      return `${weight}, so no rate can be computed.`;
    case 'rate':
      return `The running rate could not be read, so no rate can be computed from it; it needs charting again in ${RATE_UNIT}, mg/h or mL/h.`;
    case 'both':
      return `${weight}, and ${unread}: no rate can be computed.`;
  }
}

/**
 * An A1/A2 condition that holds while the running rate cannot be read (D1, critical): what, when and at
 * what rate, and that the rate should come down (plain text but for the escaped chart text).
 */
export function safetyFindingText(
  finding: 'A1' | 'A2',
  rec: Recommendation,
  p: ProtocolParameters,
  n: Numbers,
): string {
  const down = `the protocol would lower the rate by one step of ${n.rate(p.escalationStep)} ${RATE_UNIT}, but no lower rate can be computed`;
  if (finding === 'A1') {
    const ae = rec.adverseEffect;
    if (!ae) return `an adverse effect was recorded since the current rate started: ${down}`;
    const at = ae.atRate === null ? ' (its rate could not be read)' : '';
    return `${effectWords(ae, n)}, since the current rate started${at}: ${down}`;
  }
  const breaches = rec.contraindications.flatMap((c) =>
    c.code === 'vital-breach' ? [`${escapeMarkdown(breachText(c.vital))} (${formatTime(c.time)})`] : [],
  );
  return `${breaches.length > 0 ? breaches.join('; ') : 'a vital sign is outside its limits'}: ${down}`;
}

/**
 * What an order rule means for this check: ruleMeaning, with the O0 variants told apart; a re-challenge
 * (§8) is said whichever finding leads.
 */
export function orderCheckMeaning(
  check: OrderCheck & { ruleId: OrderFindingId },
  rec: Recommendation,
  p: ProtocolParameters,
  n: Numbers,
): string {
  const rechallenge = check.findings?.some((f) => f.reason === 're-challenge') ? rechallengeWords(rec, p, n) : null;
  if (check.ruleId === 'S3') return rechallenge ?? ruleMeaning('S3', p, n);
  const meaning = draftMeaning(check, p, n);
  return rechallenge ? `${meaning} ${rechallenge}` : meaning;
}

/** What O0 (or another order finding) means for this draft: the running rate or the draft's own rate unreadable, and why. */
function draftMeaning(check: OrderCheck & { ruleId: OrderFindingId }, p: ProtocolParameters, n: Numbers): string {
  if (check.ruleId === 'O0' && check.reason === 'current-rate-unreadable') {
    return (
      'The running rate could not be read, so the draft cannot be checked against it (whether it is an increase, and by ' +
      `how much); the protocol suggests no rate until the running rate is charted in ${RATE_UNIT}, mg/h or mL/h.`
    );
  }
  if (check.ruleId === 'O0' && check.unreadable?.strength)
    return `The draft order's rate could not be read: ${escapeMarkdown(check.unreadable.detail)}.`;
  if (check.ruleId === 'O0' && check.draftUnreadable) {
    const expected = `(a rate in ${RATE_UNIT}, mg/h or mL/h is expected)`;
    switch (check.draftUnreadable) {
      case 'no-rate':
        return `The draft order has no rate ${expected}.`;
      case 'unknown-unit':
        return `The draft order's rate is in a unit the protocol does not read ${expected}.`;
      case 'invalid-value':
        return `The draft order's rate is not a valid number ${expected}.`;
      case 'no-weight':
        return `The draft order's rate is per patient (mg/h or mL/h), and no readable weight is charted to read it as ${RATE_UNIT}.`;
      case 'implausible':
        return (
          `The draft order's rate is above ${n.rate(p.maxPlausibleRate)} ${RATE_UNIT}, the highest plausible rate: ` +
          'it is taken as a charting error, so the protocol does not read it.'
        );
      case 'unreadable-strength':
      case 'rounds-to-zero':
        return `The draft order's rate could not be read: ${escapeMarkdown(check.unreadable?.detail ?? 'its value')}.`;
    }
  }
  return ruleMeaning(check.ruleId, p, n);
}

/** Short names of missing items (for summaries). */
const MISSING_SHORT: Record<MissingCode, string> = {
  'weight-missing': 'weight',
  'weight-stale': 'weight',
  'weight-unreadable': 'weight',
  'ekg-missing': 'EKG',
  'ekg-stale': 'EKG',
  'pregnancy-test-missing': 'pregnancy test',
  'pregnancy-test-stale': 'pregnancy test',
  'baseline-pain-missing': 'pain score',
  'pain-after-change-missing': 'pain score',
  'pain-stale': 'pain score',
  'rate-unreadable': 'readable rate',
  'vitals-missing': 'blood pressure and heart rate',
};

/** One line of the "missing or stale" list. `since`/`detail` are formatted/escaped by the caller. */
export function missingLine(
  code: MissingCode,
  since: string | null,
  detail: string | null,
  p: ProtocolParameters,
  n: Numbers,
): string {
  const seen = since ? `last charted ${since}` : 'none charted';
  const extra = detail ? ` (${detail})` : '';
  switch (code) {
    case 'weight-missing':
      return `Dosing weight: none charted${extra}`;
    case 'weight-stale':
      return `Dosing weight: ${seen}, older than ${n.plain(p.weightMaxAgeDays)} d${extra}`;
    case 'weight-unreadable':
      return `Dosing weight: charted but could not be read${extra}`;
    case 'ekg-missing':
      return `EKG: none charted (needed within ${n.plain(p.ekgMaxAgeDays)} d)${extra}`;
    case 'ekg-stale':
      return `EKG: ${seen}, older than ${n.plain(p.ekgMaxAgeDays)} d${extra}`;
    case 'pregnancy-test-missing':
      return `Pregnancy test: no negative result charted (needed within ${n.plain(p.pregnancyTestMaxAgeDays)} d unless the patient is recorded as male)${extra}`;
    case 'pregnancy-test-stale':
      return `Pregnancy test: ${seen}, older than ${n.plain(p.pregnancyTestMaxAgeDays)} d${extra}`;
    case 'baseline-pain-missing':
      return `Baseline pain score: none within the last ${n.plain(p.painMaxAgeHours)} h${extra}`;
    case 'pain-after-change-missing':
      return `Pain score after the last rate change${since ? ` (${since})` : ''}: none charted${extra}`;
    case 'pain-stale':
      return `Pain score: latest ${since ?? 'time unknown'}, older than ${n.plain(p.painMaxAgeHours)} h${extra}`;
    case 'rate-unreadable':
      return `Infusion rate: could not be read${extra}`;
    case 'vitals-missing':
      return `Vital signs: no ${detail ?? 'blood pressure and heart rate'} within the last ${n.plain(p.vitalsMaxAgeHours)} h`;
  }
}

export const CONTRAINDICATION_LABELS: Record<ContraindicationCode, string> = {
  'pregnancy-test-positive': 'positive pregnancy test',
  'pregnancy-test-equivocal': 'equivocal pregnancy test',
  'pregnancy-condition': 'pregnancy',
  psychosis: 'psychosis or schizophrenia',
  'ketamine-allergy': 'ketamine allergy or intolerance',
  'under-min-age': 'under the minimum age',
  'vital-breach': 'vital sign out of range',
};

export const CAUTION_LABELS: Record<CautionCategory, string> = {
  cirrhosis: 'Severe hepatic disease / cirrhosis',
  'raised-icp': 'Raised intracranial pressure',
  glaucoma: 'Glaucoma',
  'substance-use': 'Substance use disorder',
  'ischemic-heart-disease': 'Ischemic heart disease',
};

/** How the cards name each vital sign: `name` in sentences (notes, breaches), `short` in the vital-signs line. */
export const VITAL_LABELS: Readonly<Record<VitalKind, { name: string; short: string }>> = {
  sbp: { name: 'Systolic blood pressure', short: 'Systolic blood pressure' },
  dbp: { name: 'Diastolic blood pressure', short: 'Diastolic blood pressure' },
  hr: { name: 'Heart rate', short: 'Heart rate' },
  rr: { name: 'Respiratory rate', short: 'Respiratory rate' },
  spo2: { name: 'Oxygen saturation', short: 'SpO2' },
};

/** A vital-sign reading against its limit: "Systolic blood pressure 190 mmHg (above 180 mmHg)". */
function breachText(v: VitalReading): string {
  const value = `${VITAL_LABELS[v.kind].name} ${displayQuantity(v.value, v.unit)}`;
  if (!v.breach) return value;
  return `${value} (${v.breach.bound === 'high' ? 'above' : 'below'} ${displayQuantity(v.breach.limit, v.unit)})`;
}

/** A contraindication in words: a vital-sign breach from its reading, any other as the core or the chart names it. */
export function contraindicationText(c: Contraindication): string {
  return c.code === 'vital-breach' ? breachText(c.vital) : c.display;
}

/** A note in words: the core's sentences as they are, a vital-sign note written here (plain text, unescaped). */
export function noteText(note: Note): string {
  if (typeof note === 'string') return note;
  switch (note.vitalNote) {
    case 'no-time':
      return `A ${VITAL_LABELS[note.kind].name.toLowerCase()} has no readable time: not judged.`;
    case 'after-now':
      return `${VITAL_LABELS[note.kind].name} charted at ${displayTime(note.time)} is dated after the evaluation time: ignored.`;
    case 'unit':
      return `${VITAL_LABELS[note.kind].name} ${note.value} at ${displayTime(note.time)} is in unit "${note.unit}" (expected ${displayUnit(note.expectedUnit)}): not judged.`;
    case 'too-old': {
      const vitals = note.vitals.map(
        (v) =>
          `${VITAL_LABELS[v.kind].name.toLowerCase()} ${displayQuantity(v.value, v.unit)} (${displayTime(v.time)})`,
      );
      return `Not judged, older than ${note.maxAgeHours} h: ${vitals.join('; ')}.`;
    }
  }
}

/** Joins distinct labels: "weight, EKG and pregnancy test". */
function listOf(labels: string[]): string {
  const distinct = [...new Set(labels)];
  const last = distinct.pop();
  if (last === undefined) return '';
  return distinct.length === 0 ? last : `${distinct.join(', ')} and ${last}`;
}

const length = (text: string): number => [...text].length;

/**
 * `prefix + list + suffix` within the summary limit: when the whole list does not fit, as many labels
 * as fit and "and N more", so the count stays visible ("psychosis, ketamine allergy and 3 more").
 */
function fitList(prefix: string, labels: string[], suffix = '', max = SUMMARY_MAX_LENGTH): string {
  const distinct = [...new Set(labels)];
  const full = `${prefix}${listOf(distinct)}${suffix}`;
  if (length(full) <= max) return full;
  for (let shown = distinct.length - 1; shown >= 1; shown--) {
    const text = `${prefix}${distinct.slice(0, shown).join(', ')} and ${distinct.length - shown} more${suffix}`;
    if (length(text) <= max) return text;
  }
  return `${prefix}${distinct.length} items${suffix}`;
}

const rate = (n: Numbers, value: number | null) =>
  value === null ? 'an unknown rate' : `${n.rate(value)} ${RATE_UNIT}`;

/** The patient-view summary for a recommendation (action ≠ none). */
export function recommendationSummary(rec: Recommendation, p: ProtocolParameters, n: Numbers): string {
  const from = rec.currentRate === null ? '' : ` from ${n.rate(rec.currentRate)}`;
  const to = rec.recommendedRate === null ? '' : ` to ${rate(n, rec.recommendedRate)}`;
  switch (rec.action) {
    case 'start':
      return `Protocol suggests starting IV ketamine at ${rate(n, rec.recommendedRate)}`;
    case 'increase': {
      const overdue = rec.overdue ? ' (step overdue)' : '';
      const review = rec.aboveSoftMax ? `; above ${n.rate(p.softMaxRate)}, attending review advised` : '';
      return `Protocol suggests increasing ketamine${from}${to}${overdue}${review}`;
    }
    case 'taper':
      return `Protocol suggests tapering ketamine${from}${to}`;
    case 'decrease':
      if (cappedAtHardMax(rec))
        return `Protocol suggests decreasing ketamine${from} to the hard maximum of ${rate(n, rec.recommendedRate)} after ${rec.ruleId === 'A2' ? 'a vital-sign breach' : effectKind(rec)}`;
      if (rec.ruleId === 'A3')
        return `Protocol suggests decreasing ketamine${from}${to}: above the hard maximum of ${n.rate(p.hardMaxRate)} ${RATE_UNIT}`;
      return `Protocol suggests decreasing ketamine${from}${to} after ${rec.ruleId === 'A2' ? 'a vital-sign breach' : effectKind(rec)}`;
    case 'stop':
      if (rec.ruleId === 'A1')
        return `Protocol suggests stopping ketamine after ${effectKind(rec)} at ${rate(n, rec.currentRate)}`;
      if (rec.ruleId === 'A2')
        return `Protocol suggests stopping ketamine after a vital-sign breach at ${rate(n, rec.currentRate)}`;
      return `Protocol suggests stopping ketamine: taper complete from ${rate(n, rec.currentRate)}`;
    case 'hold':
      return holdSummary(rec, p, n);
    case 'needs-data':
      if (rec.ruleId === 'D1') return d1Summary(rec, p, n);
      return needsDataSummary(
        rec,
        rec.phase === 'not-started'
          ? 'before starting ketamine'
          : rec.ruleId === 'V1'
            ? `before the increase to ${rate(n, rec.arithmetic?.toRate ?? null)}`
            : 'before the next ketamine rate decision',
      );
    case 'contraindicated':
      return contraindicatedSummary(rec, 'starting');
    case 'completed':
      return `Protocol course completed: ketamine infusion ended ${formatTime(rec.infusion.endedAt)}${rec.rechallenge ? "; a new course needs the attending's decision" : ''}`;
    case 'none':
      return 'Protocol does not apply';
  }
}

function holdSummary(rec: Recommendation, p: ProtocolParameters, n: Numbers): string {
  const at = `Protocol suggests keeping ketamine at ${rate(n, rec.recommendedRate ?? rec.currentRate)}`;
  switch (rec.ruleId) {
    case 'T1':
      return `${at} until the next review at ${formatTime(rec.nextReviewAt)}`;
    case 'T3':
      return `${at}: pain rose above target during the taper, clinician review advised`;
    case 'T6':
      return rec.sustained?.taperMayStartAt
        ? `${at}: pain at target; taper may start after ${formatTime(rec.sustained.taperMayStartAt)}`
        : `${at}: pain at target; taper once sustained for ${n.plain(p.sustainedHours)} h`;
    case 'T7':
      switch (maxRateReasonOf(rec)) {
        case 'tolerance-unknown':
          return `${at}: max tolerated rate unknown after an adverse effect, no increase`;
        case 'hard-max':
          return `${at}: another step would pass the hard maximum of ${n.rate(p.hardMaxRate)} ${RATE_UNIT}`;
        case 'max-tolerated':
          return `${at}: another step would pass the max tolerated rate of ${rate(n, rec.maxToleratedRate)}`;
        default:
          return `${at}: tolerated above the max tolerated rate of ${rate(n, rec.maxToleratedRate)}; no increase`;
      }
    default:
      return at;
  }
}

/** "a psychotomimetic effect" / "an adverse effect attributed to ketamine" (v1.1 naming). */
function effectKind(rec: Recommendation): string {
  return rec.adverseEffect && !rec.adverseEffect.psychotomimetic
    ? 'an adverse effect attributed to ketamine'
    : 'a psychotomimetic effect';
}

/** The first candidate within the summary limit (the last one is short by construction). */
function firstFitting(...candidates: string[]): string {
  return candidates.find((c) => length(c) <= SUMMARY_MAX_LENGTH) ?? (candidates[candidates.length - 1] as string);
}

/** D1 by its cause: the weight (missing, stale, unreadable), the running rate, both; critical with an A1/A2 finding. */
function d1Summary(rec: Recommendation, p: ProtocolParameters, n: Numbers): string {
  const cause = d1Cause(rec);
  const findings = rec.safetyFindings ?? [];
  if (findings.length > 0 && cause !== 'weight') {
    const tail = ', but the running rate could not be read';
    const a1 = findings.includes('A1');
    const a2 = findings.includes('A2');
    const lower = (why: string) => `Protocol suggests lowering ketamine after ${why}${tail}`;
    if (a1 && a2)
      return firstFitting(
        lower(`${effectKind(rec)} and a vital-sign breach`),
        lower('an adverse effect and a vital-sign breach'),
      );
    return lower(a1 ? effectKind(rec) : 'a vital-sign breach');
  }
  switch (cause) {
    case 'rate':
      return 'Protocol suggests charting the running ketamine rate again: it could not be read, so no rate can be computed';
    case 'both':
      return 'Protocol suggests recording a current weight and charting the running ketamine rate again: neither can be used';
    case 'weight': {
      const code = rec.missing.find((m) => m.code.startsWith('weight-'))?.code;
      const why =
        code === 'weight-stale'
          ? `: the latest is older than ${n.plain(p.weightMaxAgeDays)} d`
          : code === 'weight-unreadable'
            ? ': the latest could not be read'
            : code === 'weight-missing'
              ? ': none charted'
              : '';
      return `Protocol suggests recording a current weight before the next ketamine rate decision${why}`;
    }
  }
}

function needsDataSummary(rec: Recommendation, when: string): string {
  const items = rec.missing.map((m) => (m.code === 'vitals-missing' && m.detail ? m.detail : MISSING_SHORT[m.code]));
  return items.length > 0
    ? fitList('Protocol suggests recording a current ', items, ` ${when}`)
    : `Protocol needs more data ${when}`;
}

function contraindicatedSummary(rec: Recommendation, verb: 'starting' | 'ordering'): string {
  const reasons = rec.contraindications.map((c) => CONTRAINDICATION_LABELS[c.code]);
  const prefix = `Protocol advises against ${verb} ketamine`;
  return reasons.length > 0 ? fitList(`${prefix}: `, reasons) : prefix;
}

/** The order-hook summary for a check with a rule. */
export function orderCheckSummary(
  check: OrderCheck & { ruleId: OrderFindingId },
  rec: Recommendation,
  p: ProtocolParameters,
  n: Numbers,
): string {
  const draft = rate(n, check.draftRate);
  const suggested = rate(n, check.suggestedRate ?? rec.recommendedRate);
  switch (check.ruleId) {
    case 'O0':
      return check.reason === 'current-rate-unreadable'
        ? `Protocol cannot check this ketamine order (${draft}): the running rate could not be read`
        : check.unreadable?.strength
          ? 'Protocol could not read the rate of this ketamine order: the charted bag strength cannot be read'
          : o0Summary(check, p, n);
    case 'O1':
      return contraindicatedSummary(rec, 'ordering');
    case 'O2':
      return needsDataSummary(rec, 'before ordering ketamine');
    case 'O3':
      return `Protocol suggests ${suggested}: the draft ${draft} exceeds the ${n.rate(p.hardMaxRate)} ${RATE_UNIT} maximum`;
    case 'O4':
      return `Protocol suggests starting ketamine at ${suggested} instead of the draft ${draft}`;
    case 'O5':
      return `Protocol suggests ${suggested} instead of the draft ${draft}: no increase is due now`;
    case 'O6':
      return `Protocol suggests ${suggested} instead of the draft ${draft}: more than one ${n.rate(p.escalationStep)} step`;
    case 'S3': {
      const at = rec.adverseEffect?.atRate ?? null;
      const effect = at === null ? 'an adverse effect' : `an adverse effect at ${rate(n, at)}`;
      return `Protocol: a new ketamine course after ${effect} is a re-challenge; it needs the attending's decision`;
    }
  }
}

/** O0 for the draft's own rate, by why it could not be read (the charted text left out when it does not fit). */
function o0Summary(check: OrderCheck, p: ProtocolParameters, n: Numbers): string {
  const prefix = 'Protocol could not read the rate of this ketamine order';
  const expected = `a rate in ${RATE_UNIT}, mg/h or mL/h is expected`;
  const charted = check.draftCharted ?? 'the draft rate';
  const said = (withCharted: string, without: string) =>
    firstFitting(`${prefix}: ${withCharted}`, `${prefix}: ${without}`);
  switch (check.draftUnreadable) {
    case 'no-rate':
      return `${prefix}: the order gives no rate; ${expected}`;
    case 'unknown-unit':
      return said(`unknown unit in ${charted}; ${expected}`, `unknown unit; ${expected}`);
    case 'invalid-value':
      return said(`${charted} is not a valid rate`, `not a valid rate; ${expected}`);
    case 'no-weight':
      return said(`${charted} needs a weight, and none can be read`, 'it needs a weight, and none can be read');
    case 'implausible': {
      const above = `above the plausible ${n.rate(p.maxPlausibleRate)} ${RATE_UNIT} (a charting error)`;
      return said(`${charted} is ${above}`, `it is ${above}`);
    }
    default:
      return `${prefix}; ${expected}`;
  }
}
