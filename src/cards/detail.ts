/**
 * The card `detail` (GitHub-flavored Markdown): the rule and what it means, the arithmetic, every
 * input with its value and time, what is missing or stale, contraindications, cautions, the consent
 * reminder, the next review, notes and the evidence. Chart text is always escaped.
 */
import type { ProtocolParameters } from '../config/parameters';
import type {
  ConcentrationOrigin,
  Contraindication,
  Note,
  OrderCheck,
  OrderFindingId,
  RateArithmetic,
  RateReading,
  Recommendation,
  SetAsideItem,
} from '../protocol/recommendation';
import { RECENT_PAIN_SHOWN } from '../config/display';
import { toMs } from '../protocol/units';
import { escapeMarkdown as esc, formatQuantity, formatTime, plural, type Numbers } from './format';
import {
  CAUTION_LABELS,
  CONTRAINDICATION_LABELS,
  RATE_UNIT,
  RULE_TITLES,
  VITAL_LABELS,
  cappedAtHardMax,
  contraindicationText,
  effectWords,
  findingTitle,
  missingLine,
  noteText,
  orderCheckMeaning,
  recommendationMeaning,
  recommendationTitle,
  safetyFindingText,
} from './text';

export interface Evidence {
  citation: string;
  evidenceLevel: string;
}

export interface DetailContext {
  params: ProtocolParameters;
  n: Numbers;
  evidence: Evidence;
  /** The evaluation time (for what is overdue). */
  now: Date;
}

const bullet = (text: string) => `- ${text}`;

const heading = (text: string) => `**${text}**`;
const checkbox = (done: boolean, text: string) => `- [${done ? 'x' : ' '}] ${text}`;

/** Join non-empty blocks with blank lines. */
function blocks(parts: Array<string[] | string | null>): string {
  return parts
    .map((part) => (part === null ? '' : Array.isArray(part) ? part.join('\n') : part))
    .filter((text) => text.length > 0)
    .join('\n\n');
}

/** Where a concentration came from, said after it. */
type OriginWords = Readonly<Record<ConcentrationOrigin, string>>;

/** For a charted administration (the running rate). */
const CONCENTRATION_ORIGIN: OriginWords = {
  medication: 'strength of the administered Medication',
  order: 'strength of the ketamine order',
  'active-order': 'strength of the active ketamine order',
  default: 'default concentration: no strength charted on the Medication or the orders',
};

/** For a draft order on an order hook: its own Medication is the draft's, not an administered one. */
const DRAFT_CONCENTRATION_ORIGIN: OriginWords = {
  ...CONCENTRATION_ORIGIN,
  medication: "strength of the draft order's Medication",
  order: 'strength of the draft order',
  default: 'default concentration: no strength charted on the draft or the active order',
};

const BASIS_UNIT: Record<RateReading['basis'], string> = { 'mg/kg/h': RATE_UNIT, 'mg/h': 'mg/h', 'mL/h': 'mL/h' };

/**
 * How a charted rate was read as mg/kg/h: "7 mL/h × 0.5 mg/mL ÷ 70 kg = 0.05 mg/kg/h (strength of …)";
 * a charted form other than the per-hour one is shown first ("42 mg / 2 h = 21 mg/h ÷ 70 kg = …").
 * Null when the chart already says the rate in mg/kg/h.
 */
function readingLine(r: RateReading, n: Numbers, origins: OriginWords = CONCENTRATION_ORIGIN): string | null {
  const amount =
    r.basis === 'mL/h'
      ? n.volume(r.amountPerHour)
      : r.basis === 'mg/h'
        ? n.dose(r.amountPerHour)
        : n.rate(r.amountPerHour);
  const perHour = `${amount} ${BASIS_UNIT[r.basis]}`;
  const charted = esc(r.charted);
  const start = charted === perHour ? perHour : `${charted} = ${perHour}`;
  const result = `${n.rate(r.rate)} ${RATE_UNIT}`;
  if (r.basis === 'mg/kg/h') return charted === perHour ? null : start;
  const weight = r.weightKg === null ? '' : ` ÷ ${n.plain(r.weightKg)} kg`;
  if (r.basis === 'mg/h') return `${start}${weight} = ${result}`;
  const conc = r.concentrationMgPerMl === null ? '' : ` × ${n.plain(r.concentrationMgPerMl)} mg/mL`;
  const origin = r.concentrationFrom ? ` (${origins[r.concentrationFrom]})` : '';
  return `${start}${conc}${weight} = ${result}${origin}`;
}

