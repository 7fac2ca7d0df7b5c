// The patient's record as the page shows it: loaded from the FHIR server, seen "as of" the scenario time,
// and summarised for the header and the chart. This is display only: the CDS service makes the decisions.
import { MS_PER_DAY, MS_PER_HOUR, toMs, iso } from './time.js';

export const SYSTEMS = {
  snomed: 'http://snomed.info/sct',
  ucum: 'http://unitsofmeasure.org',
  obsCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
};

// The codes the page recognises and charts: the service's own value sets (fhir-resources/ValueSet, served as
// GET demo/api/value-sets and set once at start by useValueSets), so the page holds no code of its own.
const CODES = {};
const ORDERING = {};
/** The adverse effects the nurse form offers: { code, display } of SNOMED CT, from the value set. */
const ADVERSE_EFFECTS = [];

/** A value set display without the reviewers' note on it ("Hallucinations (code to be confirmed …)"). */
const plainDisplay = (display) => (display ?? '').replace(/\s*\(code to be confirmed[^)]*\)\s*$/, '');

/** Take the value sets ({ id: [{ system, code, display }] }) the page reads and charts with. */
export function useValueSets(valueSets) {
  const codes = (...ids) => ids.flatMap((id) => (valueSets[id] ?? []).map((c) => c.code));
  Object.assign(CODES, {
    pain: codes('pain-score'),
    painVas: codes('pain-score-vas'),
    weight: codes('body-weight'),
    bpPanel: codes('bp-panel'),
    sbp: codes('systolic-bp'),
    dbp: codes('diastolic-bp'),
    hr: codes('heart-rate'),
    rr: codes('respiratory-rate'),
    spo2: codes('oxygen-saturation'),
    pregnancy: codes('pregnancy-test'),
    ekg: codes('ekg'),
    ketamine: codes('ketamine'),
    chronicMigraine: codes('chronic-migraine'),
    psychotomimetic: codes('psychotomimetic-effect'),
    positive: codes('pregnancy-test-positive'),
    negative: codes('pregnancy-test-negative'),
    inpatientClass: codes('inpatient-encounter-class'),
  });
  // What the nurse charts: the first coding of each value set; the drug as the cards order it (the ingredient).
  const first = (id) => {
    const c = valueSets[id]?.[0];
    return c ? { system: c.system, code: c.code, display: c.display } : null;
  };
  const ketamine = valueSets.ketamine ?? [];
  const ingredient = ketamine.find((c) => c.display === 'ketamine') ?? ketamine[0];
  Object.assign(ORDERING, {
    pain: first('pain-score'),
    bpPanel: first('bp-panel'),
    sbp: first('systolic-bp'),
    dbp: first('diastolic-bp'),
    hr: first('heart-rate'),
    rr: first('respiratory-rate'),
    spo2: first('oxygen-saturation'),
    ketamine: ingredient ? { system: ingredient.system, code: ingredient.code, display: ingredient.display } : null,
  });
  // The nurse charts an adverse effect as an AdverseEvent coded in SNOMED CT (the value set's other codes are
  // ICD-10-CM diagnoses, charted as Conditions by the physician, not from this form).
  ADVERSE_EFFECTS.splice(
    0,
    ADVERSE_EFFECTS.length,
    ...(valueSets['psychotomimetic-effect'] ?? [])
      .filter((c) => c.system === SYSTEMS.snomed)
      .map((c) => ({ code: c.code, display: plainDisplay(c.display) || c.code })),
  );
}

/** The adverse effects the nurse form offers, in the value set's order. */
export const adverseEffectChoices = () => ADVERSE_EFFECTS.map((c) => ({ ...c }));

/** The ketamine coding a draft order carries (the ingredient of the Ketamine value set). */
export const ketamineCoding = () => ({ ...ORDERING.ketamine });

const codesOf = (concept) => (concept?.coding ?? []).map((c) => c.code).filter(Boolean);
const hasCode = (concept, list) => codesOf(concept).some((c) => list.includes(c));
const conceptText = (concept) =>
  concept?.text ?? concept?.coding?.find((c) => c.display)?.display ?? codesOf(concept)[0] ?? '';

