/**
 * A known set of hook calls (audit rows) and feedback for the effectiveness report, fed through the store's
 * own write paths, with the report it must give (every number worked out by hand in the comments).
 *
 * Period 2026-03-01 … 2026-03-15 (weeks of Monday 2026-03-02 and 2026-03-09); one call in February is
 * outside it. Protocol 1.1.0, one call under 1.0.0.
 *
 *   call  day    hook          hook instance  card  rule·indicator  feedback (counted one marked *)
 *   C1    03-02  patient-view  HI1            U1    S3·info         accepted after 120 s *
 *   C2    03-02  patient-view  HI2            U2    S3·info         overridden tolerating-current-rate, 600 s *
 *   C3    03-03  patient-view  HI3            U3    S3·info         none
 *   C4    03-04  patient-view  HI4            U4    E1·warning      accepted 60 s, then overridden patient-declined 300 s *
 *   C5    03-04  order-select  HI5            U5    O2·critical     overridden, no coded reason (a comment only), 120 s *
 *   C6    03-05  patient-view  HI6            –     –               (degraded: deadline)
 *   C7    03-05  order-select  HI7            –     –               (failed: fhir-unavailable)
 *   C8    03-06  patient-view  HI8            U8    E1·warning      accepted 180 s *, sent twice (the repeat is a duplicate);
 *                                                                   set aside: 2 other patient's, 1 unreadable, 1 after now
 *   C9    03-09  patient-view  HI9            U9    S3·info         overridden, another system's code, 1800 s * (latest by time)
 *   C10   03-09  patient-view  HI9 (again)    U10   S3·info         accepted at 08:20, sent after C9's (earlier outcome time)
 *   C11   03-10  order-sign    HI11           U11   O2·critical     accepted 30 s *, sent before the audit row is written
 *   C12   03-11  patient-view  HI12           U12   E1·warning      overridden clinical-judgement 240 s *; 3 unreadable set aside
 *   C13   03-12  patient-view  HI13           –     –               (degraded: deadline)
 *   C14   03-03  patient-view  HI14 (1.0.0)   U14   S3·info         accepted 300 s *
 *   C15   02-20  patient-view  HI15           U15   S3·info         accepted (outside the period)
 */
import type { AuditRow, FeedbackItem, Store } from '../../src/store';
import { OVERRIDE_REASON_SYSTEM } from '../../src/cards/suggestions';

export const REPORT_PERIOD = { from: '2026-03-01', to: '2026-03-15' };
const OTHER_REASON_SYSTEM = 'http://ehr.example.org/override-reasons';
const COMMENT = 'Dr Alice Example (user 4711) prefers to wait';

const PV = { serviceId: 'ketamine-protocol-patient-view', hook: 'patient-view' };
const OSEL = { serviceId: 'ketamine-protocol-order-select', hook: 'order-select' };
const OSIGN = { serviceId: 'ketamine-protocol-order-sign', hook: 'order-sign' };

const hi = (n: number) => `a0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const card = (n: number) => `c0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const SUGGESTION = 'b0000000-0000-4000-8000-000000000001';

/** Every identifier fed: none may appear in any report output. */
export const IDENTIFIERS: string[] = [];

type Shown = [number, string, 'info' | 'warning' | 'critical'];

function call(
  n: number,
  at: string,
  service: { serviceId: string; hook: string },
  shown: Shown[],
  patch: Partial<AuditRow> = {},
): AuditRow {
  const patientId = `report-patient-${n % 4}`;
  const requestId = `report-request-${n}`;
  const hookInstance = patch.hookInstance ?? hi(n);
  IDENTIFIERS.push(patientId, requestId, hookInstance, ...shown.map(([c]) => card(c)));
  return {
    at,
    hookInstance,
    ...service,
    patientId,
    ruleIds: shown.map(([, rule]) => rule),
    action: null,
    currentRate: null,
    recommendedRate: null,
    draftRate: null,
    protocolVersion: '1.1.0',
    durationMs: 40,
    cardCount: shown.length,
    outcome: 'ok',
    requestId,
    ...(shown.length > 0
      ? {
          cardIds: shown.map(([c]) => card(c)),
          cards: shown.map(([c, ruleId, indicator]) => ({ uuid: card(c), ruleId, indicator })),
        }
      : {}),
    ...patch,
  };
}