/**
 * What the new rate is in mg/h and in mL/h, appended to the rate: " = 21 mg/h at 70 kg = 10.5 mL/h at 2 mg/mL
 * (strength of …)", or why it is not ("; no current dosing weight, …", "; no bag strength on the record: …").
 */
function conversions(a: RateArithmetic, n: Numbers, origins: OriginWords): string {
  if (a.weightKg === null || a.mgPerHour === null) {
    return '; no current dosing weight, so mg/h and mL/h are not computed';
  }
  let line = ` = ${n.dose(a.mgPerHour)} mg/h at ${n.plain(a.weightKg)} kg`;
  // A pump rate in mL/h only with a concentration from the record, named (v1.1); never from the default.
  if (a.mlPerHour !== null && a.concentrationMgPerMl !== null && a.concentrationSource === 'charted') {
    line += ` = ${n.volume(a.mlPerHour)} mL/h at ${n.plain(a.concentrationMgPerMl)} mg/mL`;
    if (a.concentrationFrom && a.concentrationFrom !== 'default') line += ` (${origins[a.concentrationFrom]})`;
  } else if (a.toRate > 0) {
    line += `; no bag strength on the record: confirm the bag's concentration before setting the pump in mL/h`;
  }
  return line;
}

/**
 * "0.2 → 0.3 mg/kg/h (+0.1 mg/kg/h) = 21 mg/h at 70 kg = 21 mL/h at 1 mg/mL (default concentration …)";
 * a hold (no change) reads "No rate change: the rate stays at 0.2 mg/kg/h = 14 mg/h at 70 kg = …".
 * For the patient-view card, where the arrow goes from the running rate to the new one.
 */
function arithmeticLine(
  a: RateArithmetic,
  n: Numbers,
  origins: OriginWords = CONCENTRATION_ORIGIN,
  hardMax: { rate: number; step: number } | null = null,
): string {
  const unchanged = n.rate(a.fromRate) === n.rate(a.toRate) && !a.becameStop;
  const step = a.step === null || n.rate(Math.abs(a.step)) === n.rate(0) ? null : a.step;
  const change = step === null ? '' : `${step > 0 ? '+' : '−'}${n.rate(Math.abs(step))} ${RATE_UNIT}`;
  // A1/A2 capped (v1.1): the step shown is the one to the hard maximum, and the line says why it is not one step.
  const stepText =
    hardMax !== null
      ? ` (${change ? `${change}: ` : ''}down to the hard maximum of ${n.rate(hardMax.rate)} ${RATE_UNIT}, as one step of ` +
        `${n.rate(hardMax.step)} ${RATE_UNIT} would stay above it)`
      : change
        ? ` (${change})`
        : '';
  if (a.becameStop) {
    return `${n.rate(a.fromRate)} ${RATE_UNIT}${stepText} reaches 0 or below, so the infusion stops`;
  }
  const line = unchanged
    ? `No rate change: the rate stays at ${n.rate(a.toRate)} ${RATE_UNIT}`
    : `${n.rate(a.fromRate)} → ${n.rate(a.toRate)} ${RATE_UNIT}${stepText}`;
  return line + conversions(a, n, origins);
}

/**
 * The calculation on an order card (v1.1 §6): the protocol rate alone with what it is in mg/h and mL/h,
 * "protocol rate 0.22 mg/kg/h = 18.3 mg/h at 83 kg = …". The draft and the running rate are on the line
 * above; an arrow from the draft to the protocol rate would read as a decrease of the running rate.
 */
function orderArithmeticLine(a: RateArithmetic, n: Numbers): string {
  const rate = `protocol rate ${n.rate(a.toRate)} ${RATE_UNIT}`;
  if (a.toRate <= 0) return `${rate}: the protocol stops the infusion, so there is no pump rate to set`;
  return rate + conversions(a, n, DRAFT_CONCENTRATION_ORIGIN);
}