/** The clinical start time of a resource (when it happened), in ms. */
export function clinicalStart(r) {
  return toMs(
    r.effectivePeriod?.start ??
      r.effectiveDateTime ??
      r.effectiveInstant ??
      r.onsetDateTime ??
      r.onsetPeriod?.start ??
      r.recordedDate ??
      r.date ??
      r.authoredOn ??
      r.period?.start ??
      r.issued ??
      r.dateTime ??
      null,
  );
}

/**
 * The resource as the EHR held it at `nowMs`: null when it happened later; an administration or encounter
 * that ended later is shown as still running then. Resources without a time (Patient…) are kept.
 */
function asOf(resource, nowMs) {
  const start = clinicalStart(resource);
  if (start !== null && start > nowMs) return null;
  if (
    resource.resourceType === 'MedicationAdministration' &&
    resource.effectivePeriod?.end &&
    toMs(resource.effectivePeriod.end) > nowMs
  ) {
    return { ...resource, status: 'in-progress', effectivePeriod: { start: resource.effectivePeriod.start } };
  }
  if (resource.resourceType === 'Encounter' && resource.period?.end && toMs(resource.period.end) > nowMs) {
    return { ...resource, status: 'in-progress', period: { start: resource.period.start } };
  }
  return resource;
}

/** A searchset (or single resource) as of `nowMs`, for prefetch. */
export function bundleAsOf(resource, nowMs) {
  if (!resource) return resource;
  if (resource.resourceType !== 'Bundle') return asOf(resource, nowMs) ?? null;
  const entry = (resource.entry ?? []).flatMap((e) => {
    const r = e.resource ? asOf(e.resource, nowMs) : e.resource;
    return r === null ? [] : [{ ...e, resource: r }];
  });
  const out = { ...resource, entry };
  if (typeof resource.total === 'number') out.total = entry.length;
  return out;
}

/** Everything the page shows about one patient, straight from the FHIR server (not yet "as of"); `signal` aborts the reads. */
export async function loadRecord(fhir, patientId, signal) {
  const p = encodeURIComponent(patientId);
  const [
    patient,
    encounters,
    conditions,
    observations,
    administrations,
    requests,
    adverseEvents,
    consents,
    reports,
    allergies,
  ] = await Promise.all([
    fhir.read('Patient', patientId, signal),
    fhir.search('Encounter', `patient=${p}&_count=100`, signal),
    fhir.search('Condition', `patient=${p}&_count=200`, signal),
    fhir.search('Observation', `patient=${p}&_count=1000`, signal),
    fhir.search('MedicationAdministration', `patient=${p}&_count=500`, signal),
    fhir.search('MedicationRequest', `patient=${p}&_count=200`, signal),
    fhir.search('AdverseEvent', `subject=Patient/${p}&_count=100`, signal),
    fhir.search('Consent', `patient=${p}&_count=50`, signal),
    fhir.search('DiagnosticReport', `patient=${p}&_count=50`, signal),
    fhir.search('AllergyIntolerance', `patient=${p}&_count=50`, signal),
  ]);
  // The Medications the administrations and orders name (their bag strength reads mL/h), as the service reads them.
  const medicationIds = [
    ...new Set(
      [...administrations, ...requests]
        .map((r) => /^Medication\/([^/]+)$/.exec(r.medicationReference?.reference ?? '')?.[1])
        .filter(Boolean),
    ),
  ];
  const medications = medicationIds.length
    ? await fhir.search('Medication', `_id=${medicationIds.map(encodeURIComponent).join(',')}`, signal)
    : [];
  return {
    patient,
    encounters,
    conditions,
    observations,
    administrations,
    requests,
    medications,
    adverseEvents,
    consents,
    reports,
    allergies,
  };
}

/** Units of a bag strength: mass in mg, volume in mL. */
const STRENGTH_MASS_MG = { mg: 1, g: 1000, ug: 0.001, mcg: 0.001 };
const STRENGTH_VOLUME_ML = { ml: 1, l: 1000 };

