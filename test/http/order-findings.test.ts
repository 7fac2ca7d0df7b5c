/**
 * Order findings and bag strengths through HTTP with the real modules (CQL, the decision core, the cards):
 * - a bag strength charted but unusable never gives way to the default concentration (§1): a running mL/h
 *   rate is unreadable (D1), a drafted one too (O0), and the card names the strength;
 * - one card per draft lists every finding that applies, most severe first (§4, v1.1);
 * - a new course after an adverse effect at the start rate is a re-challenge (§8): the draft's card says so
 *   (S3 warning, after the order findings), and the X1 card on patient-view says a new course would be one.
 *
 * The base chart is the README example (test/fixtures/requests/patient-view-example.json): a man of 80 kg on an
 * inpatient encounter with his work-up done (EKG, vitals, pain 8/10 at 11:30), evaluated at 12:00.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { AuditRow } from '../../src/store';
import { goldenApp } from '../golden/app';
import {
  administration,
  concept,
  condition,
  draftOrder,
  ketamineBag,
  mgPerKgPerHour,
  observation,
  SYSTEMS,
} from '../support/chart';
import { ORDER_SELECT, ORDER_SIGN, PATIENT_VIEW } from '../support/service';

type Body = Record<string, any>;
const EXAMPLE = path.resolve(__dirname, '../fixtures/requests/patient-view-example.json');
const RAW = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Body;
const NOW = new Date('2026-03-10T12:00:00Z');
const PATIENT_ID: string = RAW.context.patientId;
const ENCOUNTER_ID: string = RAW.context.encounterId;
/** No card text prints a number computed from an unreadable value, nor claims no strength was charted. */
const NEVER = /Infinity|NaN|undefined|no strength charted|default concentration:/;

const base = (): Body => structuredClone(RAW);
const searchset = (resources: unknown[]) => ({
  resourceType: 'Bundle',
  type: 'searchset',
  total: resources.length,
  entry: resources.map((resource) => ({ resource })),
});
/** Add the patient's resources to a prefetch key (a searchset, created when the example sends none). */
function add(body: Body, key: string, ...resources: unknown[]): Body {
  const bundle = body.prefetch[key] ?? searchset([]);
  const own = resources.map((r) => ({ ...(r as Body), subject: { reference: `Patient/${PATIENT_ID}` } }));
  bundle.entry = [...(bundle.entry ?? []), ...own.map((resource) => ({ resource }))];
  bundle.total = bundle.entry.length;
  body.prefetch[key] = bundle;
  return body;
}

/** The same request on an order hook with these draftOrders (every draft selected on order-select). */
function onOrderHook(body: Body, hook: 'order-select' | 'order-sign', drafts: unknown[]): Body {
  const requests = drafts.filter((d: any) => d.resourceType === 'MedicationRequest') as Array<{ id: string }>;
  return {
    ...body,
    hook,
    context: {
      userId: body.context.userId,
      patientId: PATIENT_ID,
      encounterId: ENCOUNTER_ID,
      ...(hook === 'order-select' ? { selections: requests.map((d) => `MedicationRequest/${d.id}`) } : {}),
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: drafts.map((resource) => ({ resource })) },
    },
  };
}

const draft = (id: string, rate: { value: number; unit: 'mg/kg/h' | 'mg/h' | 'mL/h' } | null, medicationId?: string) =>
  draftOrder({
    id,
    patientId: PATIENT_ID,
    encounterId: ENCOUNTER_ID,
    authoredOn: '2026-03-10T11:55:00Z',
    rate,
    ...(medicationId ? { medication: { id: medicationId, display: 'Ketamine bag' } } : {}),
  });

/** A ketamine Medication whose ingredient strength is `numerator` / `denominator` exactly as charted. */
function bagWithStrength(
  id: string,
  numerator: { value: number; code: string },
  denominator: { value: number; code: string },
) {
  const bag = ketamineBag({ id, text: 'Ketamine bag', mg: 1, ml: 1 });
  const ucum = (q: { value: number; code: string }) => ({ ...q, unit: q.code, system: SYSTEMS.ucum });
  bag.ingredient![0]!.strength = { numerator: ucum(numerator), denominator: ucum(denominator) };
  return bag;
}

interface CardView {
  summary: string;
  detail: string;
  indicator: string;
  ext: Record<string, any>;
  suggestions: any[];
}