/** Everything the recommendation was based on. */
function inputLines(rec: Recommendation, ctx: DetailContext): string[] {
  const { n, params } = ctx;
  const lines: string[] = [];
  lines.push(bullet(`Phase: ${rec.phase}`));

  if (rec.currentRate === null) lines.push(bullet('Current rate: could not be read'));
  else if (rec.currentRate === 0) lines.push(bullet('Current rate: not running'));
  else {
    const reading = rec.currentRateReading ? readingLine(rec.currentRateReading, n) : null;
    lines.push(
      bullet(
        `Current rate: ${n.rate(rec.currentRate)} ${RATE_UNIT} since ${formatTime(rec.lastChangeAt)}` +
          (reading ? ` (charted: ${reading})` : ''),
      ),
    );
  }

  const inf = rec.infusion;
  if (inf.startedAt) {
    const parts = [`started ${formatTime(inf.startedAt)}`];
    if (inf.courseStartedAt && inf.courseStartedAt !== inf.startedAt)
      parts.push(`this course started ${formatTime(inf.courseStartedAt)} after a stop`);
    if (inf.highestRate !== null) parts.push(`highest rate ${n.rate(inf.highestRate)} ${RATE_UNIT}`);
    if (inf.targetReachedAt) {
      const at = inf.rateAtTarget === null ? '' : ` at ${n.rate(inf.rateAtTarget)} ${RATE_UNIT}`;
      parts.push(`sustained target reached ${formatTime(inf.targetReachedAt)}${at}`);
    }
    if (inf.endedAt) parts.push(`ended ${formatTime(inf.endedAt)}`);
    parts.push(`${inf.segments.length} rate segment${inf.segments.length === 1 ? '' : 's'}`);
    lines.push(bullet(`Infusion: ${parts.join(', ')}`));
  }

  const w = rec.prerequisites.weight;
  if (w) {
    const stale = w.fresh ? '' : `, older than ${n.plain(params.weightMaxAgeDays)} d`;
    lines.push(bullet(`Dosing weight: ${n.plain(w.valueKg)} kg (${formatTime(w.time)}${stale})`));
  } else if (rec.weightKg !== null) {
    lines.push(bullet(`Dosing weight: ${n.plain(rec.weightKg)} kg`));
  } else {
    lines.push(bullet('Dosing weight: no current weight'));
  }

  if (rec.recentPain.length === 0) {
    lines.push(bullet('Pain scores: none charted'));
  } else {
    const shown = rec.recentPain.slice(-RECENT_PAIN_SHOWN);
    lines.push(bullet(`Pain scores (last ${shown.length}, oldest first):`));
    for (const pain of shown) {
      const charted = pain.charted ? ` (charted as ${esc(pain.charted)})` : '';
      const ago = n.ago(pain.time);
      lines.push(
        `  - ${n.plain(pain.score)}/${n.plain(params.painScaleMax)} at ${formatTime(pain.time)}${ago ? ` (${ago})` : ''}${charted}`,
      );
    }
  }

  const target = `${n.plain(params.targetPain)}/${n.plain(params.painScaleMax)}`;
  const s = rec.sustained;
  if (s) {
    const state = s.reached ? 'reached' : 'not yet reached';
    const taper =
      !s.reached && s.taperMayStartAt
        ? `; the taper may start at ${formatTime(s.taperMayStartAt)} if pain stays at or below target`
        : '';
    const span = s.from === s.to ? `at ${formatTime(s.from)}` : `from ${formatTime(s.from)} to ${formatTime(s.to)}`;
    lines.push(
      bullet(
        `Sustained run: ${plural(s.scores, 'score')} at or below ${target} ${span} ` +
          `(${n.plain(s.hours)} h of ${n.plain(params.sustainedHours)} h needed: ${state})${taper}`,
      ),
    );
  } else if (rec.phase !== 'not-started') {
    lines.push(bullet(`Sustained run: no run of scores at or below ${target}`));
  }

  if (rec.vitals.length === 0) {
    lines.push(bullet(`Vital signs: none within the last ${n.plain(params.vitalsMaxAgeHours)} h`));
  } else {
    const each = rec.vitals.map((v) => {
      const breach = v.breach
        ? ` **${v.breach.bound === 'high' ? 'above' : 'below'} the limit of ${formatQuantity(n.plain(v.breach.limit), v.unit)}**`
        : '';
      return `${VITAL_LABELS[v.kind].short} ${formatQuantity(n.plain(v.value), v.unit)} (${formatTime(v.time)})${breach}`;
    });
    lines.push(bullet(`Vital signs (within the last ${n.plain(params.vitalsMaxAgeHours)} h): ${each.join('; ')}`));
  }

  const ekg = rec.prerequisites.ekg;
  lines.push(
    bullet(
      ekg
        ? `EKG: ${formatTime(ekg.time)}${ekg.fresh ? '' : `, older than ${n.plain(params.ekgMaxAgeDays)} d`}`
        : 'EKG: none charted',
    ),
  );

  const hcg = rec.prerequisites.pregnancyTest;
  if (hcg) {
    const stale = hcg.fresh ? '' : `, older than ${n.plain(params.pregnancyTestMaxAgeDays)} d`;
    lines.push(bullet(`Pregnancy test: ${hcg.result} (${formatTime(hcg.time)}${stale})`));
  } else {
    lines.push(
      bullet(
        `Pregnancy test: none charted${rec.prerequisites.pregnancyTestRequired ? ' (required)' : ' (not required)'}`,
      ),
    );
  }

  const consent = rec.prerequisites.consent;
  lines.push(
    bullet(
      consent
        ? `Informed consent: on file${consent.time ? ` (${formatTime(consent.time)})` : ''}`
        : 'Informed consent: none charted',
    ),
  );

  const ae = rec.adverseEffect;
  if (ae) lines.push(bullet(`Adverse effect: ${effectWords(ae, n)}`));
  if (rec.maxToleratedRate !== null) {
    lines.push(bullet(`Maximum tolerated rate: ${n.rate(rec.maxToleratedRate)} ${RATE_UNIT}`));
  }
  if (rec.maxToleratedRateUnknown) {
    lines.push(
      bullet('Maximum tolerated rate: unknown (an adverse effect was charted while the rate could not be read)'),
    );
  }
  const aside = setAsideLine(rec);
  if (aside) lines.push(bullet(aside));
  return lines;
}