/** The bag strength in mg/mL of a Medication (its ketamine ingredient), or null when it holds none readable. */
function strengthOf(medication) {
  for (const ingredient of medication?.ingredient ?? []) {
    const { numerator: n, denominator: d } = ingredient.strength ?? {};
    const mg = STRENGTH_MASS_MG[String(n?.code ?? n?.unit ?? '').toLowerCase()];
    const ml = STRENGTH_VOLUME_ML[String(d?.code ?? d?.unit ?? '').toLowerCase()];
    const value = mg && ml ? (n.value * mg) / ((d.value ?? 1) * ml) : NaN;
    if (Number.isFinite(value) && value > 0) return value;
  }
  return null;
}

/** The Medication a resource names: contained (`#id`) or in the record (`Medication/id`). */
function medicationOf(resource, medications) {
  const reference = resource?.medicationReference?.reference ?? '';
  if (reference.startsWith('#'))
    return (resource.contained ?? []).find((c) => c.resourceType === 'Medication' && `#${c.id}` === reference) ?? null;
  const id = /^Medication\/([^/]+)$/.exec(reference)?.[1];
  return id ? (medications.find((m) => m.id === id) ?? null) : null;
}

/**
 * The bag strength (mg/mL) an administration's mL/h rate is read with, as the service reads it: the
 * administration's Medication, else its order's, else the active ketamine order's; null when none is charted
 * (the page then draws no rate for it: never the default strength, which could halve or double the dose shown).
 */
function concentrationFor(administration, record) {
  const { medications } = record;
  const orderId = /^MedicationRequest\/([^/]+)$/.exec(administration.request?.reference ?? '')?.[1];
  const order = orderId ? record.requests.find((r) => r.id === orderId) : null;
  const active = record.requests.find((r) => r.status === 'active' && isKetamine(r));
  for (const source of [administration, order, active]) {
    const strength = source ? strengthOf(medicationOf(source, medications)) : null;
    if (strength !== null) return strength;
  }
  return null;
}

function isKetamine(resource) {
  const concept = resource.medicationCodeableConcept;
  if (concept) return hasCode(concept, CODES.ketamine) || /ketamine/i.test(conceptText(concept));
  return (
    /ketamine/i.test(resource.medicationReference?.display ?? '') ||
    (resource.contained ?? []).some(
      (c) =>
        c.resourceType === 'Medication' && (hasCode(c.code, CODES.ketamine) || /ketamine/i.test(conceptText(c.code))),
    )
  );
}

const isActiveCondition = (c) => {
  const status = codesOf(c.clinicalStatus)[0];
  return (
    (!status || ['active', 'recurrence', 'relapse'].includes(status)) &&
    codesOf(c.verificationStatus)[0] !== 'entered-in-error'
  );
};
const isFinal = (o) => ['final', 'amended', 'corrected', 'preliminary'].includes(o.status);

function latest(list) {
  return list.reduce(
    (best, r) => (best === null || (clinicalStart(r) ?? 0) > (clinicalStart(best) ?? 0) ? r : best),
    null,
  );
}

function quantityOf(o) {
  if (o.valueQuantity)
    return { value: o.valueQuantity.value, unit: o.valueQuantity.unit ?? o.valueQuantity.code ?? '' };
  if (typeof o.valueInteger === 'number') return { value: o.valueInteger, unit: '' };
  return null;
}

function painScore(o) {
  const q = quantityOf(o);
  if (!q || typeof q.value !== 'number') return null;
  const code = codesOf(o.code);
  if (q.unit === 'mm' || (CODES.painVas.some((c) => code.includes(c)) && q.value > 10))
    return { score: q.value / 10, charted: `${q.value} mm` };
  return { score: q.value };
}