async function cardsOf(body: Body, service: string): Promise<CardView[]> {
  const audits: AuditRow[] = [];
  const res = await request(goldenApp(NOW, audits))
    .post(`/cds-services/${service}`)
    .set('Content-Type', 'application/json')
    .send(JSON.stringify(body));
  expect(res.status).toBe(200);
  return (res.body.cards as any[]).map((c) => {
    const view = {
      summary: c.summary as string,
      detail: (c.detail ?? '') as string,
      indicator: c.indicator as string,
      ext: c.extension['ketamine-protocol'] as Record<string, any>,
      suggestions: (c.suggestions ?? []) as any[],
    };
    expect(`${view.summary}\n${view.detail}`).not.toMatch(NEVER);
    return view;
  });
}
async function onlyCard(body: Body, service: string): Promise<CardView> {
  const cards = await cardsOf(body, service);
  expect(cards).toHaveLength(1);
  return cards[0]!;
}

describe('the base chart', () => {
  it('S3 the example patient is ready for a start at 0.1 mg/kg/h (the base of the cases below)', async () => {
    const c = await onlyCard(base(), PATIENT_VIEW);
    expect(c.ext).toMatchObject({ ruleId: 'S3', recommendedRate: 0.1 });
  });
});

// ----- A: a charted strength that cannot be used is never replaced by the default -----------------------

/** Strengths charted on the bag that cannot be used, as charted. */
const UNUSABLE_STRENGTHS: Array<[string, { value: number; code: string }, { value: number; code: string }, string]> = [
  ['100 mg / 0 mL (no volume)', { value: 100, code: 'mg' }, { value: 0, code: 'mL' }, '100 mg / 0 mL'],
  [
    'a negative strength, -100 mg / 100 mL',
    { value: -100, code: 'mg' },
    { value: 100, code: 'mL' },
    '-100 mg / 100 mL',
  ],
  [
    '1e308 mg / 1e-308 mL (not finite)',
    { value: 1e308, code: 'mg' },
    { value: 1e-308, code: 'mL' },
    '1e+308 mg / 1e-308 mL',
  ],
  ['100 mmol / 100 mL (not a mass)', { value: 100, code: 'mmol' }, { value: 100, code: 'mL' }, '100 mmol / 100 mL'],
];

/** The example patient with ketamine running at `mlPerHour` since 08:30 from a contained bag of that strength. */
function runningFromContainedBag(
  numerator: { value: number; code: string },
  denominator: { value: number; code: string },
  mlPerHour = 16,
): Body {
  const bag = { ...bagWithStrength('bag', numerator, denominator), id: 'bag' };
  return add(
    base(),
    'medicationAdministrations',
    administration(
      'admin-running',
      '2026-03-10T08:30:00Z',
      { value: mlPerHour, unit: 'mL/h', system: SYSTEMS.ucum, code: 'mL/h' },
      { medication: { medicationReference: { reference: '#bag' } }, contained: [bag] },
    ),
  );
}

/** The example patient with ketamine running since 08:30 from `Medication/<id>`, a Medication the prefetch does not hold. */
function runningFromMissingMedication(rate: Record<string, unknown>, display?: string): Body {
  return add(
    base(),
    'medicationAdministrations',
    administration('admin-running', '2026-03-10T08:30:00Z', rate, {
      medication: {
        medicationReference: { reference: 'Medication/not-sent', ...(display ? { display } : {}) },
      },
    }),
  );
}

describe('a Medication the record does not hold: never a start for a running patient, never the default strength', () => {
  const BAG = 'Ketamine 200 mg in sodium chloride 0.9% 100 mL (2 mg/mL)';

  it('D1 running 16 mL/h from a Medication not in the record, named ketamine on its reference: the strength is unknown, the running rate unreadable', async () => {
    const c = await onlyCard(
      runningFromMissingMedication({ value: 16, unit: 'mL/h', system: SYSTEMS.ucum, code: 'mL/h' }, BAG),
      PATIENT_VIEW,
    );
    expect(c.ext).toMatchObject({ ruleId: 'D1', action: 'needs-data', currentRate: null, recommendedRate: null });
    expect(c.detail).toContain('16 mL/h needs the bag strength');
    expect(c.detail).toContain('not in the record');
    expect(c.suggestions).toEqual([]);
  });

  it('T8 running 0.2 mg/kg/h from a Medication not in the record, named ketamine on its reference: read as ketamine by that name, said on the card', async () => {
    const c = await onlyCard(runningFromMissingMedication(mgPerKgPerHour(0.2), BAG), PATIENT_VIEW);
    expect(c.ext).toMatchObject({ ruleId: 'T8', currentRate: 0.2, recommendedRate: 0.3 });
    expect(c.detail).toContain('is not in the record');
  });
});

