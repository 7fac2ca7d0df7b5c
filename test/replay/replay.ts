/**
 * Replays an example patient through the real evaluator (src/cql) and decision core (src/protocol),
 * hook patient-view, at the time of each row of a hand-written expectation table.
 */
import type { Bundle } from 'fhir/r4';
import type { ProtocolParameters } from '../../src/config/parameters';
import type { Evaluator } from '../../src/cql';
import { decide } from '../../src/protocol';
import type { Recommendation } from '../../src/protocol/recommendation';
import type { Expectation, Row } from './expectations';
import { loadExample, offsetToIso, recordAt } from './record';

/** What a row asserts, in a form that diffs readably (one line per assessment). */
export interface Comparable {
  at: string;
  ruleId: string;
  action: string;
  phase?: string | null;
  currentRate: number | null;
  recommendedRate: number | null;
  overdue?: boolean;
  aboveSoftMax?: boolean;
  missing?: string[];
  contraindications?: string[];
}

export function expected(row: Row): Comparable {
  const [at, , ruleId, action, phase, currentRate, recommendedRate, extras = {}] = row;
  const c: Comparable = { at, ruleId, action, currentRate, recommendedRate };
  if (phase !== null) c.phase = phase;
  if (ruleId === 'T8' || extras.overdue !== undefined) c.overdue = extras.overdue ?? false;
  if (ruleId === 'T8' || extras.aboveSoftMax !== undefined) c.aboveSoftMax = extras.aboveSoftMax ?? false;
  if (extras.missing) c.missing = [...extras.missing].sort();
  if (extras.contraindications) c.contraindications = [...extras.contraindications].sort();
  return c;
}

export function actual(row: Row, rec: Recommendation): Comparable {
  const want = expected(row);
  const c: Comparable = {
    at: row[0],
    ruleId: rec.ruleId,
    action: rec.action,
    currentRate: rec.currentRate,
    recommendedRate: rec.recommendedRate,
  };
  if ('phase' in want) c.phase = rec.phase;
  if ('overdue' in want) c.overdue = rec.overdue;
  if ('aboveSoftMax' in want) c.aboveSoftMax = rec.aboveSoftMax;
  if (want.missing) c.missing = rec.missing.map((m) => m.code).sort();
  if (want.contraindications) c.contraindications = rec.contraindications.map((m) => m.code).sort();
  return c;
}

export interface ReplayStep {
  row: Row;
  at: string;
  recommendation: Recommendation;
}

/** Evaluate + decide at every row's time, on the record as it stood then. */
export async function replay(
  exp: Expectation,
  evaluator: Evaluator,
  params: ProtocolParameters,
): Promise<ReplayStep[]> {
  const full: Bundle = loadExample(exp.file);
  const steps: ReplayStep[] = [];
  for (const row of exp.rows) {
    const at = offsetToIso(exp.start, row[0]);
    const now = new Date(at);
    const record = recordAt(full, now.getTime());
    const facts = await evaluator.evaluate(record, now, 'patient-view');
    const recommendation = decide(facts, params, now, {
      hook: 'patient-view',
      encounterId: exp.encounterId,
      draftOrderIds: [],
    });
    steps.push({ row, at, recommendation });
  }
  return steps;
}