/** "Set aside: 2 resources of another patient; 1 unreadable entry (Observation: a date that does not parse)". */
function setAsideLine(rec: Recommendation): string | null {
  const { otherPatient, items } = rec.setAside;
  if (items.length === 0) return null;
  const parts: string[] = [];
  if (otherPatient > 0) parts.push(plural(otherPatient, 'resource') + ' of another patient (not used)');
  const reasons: Record<string, string> = {
    'malformed-entry': 'a null or malformed entry',
    'unreadable-date': 'a date that does not parse',
    'non-finite-number': 'a number that is not finite',
    malformed: 'a field of the wrong type',
  };
  // A field of the wrong type is named by its path (the service's own field names, never the chart's content).
  const kind = (x: SetAsideItem): string =>
    `${x.resourceType ?? 'entry'}: ${reasons[x.reason] ?? x.reason}${x.reason === 'malformed' && x.field ? ` (${x.field})` : ''}`;
  const afterNow = items.filter((x) => x.reason === 'after-now');
  if (afterNow.length > 0) {
    const types = [...new Set(afterNow.map((x) => x.resourceType ?? 'entry'))].join(', ');
    parts.push(`${plural(afterNow.length, 'resource')} dated after now (${esc(types)}), ignored`);
  }
  const unreadable = items.filter((x) => x.reason !== 'other-patient' && x.reason !== 'after-now');
  if (unreadable.length > 0) {
    const kinds = [...new Set(unreadable.map(kind))];
    parts.push(`${plural(unreadable.length, 'unreadable entry', 'unreadable entries')} (${esc(kinds.join('; '))})`);
  }
  return `Set aside from the record: ${parts.join('; ')}`;
}