const accepted = (c: number, at: string): FeedbackItem => ({
  card: card(c),
  outcome: 'accepted',
  acceptedSuggestions: [{ id: SUGGESTION }],
  outcomeTimestamp: at,
});
const overridden = (c: number, at: string, system?: string, code?: string): FeedbackItem => ({
  card: card(c),
  outcome: 'overridden',
  outcomeTimestamp: at,
  overrideReason:
    system && code ? { reason: { system, code, display: `EHR text for ${code}` } } : { userComment: COMMENT },
});

const CALLS: AuditRow[] = [
  call(1, '2026-03-02T08:00:00.000Z', PV, [[1, 'S3', 'info']]),
  call(2, '2026-03-02T09:00:00.000Z', PV, [[2, 'S3', 'info']]),
  call(3, '2026-03-03T10:00:00.000Z', PV, [[3, 'S3', 'info']]),
  call(4, '2026-03-04T11:00:00.000Z', PV, [[4, 'E1', 'warning']]),
  call(5, '2026-03-04T12:00:00.000Z', OSEL, [[5, 'O2', 'critical']]),
  call(6, '2026-03-05T13:00:00.000Z', PV, [], { outcome: 'degraded', degradedCause: 'deadline' }),
  call(7, '2026-03-05T14:00:00.000Z', OSEL, [], { outcome: 'error', degradedCause: 'fhir-unavailable' }),
  call(8, '2026-03-06T15:00:00.000Z', PV, [[8, 'E1', 'warning']], {
    setAside: { otherPatient: 2, unreadable: 1, afterNow: 1 },
  }),
  call(9, '2026-03-09T08:00:00.000Z', PV, [[9, 'S3', 'info']]),
  call(10, '2026-03-09T08:01:00.000Z', PV, [[10, 'S3', 'info']], { hookInstance: hi(9) }),
  // C11 is written last (its feedback comes first)
  call(12, '2026-03-11T10:00:00.000Z', PV, [[12, 'E1', 'warning']], { setAside: { otherPatient: 0, unreadable: 3 } }),
  call(13, '2026-03-12T10:00:00.000Z', PV, [], { outcome: 'degraded', degradedCause: 'deadline' }),
  call(14, '2026-03-03T07:00:00.000Z', PV, [[14, 'S3', 'info']], { protocolVersion: '1.0.0' }),
  call(15, '2026-02-20T10:00:00.000Z', PV, [[15, 'S3', 'info']]),
];
const LATE_CALL = call(11, '2026-03-10T09:00:00.000Z', OSIGN, [[11, 'O2', 'critical']]);

/** Feedback batches in the order they are posted: [service id, items]. */
const FEEDBACK: Array<[string, FeedbackItem[]]> = [
  [
    PV.serviceId,
    [
      accepted(1, '2026-03-02T08:02:00Z'),
      overridden(2, '2026-03-02T10:10:00+01:00', OVERRIDE_REASON_SYSTEM, 'tolerating-current-rate'),
    ],
  ],
  [PV.serviceId, [accepted(4, '2026-03-04T11:01:00Z')]],
  [PV.serviceId, [overridden(4, '2026-03-04T11:05:00Z', OVERRIDE_REASON_SYSTEM, 'patient-declined')]],
  [OSEL.serviceId, [overridden(5, '2026-03-04T12:02:00Z')]],
  [PV.serviceId, [accepted(8, '2026-03-06T15:03:00Z')]],
  [PV.serviceId, [accepted(8, '2026-03-06T15:03:00Z')]],
  [PV.serviceId, [overridden(9, '2026-03-09T08:30:00Z', OTHER_REASON_SYSTEM, 'other-ehr-code')]],
  [PV.serviceId, [accepted(10, '2026-03-09T08:20:00Z')]],
  [OSIGN.serviceId, [accepted(11, '2026-03-10T09:00:30Z')]],
  [PV.serviceId, [overridden(12, '2026-03-11T10:04:00Z', OVERRIDE_REASON_SYSTEM, 'clinical-judgement')]],
  [PV.serviceId, [accepted(14, '2026-03-03T07:05:00Z'), accepted(15, '2026-02-20T10:01:00Z')]],
];