/** A rate in mg/kg/h from a dosage (`rateQuantity` or `rateRatio`), or null with the reason. */
function rateOf(dosage, weightKg, concentration) {
  let value;
  let unit;
  if (dosage?.rateQuantity) {
    value = dosage.rateQuantity.value;
    unit = dosage.rateQuantity.code ?? dosage.rateQuantity.unit;
  } else if (dosage?.rateRatio?.numerator && dosage.rateRatio.denominator) {
    const { numerator: n, denominator: d } = dosage.rateRatio;
    const perHour = (d.code ?? d.unit) === 'min' ? (d.value ?? 1) / 60 : (d.value ?? 1);
    value = n.value / perHour;
    unit = `${n.code ?? n.unit}/h`;
  }
  if (typeof value !== 'number') return { rate: null, charted: 'no rate' };
  const charted = `${value} ${unit}`;
  if (unit === 'mg/kg/h') return { rate: value, charted };
  if (unit === 'mg/h') return weightKg ? { rate: value / weightKg, charted } : { rate: null, charted };
  if (unit === 'mL/h') {
    if (concentration === null) return { rate: null, charted: `${charted} (bag strength not charted)` };
    return weightKg ? { rate: (value * concentration) / weightKg, charted } : { rate: null, charted };
  }
  return { rate: null, charted };
}

const VITALS = [
  { key: 'sbp', label: 'SBP', unit: 'mm[Hg]', high: 'sbpHigh', low: 'sbpLow' },
  { key: 'dbp', label: 'DBP', unit: 'mm[Hg]', high: 'dbpHigh' },
  { key: 'hr', label: 'HR', unit: '/min', high: 'hrHigh', low: 'hrLow' },
  { key: 'rr', label: 'RR', unit: '/min', high: 'rrHigh', low: 'rrLow' },
  { key: 'spo2', label: 'SpO₂', unit: '%', low: 'spo2Low' },
];

/** Every vital reading in an Observation (a BP panel gives two). */
function vitalReadings(o) {
  const code = codesOf(o.code);
  const out = [];
  const push = (key, q) => {
    if (q && typeof q.value === 'number') out.push({ key, value: q.value });
  };
  const is = (list) => list.some((c) => code.includes(c));
  if (is(CODES.bpPanel)) {
    for (const c of o.component ?? []) {
      if (hasCode(c.code, CODES.sbp)) push('sbp', c.valueQuantity);
      if (hasCode(c.code, CODES.dbp)) push('dbp', c.valueQuantity);
    }
  }
  if (is(CODES.sbp)) push('sbp', o.valueQuantity);
  if (is(CODES.dbp)) push('dbp', o.valueQuantity);
  if (is(CODES.hr)) push('hr', o.valueQuantity);
  if (is(CODES.rr)) push('rr', o.valueQuantity);
  if (is(CODES.spo2)) push('spo2', o.valueQuantity);
  return out;
}

function breachOf(key, value, params) {
  const def = VITALS.find((v) => v.key === key);
  if (def.high && value > params[def.high]) return `${def.label} ${value} ${def.unit} > ${params[def.high]}`;
  if (def.low && value < params[def.low]) return `${def.label} ${value} ${def.unit} < ${params[def.low]}`;
  return null;
}

function pregnancyResult(o, params) {
  const concept = o.valueCodeableConcept;
  const interp = (o.interpretation ?? []).flatMap(codesOf);
  if (hasCode(concept, CODES.positive) || interp.some((c) => CODES.positive.includes(c))) return 'positive';
  if (hasCode(concept, CODES.negative) || interp.some((c) => CODES.negative.includes(c))) return 'negative';
  const q = quantityOf(o);
  if (q && typeof q.value === 'number') {
    if (q.value < params.hcgNegativeBelow) return 'negative';
    if (q.value >= params.hcgPositiveAtOrAbove) return 'positive';
    return 'equivocal';
  }
  return 'unreadable';
}

function ageYears(birthDate, nowMs) {
  const birth = toMs(birthDate);
  if (birth === null) return null;
  const b = new Date(birth);
  const n = new Date(nowMs);
  let years = n.getUTCFullYear() - b.getUTCFullYear();
  if (n.getUTCMonth() < b.getUTCMonth() || (n.getUTCMonth() === b.getUTCMonth() && n.getUTCDate() < b.getUTCDate()))
    years -= 1;
  return years;
}