describe('a bag strength charted but unusable: the mL/h rate is unreadable, never read with the default (§1)', () => {
  it('T8 16 mL/h of a readable 1 mg/mL contained bag at 80 kg is 0.2 mg/kg/h (the base of the cases below)', async () => {
    const c = await onlyCard(
      runningFromContainedBag({ value: 100, code: 'mg' }, { value: 100, code: 'mL' }),
      PATIENT_VIEW,
    );
    expect(c.ext).toMatchObject({ ruleId: 'T8', currentRate: 0.2, recommendedRate: 0.3 });
  });

  it.each(UNUSABLE_STRENGTHS)(
    'D1 running 16 mL/h from a contained bag charted at %s: the running rate is unreadable and the strength named',
    async (_label, numerator, denominator, named) => {
      const c = await onlyCard(runningFromContainedBag(numerator, denominator), PATIENT_VIEW);
      expect(c.ext).toMatchObject({ ruleId: 'D1', action: 'needs-data', currentRate: null, recommendedRate: null });
      expect(c.detail).toContain('16 mL/h needs the bag strength');
      expect(c.detail).toContain(named);
      expect(c.suggestions).toEqual([]);
    },
  );

  it('D1 running 16 mL/h of a bag charted at 1e308 mg / 1 mL: an implausible rate, taken as a charting error', async () => {
    const c = await onlyCard(
      runningFromContainedBag({ value: 1e308, code: 'mg' }, { value: 1, code: 'mL' }),
      PATIENT_VIEW,
    );
    expect(c.ext).toMatchObject({ ruleId: 'D1', currentRate: null, recommendedRate: null });
    expect(c.detail).toContain('highest plausible rate');
  });

  it.each(UNUSABLE_STRENGTHS)(
    'O0 an 8 mL/h draft of a bag charted at %s (Epic-style medicationReference): the draft rate is unreadable, the strength named',
    async (_label, numerator, denominator, named) => {
      const body = onOrderHook(base(), 'order-select', [
        draft('draft-ml', { value: 8, unit: 'mL/h' }, 'draft-bag'),
        bagWithStrength('draft-bag', numerator, denominator),
      ]);
      const c = await onlyCard(body, ORDER_SELECT);
      expect(c.ext).toMatchObject({ ruleId: 'O0', draftRate: null });
      expect(c.indicator).toBe('warning');
      expect(c.detail).toContain('8 mL/h needs the bag strength');
      expect(c.detail).toContain(named);
    },
  );

  it('an 8 mL/h draft of a readable 1 mg/mL bag at 80 kg is 0.1 mg/kg/h, the start rate: no card', async () => {
    const body = onOrderHook(base(), 'order-select', [
      draft('draft-ml', { value: 8, unit: 'mL/h' }, 'draft-bag'),
      bagWithStrength('draft-bag', { value: 100, code: 'mg' }, { value: 100, code: 'mL' }),
    ]);
    expect(await cardsOf(body, ORDER_SELECT)).toEqual([]);
  });
});

// ----- B: one card per draft lists every finding -------------------------------------------------------

const findingsLine = (detail: string) => (/All findings, most severe first\*\*: (.*)/.exec(detail)?.[1] ?? '').trim();

describe('one card per draft lists every finding that applies, most severe first (§4, v1.1)', () => {
  /** The example patient with active schizophrenia (S1). */
  const contraindicated = () =>
    add(
      base(),
      'conditions',
      condition('psychosis-1', concept('http://hl7.org/fhir/sid/icd-10-cm', 'F20.9', 'Schizophrenia, unspecified')),
    );

  it('O1 a 1.5 mg/kg/h draft under S1 lists O1, O3 and O4: critical, the suggestion removes the draft', async () => {
    const body = onOrderHook(contraindicated(), 'order-sign', [draft('draft-high', { value: 1.5, unit: 'mg/kg/h' })]);
    const c = await onlyCard(body, ORDER_SIGN);
    expect(c.ext).toMatchObject({ ruleId: 'O1', draftRate: 1.5 });
    expect(c.indicator).toBe('critical');
    expect(findingsLine(c.detail)).toMatch(/^O1 \(.*\); O3 \(.*\); O4 \(.*\)$/);
    expect(c.suggestions.map((s) => s.label)).toEqual(['Remove the draft ketamine order']);
  });

  it('O0 a draft without a readable rate while the EKG is missing lists O0 and O2, with the missing EKG', async () => {
    const body = base();
    body.prefetch.tests.entry = [];
    const c = await onlyCard(onOrderHook(body, 'order-select', [draft('draft-free-text', null)]), ORDER_SELECT);
    expect(c.ext).toMatchObject({ ruleId: 'O0' });
    expect(findingsLine(c.detail)).toMatch(/^O0 \(.*\); O2 \(.*\)$/);
    expect(c.detail).toMatch(/Missing\*\*: .*EKG/);
  });
});