/** Every call, and every feedback batch in the order posted (for writing them some other way). */
export const ALL_CALLS: AuditRow[] = [...CALLS, LATE_CALL];
export const ALL_FEEDBACK = FEEDBACK;

/** Writes the calls and feedback above through the store (audit queue flushed, feedback committed). */
export async function feedReportFixture(store: Store): Promise<void> {
  for (const row of CALLS) store.recordAudit(row);
  await store.flush();
  for (const [serviceId, items] of FEEDBACK) await store.recordFeedback(serviceId, items);
  store.recordAudit(LATE_CALL);
  await store.flush();
}

/** The texts of the feedback that must never leave the store either. */
export const PRIVATE_TEXTS = [COMMENT, 'EHR text for'];

const REASON = (code: string, display: string) => ({ system: OVERRIDE_REASON_SYSTEM, code, display });
const rate = (value: number, low95: number, high95: number) => ({ rate: value, low95, high95 });

/**
 * The report of REPORT_PERIOD, all versions, worked out by hand from the table above (rates: Wilson 95 %,
 * z = 1.96, checked against an independent computation). Medians (seconds): S3 of 120, 600, 1800, 300 →
 * 450; E1 of 300, 180, 240 → 240; O2 of 120, 30 → 75; all nine → 240.
 */