/** The summary of the record as of `nowMs`, for the header, the chart and the orders list. */
export function summarise(record, nowMs, params) {
  const seen = (list) => list.map((r) => asOf(r, nowMs)).filter(Boolean);
  const observations = seen(record.observations).filter(isFinal);
  const conditions = seen(record.conditions).filter(isActiveCondition);
  const encounters = seen(record.encounters);
  const patient = record.patient;

  const weights = observations.filter((o) => hasCode(o.code, CODES.weight) && quantityOf(o));
  const weightObs = latest(weights);
  const weight = weightObs
    ? { value: quantityOf(weightObs).value, unit: quantityOf(weightObs).unit || 'kg', time: clinicalStart(weightObs) }
    : null;
  const weightKg = weight && (weight.unit === 'kg' || weight.unit === '') ? weight.value : null;

  const pain = observations
    .filter((o) => hasCode(o.code, CODES.pain))
    .map((o) => ({ time: clinicalStart(o), ...painScore(o) }))
    .filter((p) => typeof p.score === 'number' && p.time !== null)
    .sort((a, b) => a.time - b.time);

  const asOfNow = { medications: record.medications ?? [], requests: seen(record.requests ?? []) };
  const segments = seen(record.administrations)
    .filter((a) => isKetamine(a) && ['in-progress', 'completed'].includes(a.status))
    .map((a) => {
      const { rate, charted } = rateOf(a.dosage, weightKg, concentrationFor(a, asOfNow));
      return {
        id: a.id,
        start: clinicalStart(a),
        end: toMs(a.effectivePeriod?.end) ?? (a.status === 'completed' ? clinicalStart(a) : null),
        rate,
        charted,
        status: a.status,
      };
    })
    .filter((s) => s.start !== null && nowMs - s.start <= params.lookbackDays * MS_PER_DAY)
    .sort((a, b) => a.start - b.start);
  const running = segments.filter((s) => s.end === null || s.end > nowMs).at(-1) ?? null;

  const vitals = observations.flatMap((o) => vitalReadings(o).map((v) => ({ ...v, time: clinicalStart(o) })));
  const breaches = vitals
    .map((v) => ({ time: v.time, label: breachOf(v.key, v.value, params) }))
    .filter((v) => v.label && v.time !== null);

  const adverse = [
    ...seen(record.adverseEvents).map((e) => ({
      time: clinicalStart(e),
      label: conceptText(e.event) || 'Adverse event',
    })),
    ...observations
      .filter((o) => hasCode(o.code, CODES.psychotomimetic))
      .map((o) => ({ time: clinicalStart(o), label: conceptText(o.code) })),
    ...conditions
      .filter((c) => hasCode(c.code, CODES.psychotomimetic))
      .map((c) => ({ time: clinicalStart(c), label: conceptText(c.code) })),
  ].filter((a) => a.time !== null);

  const age = ageYears(patient.birthDate, nowMs);
  const female = patient.gender === 'female';
  const migraine = conditions.filter((c) => hasCode(c.code, CODES.chronicMigraine));
  const ekg = latest([
    ...observations.filter((o) => hasCode(o.code, CODES.ekg)),
    ...seen(record.reports).filter(
      (d) => hasCode(d.code, CODES.ekg) && ['final', 'amended', 'corrected'].includes(d.status),
    ),
  ]);
  const pregnancy = latest(observations.filter((o) => hasCode(o.code, CODES.pregnancy)));
  const consent = seen(record.consents).find((c) => c.status === 'active');
  const lastPain = pain.at(-1) ?? null;
  const within = (time, maxMs) => time !== null && nowMs - time <= maxMs;

  const prerequisites = [];
  prerequisites.push(
    migraine.length
      ? { label: 'Chronic migraine', state: 'met' }
      : { label: 'No active chronic-migraine diagnosis', state: 'bad' },
  );
  if (age !== null)
    prerequisites.push(
      age >= params.minAgeYears
        ? { label: `Age ≥ ${params.minAgeYears}`, state: 'met' }
        : { label: `Age < ${params.minAgeYears}`, state: 'bad' },
    );
  prerequisites.push(
    !weight
      ? { label: 'Weight missing', state: 'missing' }
      : within(weight.time, params.weightMaxAgeDays * MS_PER_DAY)
        ? { label: `Weight ${weight.value} ${weight.unit}`, state: 'met' }
        : { label: 'Weight stale', state: 'missing' },
  );
  const ekgTime = ekg ? clinicalStart(ekg) : null;
  prerequisites.push(
    !ekg
      ? { label: 'EKG missing', state: 'missing' }
      : within(ekgTime, params.ekgMaxAgeDays * MS_PER_DAY)
        ? { label: 'EKG done', state: 'met' }
        : { label: 'EKG too old', state: 'missing' },
  );
  if (female) {
    const result = pregnancy ? pregnancyResult(pregnancy, params) : null;
    const time = pregnancy ? clinicalStart(pregnancy) : null;
    if (!pregnancy) prerequisites.push({ label: 'Pregnancy test missing', state: 'missing' });
    else if (result === 'positive' || result === 'equivocal')
      prerequisites.push({ label: `Pregnancy test ${result}`, state: 'bad' });
    else if (!within(time, params.pregnancyTestMaxAgeDays * MS_PER_DAY))
      prerequisites.push({ label: 'Pregnancy test too old', state: 'missing' });
    else prerequisites.push({ label: `Pregnancy test ${result}`, state: result === 'negative' ? 'met' : 'missing' });
  }
  prerequisites.push(
    lastPain && within(lastPain.time, params.painMaxAgeHours * MS_PER_HOUR)
      ? { label: `Pain score ${lastPain.score}/10`, state: 'met' }
      : { label: 'No recent pain score', state: 'missing' },
  );
  prerequisites.push(
    consent ? { label: 'Consent on file', state: 'met' } : { label: 'Written consent not recorded', state: 'missing' },
  );

  const orders = seen(record.requests)
    .filter(isKetamine)
    .sort((a, b) => (clinicalStart(b) ?? 0) - (clinicalStart(a) ?? 0));
  // The encounter the EHR puts in context: the one in progress at the scenario time, inpatient first.
  const open = encounters.filter((e) => e.status === 'in-progress');
  const encounter = open.find((e) => CODES.inpatientClass.includes(e.class?.code)) ?? open[0] ?? null;
  return {
    patient,
    age,
    weight,
    weightKg,
    pain,
    segments,
    running,
    breaches,
    adverse,
    prerequisites,
    orders,
    encounter,
    diagnoses: conditions.map((c) => conceptText(c.code)).filter(Boolean),
    allergies: seen(record.allergies)
      .map((a) => conceptText(a.code))
      .filter(Boolean),
  };
}