/** The pre-start checklist (not started): each prerequisite met or not, the consent reminder. */
function startChecklist(rec: Recommendation, ctx: DetailContext): string[] {
  const { n } = ctx;
  const pre = rec.prerequisites;
  const lines = [heading('Before a start')];
  lines.push(
    checkbox(
      !!pre.weight?.fresh,
      pre.weight ? `Dosing weight ${n.plain(pre.weight.valueKg)} kg (${formatTime(pre.weight.time)})` : 'Dosing weight',
    ),
  );
  lines.push(checkbox(!!pre.ekg?.fresh, pre.ekg ? `EKG (${formatTime(pre.ekg.time)})` : 'EKG'));
  if (pre.pregnancyTestRequired || pre.pregnancyTest) {
    const t = pre.pregnancyTest;
    lines.push(
      checkbox(
        !!t && t.fresh && t.result === 'negative',
        t ? `Pregnancy test ${t.result} (${formatTime(t.time)})` : 'Pregnancy test',
      ),
    );
  }
  // v1.1: baseline blood pressure and heart rate within vitalsMaxAgeHours.
  const judged = new Set(rec.vitals.map((v) => v.kind));
  const baselineVitals = judged.has('sbp') && judged.has('dbp') && judged.has('hr');
  lines.push(
    checkbox(
      baselineVitals,
      `Baseline blood pressure and heart rate (within ${n.plain(ctx.params.vitalsMaxAgeHours)} h)`,
    ),
  );
  const bp = pre.baselinePain;
  lines.push(
    checkbox(
      !!bp,
      bp
        ? `Baseline pain score ${n.plain(bp.score)}/${n.plain(ctx.params.painScaleMax)} (${formatTime(bp.time)})`
        : 'Baseline pain score',
    ),
  );
  lines.push(
    checkbox(
      !!pre.consent,
      pre.consent
        ? `Written informed consent on file${pre.consent.time ? ` (${formatTime(pre.consent.time)})` : ''}`
        : 'Obtain written informed consent before the infusion starts (required by the protocol)',
    ),
  );
  return lines;
}

/**
 * Contraindications (to a start). While an infusion runs, a vital sign out of range is no
 * contraindication but the breach A2 acts on: it gets its own heading.
 */
function contraindicationLines(rec: Recommendation): string[] {
  const running = rec.phase === 'titration' || rec.phase === 'taper';
  const breaches: Contraindication[] = running ? rec.contraindications.filter((c) => c.code === 'vital-breach') : [];
  const others = rec.contraindications.filter((c) => !breaches.includes(c));
  const time = (c: Contraindication) => (c.time ? ` (${formatTime(c.time)})` : '');
  return [
    ...(breaches.length > 0
      ? [heading('Vital-sign breach'), ...breaches.map((c) => bullet(`${esc(contraindicationText(c))}${time(c)}`))]
      : []),
    ...(others.length > 0
      ? [
          heading('Contraindications'),
          ...others.map((c) => bullet(`${CONTRAINDICATION_LABELS[c.code]}: ${esc(contraindicationText(c))}${time(c)}`)),
        ]
      : []),
  ];
}

function cautionLines(rec: Recommendation): string[] {
  if (rec.cautions.length === 0) return [];
  return [
    heading('Cautions (not blocking)'),
    ...rec.cautions.map((c) => bullet(`${CAUTION_LABELS[c.category]}: ${esc(c.display)}`)),
  ];
}

/**
 * Since when the step the card suggests has been due, when the core judged it overdue (more than
 * maxHoursBetweenChanges past it): the last rate change, or for the first taper step the time the
 * sustained target was reached (the taper could not start earlier).
 */
function overdueSince(rec: Recommendation): { at: string | null; what: string } | null {
  if (!rec.overdue) return null;
  const reachedMs = toMs(rec.infusion.targetReachedAt);
  const changeMs = toMs(rec.lastChangeAt);
  const firstTaperStep = rec.phase === 'taper' && reachedMs !== null && (changeMs === null || changeMs < reachedMs);
  return firstTaperStep
    ? { at: rec.infusion.targetReachedAt, what: 'the sustained target was reached' }
    : { at: rec.lastChangeAt, what: 'the last rate change' };
}

