/**
 * decide(): the protocol's current recommendation for a patient at time `now` (docs/clinical-specification.md §3),
 * first matching rule wins. Pure: every number comes from ProtocolParameters, the clock is a parameter.
 *
 * It composes the rule families: the inputs judged once (inputs.ts), P0 and X1 here, the start rules
 * (start-rules.ts: S1–S3), the running rules (running-rules.ts: A1–A3, D1, T1–T8, V1), and the assembled
 * Recommendation (outcome.ts).
 */
import type { HookName } from '../contract/cds-hooks';
import type { ProtocolParameters } from '../config/parameters';
import { displayTime } from './display';
import type { ClinicalFacts } from './facts';
import { gather, phaseOf } from './inputs';
import { build } from './outcome';
import type { Phase, Recommendation, SetAsideSummary } from './recommendation';
import { running } from './running-rules';
import { notStarted } from './start-rules';

export interface DecisionContext {
  hook: HookName;
  /** The hook context's encounterId, when sent. */
  encounterId: string | null;
  /** Ids of the hook's draft orders (order-select: selections; order-sign: the draft orders). */
  draftOrderIds: string[];
  /** What the record check set aside before evaluation (another patient's, unreadable), for the card. */
  setAside?: SetAsideSummary;
  /**
   * Resource types the service had to fetch to complete the record and could not (the Medications the record
   * names, from the FHIR server): said on the card, as a medication may then go unrecognised.
   */
  unfetched?: string[];
}

/** The recommendation at `now`: P0 out of scope, else the start rules, X1 completed, or the running rules. */
export function decide(
  facts: ClinicalFacts,
  params: ProtocolParameters,
  now: Date,
  context: DecisionContext,
): Recommendation {
  const c = gather(facts, params, now, context);

  // P0: out of scope without an active chronic-migraine diagnosis, whatever else is charted.
  if (facts.chronicMigraine.length === 0) {
    c.notes.push(
      'No active chronic-migraine diagnosis: this protocol does not steer any ketamine infusion for this patient.',
    );
    const phase: Phase = !c.infusion.started ? 'not-started' : c.infusion.current ? phaseOf(c) : 'stopped';
    return build(c, { ruleId: 'P0', action: 'none', phase, indicator: 'info', recommendedRate: null });
  }

  const isOrderHook = context.hook !== 'patient-view';
  const hasDraft = context.draftOrderIds.some((id) => facts.orders.some((o) => o.id === id));

  if (!c.infusion.started) return notStarted(c, context);
  if (c.infusion.current === null) {
    if (isOrderHook && hasDraft) {
      c.notes.push(
        `The previous ketamine infusion ended${c.infusion.endedAt ? ` at ${displayTime(c.infusion.endedAt)}` : ''}: the draft order is judged as a new start.`,
      );
      if (c.effects.maxToleratedRate !== null) {
        c.notes.push(
          `An adverse effect was recorded during the previous infusion (max tolerated rate ${c.effects.maxToleratedRate} mg/kg/h).`,
        );
      }
      if (c.effects.toleranceUnknown !== null) {
        c.notes.push(
          'An adverse effect was recorded during the previous infusion while its rate could not be read (max tolerated rate unknown).',
        );
      }
      return notStarted(c, context);
    }
    return build(c, { ruleId: 'X1', action: 'completed', phase: 'stopped', indicator: 'info', recommendedRate: null });
  }
  return running(c);
}