export function patientName(patient) {
  const name = patient?.name?.[0];
  if (!name) return patient?.id ?? 'Unknown patient';
  return name.text ?? [...(name.given ?? []), name.family].filter(Boolean).join(' ');
}

// ---- What the nurse records (at the scenario time) ----

const ref = (type, id) => ({ reference: `${type}/${id}` });
const ketamineConcept = () => ({ coding: [ketamineCoding()], text: 'Ketamine IV infusion' });

export function painObservation(patientId, encounterId, score, nowMs) {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: SYSTEMS.obsCategory, code: 'survey', display: 'Survey' }] }],
    code: { coding: [{ ...ORDERING.pain }], text: 'Pain score' },
    subject: ref('Patient', patientId),
    ...(encounterId ? { encounter: ref('Encounter', encounterId) } : {}),
    effectiveDateTime: iso(nowMs),
    valueQuantity: { value: score, unit: '{score}', system: SYSTEMS.ucum, code: '{score}' },
  };
}

/** A blood-pressure panel (85354-9 with systolic/diastolic components) and a heart rate, charted now. */
export function vitalObservations(patientId, encounterId, { sbp, dbp, hr }, nowMs) {
  const base = {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: SYSTEMS.obsCategory, code: 'vital-signs', display: 'Vital Signs' }] }],
    subject: ref('Patient', patientId),
    ...(encounterId ? { encounter: ref('Encounter', encounterId) } : {}),
    effectiveDateTime: iso(nowMs),
  };
  const mmHg = (value) => ({ value, unit: 'mmHg', system: SYSTEMS.ucum, code: 'mm[Hg]' });
  return [
    {
      ...base,
      code: { coding: [{ ...ORDERING.bpPanel }] },
      component: [
        { code: { coding: [{ ...ORDERING.sbp }] }, valueQuantity: mmHg(sbp) },
        { code: { coding: [{ ...ORDERING.dbp }] }, valueQuantity: mmHg(dbp) },
      ],
    },
    {
      ...base,
      code: { coding: [{ ...ORDERING.hr }] },
      valueQuantity: { value: hr, unit: '/min', system: SYSTEMS.ucum, code: '/min' },
    },
  ];
}