function reviewLines(rec: Recommendation, ctx: DetailContext): string[] {
  const overdue = overdueSince(rec);
  if (!rec.nextReviewAt && !overdue) return [];
  const lines: string[] = [];
  if (rec.nextReviewAt) lines.push(`${heading('Next review')}: ${formatTime(rec.nextReviewAt)}`);
  if (overdue) {
    lines.push(
      `${heading('Overdue')}: more than ${ctx.n.plain(ctx.params.maxHoursBetweenChanges)} h since ${overdue.what}` +
        `${overdue.at ? ` (${formatTime(overdue.at)})` : ''}.`,
    );
  }
  return [lines.join('  \n')];
}

function notesLines(notes: Note[]): string[] {
  if (notes.length === 0) return [];
  return [heading('Notes'), ...notes.map((note) => bullet(esc(noteText(note))))];
}

function evidenceLine(rec: Recommendation, ctx: DetailContext): string {
  return (
    `${heading('Evidence')}: ${esc(ctx.evidence.evidenceLevel)}. ${esc(ctx.evidence.citation)}  \n` +
    `Protocol version ${esc(rec.protocolVersion)}. The protocol suggests; the treating clinician decides.`
  );
}

/** What the protocol recommends, in a few words with the rate ("increase to 0.3 mg/kg/h"). */
function actionWords(rec: Recommendation, n: Numbers): string {
  const r = (value: number | null) => (value === null ? 'an unknown rate' : `${n.rate(value)} ${RATE_UNIT}`);
  switch (rec.action) {
    case 'start':
      return `start at ${r(rec.recommendedRate)}`;
    case 'increase':
      return `increase to ${r(rec.recommendedRate)}`;
    case 'taper':
      return `taper to ${r(rec.recommendedRate)}`;
    case 'decrease':
      return `decrease to ${r(rec.recommendedRate)}`;
    case 'stop':
      return 'stop the infusion (0 mg/kg/h)';
    case 'hold':
      return `keep the rate at ${r(rec.recommendedRate)}`;
    case 'needs-data':
      return 'no rate suggested until the missing data are charted';
    case 'contraindicated':
      return 'no start (contraindicated)';
    case 'completed':
      return 'course completed; no rate suggested';
    case 'none':
      return 'outside the protocol';
  }
}

/** One line naming what is missing, stale or contraindicated (the reason no rate is suggested), or null. */
function blockingLine(rec: Recommendation, ctx: DetailContext): string | null {
  if (rec.missing.length > 0) {
    const items = rec.missing.map((m) =>
      missingLine(m.code, m.since ? formatTime(m.since) : null, m.detail ? esc(m.detail) : null, ctx.params, ctx.n),
    );
    return `${heading('Missing')}: ${items.join('; ')}`;
  }
  if (rec.contraindications.length > 0 && (rec.action === 'contraindicated' || rec.ruleId === 'A2'))
    return `${heading(rec.ruleId === 'A2' ? 'Breach' : 'Contraindicated')}: ${rec.contraindications.map((c) => esc(contraindicationText(c))).join('; ')}`;
  return null;
}

/**
 * D1 while an A1/A2 condition holds (critical, v1.1): each finding in the first lines, as an A1/A2 card
 * would show it (what, when, at what rate), with why the protocol cannot lower the rate.
 */
function safetyFindingLines(rec: Recommendation, ctx: DetailContext): string[] {
  if (rec.ruleId !== 'D1') return [];
  return (rec.safetyFindings ?? []).map(
    (f) => `${heading(`Also ${f} · ${RULE_TITLES[f]}`)}: ${safetyFindingText(f, rec, ctx.params, ctx.n)}`,
  );
}

/**
 * The first lines of a card (at most six, v1.1): what is recommended with its rule and rate, why, the
 * arithmetic, and what blocks or is missing. Markdown hard line breaks keep them one line each.
 */
function headlineLines(lines: Array<string | null>): string {
  return lines.filter((line): line is string => line !== null && line.length > 0).join('  \n');
}