// ----- C: a re-challenge reaches the clinician ---------------------------------------------------------

/**
 * The example patient after an earlier course: 0.1 mg/kg/h on 8 March 10:00–16:00, hallucinations charted at
 * 13:00 (at the start rate, so the max tolerated rate is 0); nothing runs now.
 */
function afterEffectAtStartRate(atRate = 0.1): Body {
  const body = add(
    base(),
    'medicationAdministrations',
    administration('admin-earlier', '2026-03-08T10:00:00Z', mgPerKgPerHour(atRate), {
      status: 'completed',
      end: '2026-03-08T16:00:00Z',
    }),
  );
  return add(
    body,
    'psychotomimeticObservations',
    observation('effect-1', concept(SYSTEMS.sct, '7011001', 'Hallucinations'), '2026-03-08T13:00:00Z', {
      valueBoolean: true,
    }),
  );
}

describe('a new course after an adverse effect at the start rate is a re-challenge: the attending decides (§8)', () => {
  it('X1 on patient-view the completed course says a new course would be a re-challenge, naming the effect', async () => {
    const c = await onlyCard(afterEffectAtStartRate(), PATIENT_VIEW);
    expect(c.ext).toMatchObject({ ruleId: 'X1', action: 'completed', maxToleratedRate: 0 });
    expect(c.summary).toContain("a new course needs the attending's decision");
    expect(c.detail).toContain(
      'Re-challenge: after Hallucinations (a psychotomimetic effect) on 2026-03-08 13:00 UTC, at 0.1 mg/kg/h',
    );
    expect(c.detail).toContain("needs the attending's decision");
  });

  it('X1 after an effect at 0.3 mg/kg/h (max tolerated 0.2, above the start rate) says nothing of a re-challenge', async () => {
    const c = await onlyCard(afterEffectAtStartRate(0.3), PATIENT_VIEW);
    expect(c.ext).toMatchObject({ ruleId: 'X1', maxToleratedRate: 0.2 });
    expect(`${c.summary}\n${c.detail}`).not.toContain('re-challenge');
  });

  it.each([
    ['order-select', ORDER_SELECT],
    ['order-sign', ORDER_SIGN],
  ] as const)(
    'S3 on %s a draft at the start rate gets a warning card: a re-challenge, the effect with its time and rate, the attending decides; no suggestion',
    async (hook, service) => {
      const body = onOrderHook(afterEffectAtStartRate(), hook, [
        draft('draft-restart', { value: 0.1, unit: 'mg/kg/h' }),
      ]);
      const c = await onlyCard(body, service);
      expect(c.ext).toMatchObject({ ruleId: 'S3', action: 'start', draftRate: 0.1, maxToleratedRate: 0 });
      expect(c.indicator).toBe('warning');
      expect(c.summary).toContain('re-challenge');
      expect(c.detail).toContain('Rule S3 · Start after an adverse effect (re-challenge)');
      expect(c.detail).toContain('Hallucinations (a psychotomimetic effect) on 2026-03-08 13:00 UTC, at 0.1 mg/kg/h');
      expect(c.detail).toContain("needs the attending's decision");
      expect(c.suggestions).toEqual([]);
    },
  );

  it('O4 a draft at 0.2 mg/kg/h leads with O4 (set to 0.1) and lists the re-challenge after it, said on the card', async () => {
    const body = onOrderHook(afterEffectAtStartRate(), 'order-select', [
      draft('draft-restart', { value: 0.2, unit: 'mg/kg/h' }),
    ]);
    const c = await onlyCard(body, ORDER_SELECT);
    expect(c.ext).toMatchObject({ ruleId: 'O4', recommendedRate: 0.1 });
    expect(c.indicator).toBe('warning');
    expect(findingsLine(c.detail)).toMatch(/^O4 \(.*\); S3 \(Start after an adverse effect \(re-challenge\)\)$/);
    expect(c.detail).toContain('Re-challenge: after Hallucinations');
    expect(c.suggestions).toHaveLength(1);
  });

  it('a draft at the start rate after an effect at 0.3 mg/kg/h (max tolerated 0.2) is no re-challenge: no card', async () => {
    const body = onOrderHook(afterEffectAtStartRate(0.3), 'order-select', [
      draft('draft-restart', { value: 0.1, unit: 'mg/kg/h' }),
    ]);
    expect(await cardsOf(body, ORDER_SELECT)).toEqual([]);
  });
});