export function administration(patientId, encounterId, rate, unit, nowMs, requestId) {
  return {
    resourceType: 'MedicationAdministration',
    status: 'in-progress',
    medicationCodeableConcept: ketamineConcept(),
    subject: ref('Patient', patientId),
    ...(encounterId ? { context: ref('Encounter', encounterId) } : {}),
    effectivePeriod: { start: iso(nowMs) },
    ...(requestId ? { request: ref('MedicationRequest', requestId) } : {}),
    dosage: { rateQuantity: { value: rate, unit, system: SYSTEMS.ucum, code: unit } },
  };
}

export function vitalsObservations(patientId, encounterId, v, nowMs) {
  const base = (coding, display) => ({
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: SYSTEMS.obsCategory, code: 'vital-signs', display: 'Vital Signs' }] }],
    code: { coding: [{ ...coding }], text: display },
    subject: ref('Patient', patientId),
    ...(encounterId ? { encounter: ref('Encounter', encounterId) } : {}),
    effectiveDateTime: iso(nowMs),
  });
  const qty = (value, unit) => ({ value, unit, system: SYSTEMS.ucum, code: unit });
  const out = [];
  if (typeof v.sbp === 'number' || typeof v.dbp === 'number') {
    const panel = base(ORDERING.bpPanel, 'Blood pressure panel');
    panel.component = [];
    if (typeof v.sbp === 'number')
      panel.component.push({ code: { coding: [{ ...ORDERING.sbp }] }, valueQuantity: qty(v.sbp, 'mm[Hg]') });
    if (typeof v.dbp === 'number')
      panel.component.push({ code: { coding: [{ ...ORDERING.dbp }] }, valueQuantity: qty(v.dbp, 'mm[Hg]') });
    out.push(panel);
  }
  if (typeof v.hr === 'number') out.push({ ...base(ORDERING.hr, 'Heart rate'), valueQuantity: qty(v.hr, '/min') });
  if (typeof v.rr === 'number')
    out.push({ ...base(ORDERING.rr, 'Respiratory rate'), valueQuantity: qty(v.rr, '/min') });
  if (typeof v.spo2 === 'number')
    out.push({ ...base(ORDERING.spo2, 'Oxygen saturation'), valueQuantity: qty(v.spo2, '%') });
  return out;
}

export function adverseEvent(patientId, encounterId, code, display, note, nowMs, administrationId) {
  return {
    resourceType: 'AdverseEvent',
    actuality: 'actual',
    event: { coding: [{ system: SYSTEMS.snomed, code, display }], text: note ? `${display}: ${note}` : display },
    subject: ref('Patient', patientId),
    ...(encounterId ? { encounter: ref('Encounter', encounterId) } : {}),
    date: iso(nowMs),
    ...(administrationId ? { suspectEntity: [{ instance: ref('MedicationAdministration', administrationId) }] } : {}),
  };
}

/** An order rate read back for the orders list ("0.2 mg/kg/h"). */
export function orderRate(request) {
  const dr = request.dosageInstruction?.[0]?.doseAndRate?.[0];
  const q = dr?.rateQuantity;
  if (q) return { value: q.value, unit: q.code ?? q.unit };
  return null;
}