/** What both details show about the record: contraindications, missing data, inputs, checklist, cautions, review. */
function recordBlocks(rec: Recommendation, ctx: DetailContext) {
  return [
    contraindicationLines(rec),
    [heading('Inputs'), ...inputLines(rec, ctx)],
    rec.phase === 'not-started' ? startChecklist(rec, ctx) : null,
    cautionLines(rec),
    reviewLines(rec, ctx),
  ];
}

/** Detail of the patient-view card. */
export function recommendationDetail(rec: Recommendation, ctx: DetailContext): string {
  const arithmetic = rec.action === 'needs-data' && rec.ruleId !== 'V1' ? null : rec.arithmetic;
  const hardMax = cappedAtHardMax(rec) ? { rate: ctx.params.hardMaxRate, step: ctx.params.escalationStep } : null;
  const calc = arithmetic
    ? `${heading(rec.ruleId === 'V1' ? 'Increase that would follow' : 'Calculation')}: ${arithmeticLine(arithmetic, ctx.n, CONCENTRATION_ORIGIN, hardMax)}`
    : rec.action === 'hold' && rec.recommendedRate !== null
      ? `${heading('Calculation')}: No rate change: the rate stays at ${ctx.n.rate(rec.recommendedRate)} ${RATE_UNIT}`
      : null;
  return blocks([
    headlineLines([
      heading(`Rule ${rec.ruleId} · ${recommendationTitle(rec)}: ${actionWords(rec, ctx.n)}`),
      recommendationMeaning(rec, ctx.params, ctx.n),
      ...safetyFindingLines(rec, ctx),
      calc,
      blockingLine(rec, ctx),
    ]),
    ...recordBlocks(rec, ctx),
    notesLines(rec.notes),
    evidenceLine(rec, ctx),
  ]);
}

/** Detail of an order-hook card: what the protocol suggests for the draft and why, every finding, then the record. */
export function orderCheckDetail(
  check: OrderCheck & { ruleId: OrderFindingId },
  rec: Recommendation,
  ctx: DetailContext,
): string {
  const { n } = ctx;
  const r = (value: number) => `${n.rate(value)} ${RATE_UNIT}`;
  const reading = check.draftReading ? readingLine(check.draftReading, n, DRAFT_CONCENTRATION_ORIGIN) : null;
  const draft =
    check.draftRate === null
      ? `draft ${check.draftCharted ? esc(check.draftCharted) : 'without a readable rate'}`
      : `draft ${r(check.draftRate)}${reading ? ` (${reading})` : check.draftCharted && !check.draftCharted.trim().endsWith(RATE_UNIT) ? ` (${esc(check.draftCharted)})` : ''}`;
  const running =
    rec.currentRate === null
      ? 'running rate unreadable'
      : rec.currentRate > 0
        ? `running ${r(rec.currentRate)}`
        : 'not running';
  const allowed = rec.recommendedRate === null ? 'no rate now' : `${r(rec.recommendedRate)} now`;
  const what =
    check.suggestion === 'delete'
      ? 'remove the draft order'
      : check.suggestedRate !== null
        ? `set the draft to ${r(check.suggestedRate)}`
        : check.ruleId === 'S3' && rec.recommendedRate !== null
          ? `the attending decides on a start at ${r(rec.recommendedRate)}`
          : 'no rate suggested';
  const findings = (check.findings ?? []).map((f) => `${f.ruleId} (${findingTitle(f)})`);
  return blocks([
    headlineLines([
      heading(`Rule ${check.ruleId} · ${findingTitle(check)}: ${what}`),
      `${draft}; protocol allows ${allowed} (${running}; rule ${rec.ruleId}, ${recommendationTitle(rec)}).`,
      orderCheckMeaning(check, rec, ctx.params, ctx.n),
      findings.length > 1 ? `${heading('All findings, most severe first')}: ${findings.join('; ')}` : null,
      check.arithmetic ? `${heading('Calculation')}: ${orderArithmeticLine(check.arithmetic, n)}` : null,
      blockingLine(rec, ctx),
    ]),
    ...recordBlocks(rec, ctx),
    notesLines([...check.notes, ...rec.notes]),
    evidenceLine(rec, ctx),
  ]);
}