export const EXPECTED_REPORT = {
  report: 'cds-effectiveness',
  period: { from: '2026-03-01', to: '2026-03-15', timeZone: 'UTC' },
  protocolVersion: null,
  countedFeedback: 'latest',
  totals: {
    calls: 14,
    callsWithCards: 11,
    degradedCalls: 2,
    failedCalls: 1,
    cardsShown: 10,
    accepted: 4,
    overridden: 5,
    noFeedback: 1,
    acceptanceRate: rate(0.4444, 0.1888, 0.7333),
    medianSecondsToFeedback: 240,
  },
  rules: [
    {
      ruleId: 'E1',
      indicator: 'warning',
      cardsShown: 3,
      accepted: 1,
      overridden: 2,
      noFeedback: 0,
      acceptanceRate: rate(0.3333, 0.0615, 0.7923),
      overriddenByReason: [
        { ...REASON('clinical-judgement', 'Clinical judgement: the protocol does not fit this patient now'), count: 1 },
        { ...REASON('patient-declined', 'Patient declined'), count: 1 },
      ],
      medianSecondsToFeedback: 240,
    },
    {
      ruleId: 'O2',
      indicator: 'critical',
      cardsShown: 2,
      accepted: 1,
      overridden: 1,
      noFeedback: 0,
      acceptanceRate: rate(0.5, 0.0945, 0.9055),
      overriddenByReason: [{ system: null, code: null, display: null, count: 1 }],
      medianSecondsToFeedback: 75,
    },
    {
      ruleId: 'S3',
      indicator: 'info',
      cardsShown: 5,
      accepted: 2,
      overridden: 2,
      noFeedback: 1,
      acceptanceRate: rate(0.5, 0.15, 0.85),
      overriddenByReason: [
        { system: OTHER_REASON_SYSTEM, code: 'other-ehr-code', display: null, count: 1 },
        { ...REASON('tolerating-current-rate', 'Patient tolerating current rate'), count: 1 },
      ],
      medianSecondsToFeedback: 450,
    },
  ],
  overrideReasons: [
    { system: null, code: null, display: null, count: 1 },
    { system: OTHER_REASON_SYSTEM, code: 'other-ehr-code', display: null, count: 1 },
    { ...REASON('clinical-judgement', 'Clinical judgement: the protocol does not fit this patient now'), count: 1 },
    { ...REASON('patient-declined', 'Patient declined'), count: 1 },
    { ...REASON('tolerating-current-rate', 'Patient tolerating current rate'), count: 1 },
  ],
  hooks: [
    {
      hook: 'order-select',
      calls: 2,
      degraded: 0,
      failed: 1,
      cardsShown: 1,
      accepted: 0,
      overridden: 1,
      noFeedback: 0,
      acceptanceRate: rate(0, 0, 0.7935),
    },
    {
      hook: 'order-sign',
      calls: 1,
      degraded: 0,
      failed: 0,
      cardsShown: 1,
      accepted: 1,
      overridden: 0,
      noFeedback: 0,
      acceptanceRate: rate(1, 0.2065, 1),
    },
    {
      hook: 'patient-view',
      calls: 11,
      degraded: 2,
      failed: 0,
      cardsShown: 8,
      accepted: 3,
      overridden: 4,
      noFeedback: 1,
      acceptanceRate: rate(0.4286, 0.1582, 0.7495),
    },
  ],
  degradedCalls: [
    { outcome: 'degraded', cause: 'deadline', calls: 2 },
    { outcome: 'failed', cause: 'fhir-unavailable', calls: 1 },
  ],
  weekly: [
    {
      weekStart: '2026-03-02',
      calls: 9,
      cardsShown: 7,
      accepted: 3,
      overridden: 3,
      noFeedback: 1,
      acceptanceRate: rate(0.5, 0.1876, 0.8124),
    },
    {
      weekStart: '2026-03-09',
      calls: 5,
      cardsShown: 3,
      accepted: 1,
      overridden: 2,
      noFeedback: 0,
      acceptanceRate: rate(0.3333, 0.0615, 0.7923),
    },
  ],
  versions: [
    {
      protocolVersion: '1.0.0',
      calls: 1,
      cardsShown: 1,
      accepted: 1,
      overridden: 0,
      noFeedback: 0,
      acceptanceRate: rate(1, 0.2065, 1),
    },
    {
      protocolVersion: '1.1.0',
      calls: 13,
      cardsShown: 9,
      accepted: 3,
      overridden: 5,
      noFeedback: 1,
      acceptanceRate: rate(0.375, 0.1368, 0.6943),
    },
  ],
  availableVersions: ['1.0.0', '1.1.0'],
  setAside: { otherPatient: 2, unreadable: 4, afterNow: 1 },
};

/** The CSV of EXPECTED_REPORT (reason columns: the reviewed list's order, then other codes, then none). */
export const EXPECTED_CSV = [
  'rule_id,indicator,cards_shown,accepted,overridden,no_feedback,acceptance_rate,acceptance_ci95_low,acceptance_ci95_high,median_seconds_to_feedback,overridden_tolerating-current-rate,overridden_effect-resolved,overridden_clinical-judgement,overridden_patient-declined,overridden_data-out-of-date,overridden_already-done,overridden_attending-decision,overridden_other_reason,overridden_no_reason',
  'E1,warning,3,1,2,0,0.3333,0.0615,0.7923,240,0,0,1,1,0,0,0,0,0',
  'O2,critical,2,1,1,0,0.5,0.0945,0.9055,75,0,0,0,0,0,0,0,0,1',
  'S3,info,5,2,2,1,0.5,0.15,0.85,450,1,0,0,0,0,0,0,1,0',
  'all,,10,4,5,1,0.4444,0.1888,0.7333,240,1,0,1,1,0,0,0,1,1',
  '',
].join('\r\n');
