/**
 * The start rules (docs/clinical-specification.md §3, not started): S1 contraindicated, S2 needs data (every
 * missing or stale prerequisite), S3 start at startRate; and when patient-view shows the candidate card.
 */
import type { DecisionContext } from './decide';
import { displayTime } from './display';
import { freshBaselinePain, missingVitals, type Context } from './inputs';
import { build, rechallengeOf } from './outcome';
import { latestPain } from './pain';
import type { Action, Indicator, MissingItem, Recommendation, RuleId } from './recommendation';
import { concentrationOf, rateArithmetic, roundRate, type ConcentrationLookup } from './rates';
import { MS_PER_HOUR, isoAt } from './units';

function showsCandidateCard(c: Context, context: DecisionContext): boolean {
  if (context.hook !== 'patient-view') return true;
  if (c.facts.orders.some((o) => o.status === 'active' || o.status === 'draft')) return true;
  if (context.encounterId !== null) {
    const enc = c.facts.encounters.find((e) => e.id === context.encounterId);
    if (enc) return enc.inpatient;
    c.notes.push(
      `The context encounter ${context.encounterId} was not found in the record: an in-progress inpatient encounter was looked for instead.`,
    );
  }
  return c.facts.encounters.some((e) => e.status === 'in-progress' && e.inpatient);
}

/** Every prerequisite of a start that is missing or stale (S2). */
function startMissing(c: Context): MissingItem[] {
  const missing: MissingItem[] = [];
  if (c.weightMissing) missing.push(c.weightMissing);
  if (c.ekg === null) {
    missing.push(
      c.facts.ekg
        ? {
            code: 'ekg-missing',
            detail: `the EKG charted at ${displayTime(c.facts.ekg.time)} is dated after the evaluation time`,
          }
        : { code: 'ekg-missing' },
    );
  } else if (!c.ekg.fresh) {
    missing.push({ code: 'ekg-stale', since: c.ekg.time });
  }
  if (c.pregnancyTestRequired) {
    if (c.pregnancy === null || c.pregnancy.result === null) {
      const item: MissingItem = { code: 'pregnancy-test-missing' };
      if (c.pregnancy) {
        item.since = c.pregnancy.time;
        item.detail = 'the latest pregnancy test has no readable result';
      } else if (c.facts.pregnancyTest) {
        item.detail = `the pregnancy test charted at ${displayTime(c.facts.pregnancyTest.time)} is dated after the evaluation time`;
      }
      missing.push(item);
    } else if (c.pregnancy.result === 'negative' && !c.pregnancy.fresh) {
      missing.push({ code: 'pregnancy-test-stale', since: c.pregnancy.time });
    }
  }
  const vitals = missingVitals(c);
  if (vitals) missing.push(vitals);
  if (freshBaselinePain(c) === null) {
    const latest = latestPain(c.pain);
    missing.push(latest ? { code: 'baseline-pain-missing', since: latest.time } : { code: 'baseline-pain-missing' });
  }
  return missing;
}

/** A start's pump rate: the hook's draft order's own strength, then the active order, then the default. */
function startConcentration(c: Context, context: DecisionContext): ConcentrationLookup {
  const drafts = c.facts.orders.filter((o) => context.draftOrderIds.includes(o.id));
  for (const draft of drafts) {
    const found = concentrationOf(draft, [], null);
    if (found.value !== null) return { value: found.value, from: 'order' };
    // The draft's own bag strength cannot be read: no pump rate from another bag's strength.
    if (found.unreadable !== undefined) return { value: null, from: null };
  }
  return concentrationOf(null, c.facts.orders, c.activeOrder);
}

/** Not started: S1 contraindicated, S2 needs data, S3 start (patient-view shows it only on an inpatient encounter or with an order). */
export function notStarted(c: Context, context: DecisionContext): Recommendation {
  const { params } = c;
  const missing = startMissing(c);
  const show = showsCandidateCard(c, context);
  let rule: { ruleId: RuleId; action: Action; indicator: Indicator; recommendedRate: number | null };
  if (c.contraindications.length > 0)
    rule = { ruleId: 'S1', action: 'contraindicated', indicator: 'critical', recommendedRate: null };
  else if (missing.length > 0)
    rule = { ruleId: 'S2', action: 'needs-data', indicator: 'warning', recommendedRate: null };
  else {
    // An effect at the start rate in the look-back (max tolerated rate below startRate, or unknown):
    // a re-challenge is the attending's decision (v1.1).
    const rechallenge = rechallengeOf(c) !== null;
    rule = {
      ruleId: 'S3',
      action: 'start',
      indicator: rechallenge ? 'warning' : 'info',
      recommendedRate: roundRate(params.startRate, params),
    };
  }

  if (!show) {
    c.notes.push(
      `Not shown on patient-view: no inpatient encounter in context and no active or draft ketamine order (the protocol would say ${rule.ruleId}).`,
    );
    return build(c, {
      ruleId: rule.ruleId,
      action: 'none',
      phase: 'not-started',
      indicator: 'info',
      recommendedRate: null,
      missing,
    });
  }
  const startStrength = startConcentration(c, context);
  const arithmetic =
    rule.action === 'start'
      ? rateArithmetic(
          {
            fromRate: 0,
            toRate: params.startRate,
            step: null,
            weightKg: c.dosingWeightKg,
            concentrationMgPerMl: startStrength.value,
            concentrationFrom: startStrength.from,
          },
          params,
        )
      : null;
  return build(c, {
    ...rule,
    phase: 'not-started',
    missing,
    arithmetic,
    nextReviewAt: rule.action === 'start' ? isoAt(c.nowMs + params.minHoursBetweenChanges * MS_PER_HOUR) : null,
  });
}
