/**
 * Suggestion actions (docs/clinical-specification.md §6): draft MedicationRequests created from patient-view cards, the
 * stop update of the active order, and on order hooks the corrected draft (update) or its removal (delete).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CodeableConcept, Dosage, DosageDoseAndRate, MedicationRequest } from 'fhir/r4';
import { packageRoot } from '../config/paths';
import type { ProtocolParameters } from '../config/parameters';
import type { RateArithmetic } from '../protocol/recommendation';
import { roundTo } from '../protocol/units';
import type { Numbers } from './format';
import type { Action, OverrideReason } from '../contract/cds-hooks';
import { RATE_UNIT } from './text';

export const UCUM_SYSTEM = 'http://unitsofmeasure.org';
export const DOSE_RATE_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/dose-rate-type';
const CODE_SYSTEM_BASE = 'https://ketamine-cds.example.org/fhir/CodeSystem';
export const OVERRIDE_REASON_SYSTEM = `${CODE_SYSTEM_BASE}/override-reason`;
export const PROTOCOL_RULE_SYSTEM = `${CODE_SYSTEM_BASE}/protocol-rule`;

const DOSE_UNIT = 'mg/h';

/** Offered on every card that has suggestions: the reviewed list in cds-hooks/override-reasons.json. */
export const OVERRIDE_REASONS: readonly OverrideReason[] = Object.freeze(loadOverrideReasons());

function loadOverrideReasons(): OverrideReason[] {
  const file = path.join(packageRoot(), 'cds-hooks', 'override-reasons.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    system: string;
    reasons: Array<{ code: string; display: string }>;
  };
  if (json.system !== OVERRIDE_REASON_SYSTEM) throw new Error(`${file}: system must be ${OVERRIDE_REASON_SYSTEM}`);
  return json.reasons.map(({ code, display }) => ({ system: json.system, code, display }));
}

export function overrideReasons(): OverrideReason[] {
  return OVERRIDE_REASONS.map((reason) => ({ ...reason }));
}

/** What a new rate means in mg/h, from the core's arithmetic when it is for this rate, else from the weight. */
export function mgPerHourFor(
  rate: number,
  arithmetic: RateArithmetic | null,
  weightKg: number | null,
  params: ProtocolParameters,
): { mgPerHour: number; weightKg: number } | null {
  if (
    arithmetic &&
    arithmetic.mgPerHour !== null &&
    arithmetic.weightKg !== null &&
    Math.abs(arithmetic.toRate - rate) <= params.rateTolerance
  ) {
    return { mgPerHour: arithmetic.mgPerHour, weightKg: arithmetic.weightKg };
  }
  const weight = weightKg ?? arithmetic?.weightKg ?? null;
  if (weight === null) return null;
  return { mgPerHour: roundTo(rate * weight, params.doseRounding), weightKg: weight };
}

function doseRateType(code: 'ordered' | 'calculated') {
  const display = code === 'ordered' ? 'Ordered' : 'Calculated';
  return { coding: [{ system: DOSE_RATE_TYPE_SYSTEM, code, display }] };
}

/** doseAndRate[0] ordered in mg/kg/h; doseAndRate[1] calculated in mg/h when a weight is known. */
function rateEntries(rate: number, mg: { mgPerHour: number } | null): DosageDoseAndRate[] {
  const entries: DosageDoseAndRate[] = [
    {
      type: doseRateType('ordered'),
      rateQuantity: { value: rate, unit: RATE_UNIT, system: UCUM_SYSTEM, code: RATE_UNIT },
    },
  ];
  if (mg) {
    entries.push({
      type: doseRateType('calculated'),
      rateQuantity: { value: mg.mgPerHour, unit: DOSE_UNIT, system: UCUM_SYSTEM, code: DOSE_UNIT },
    });
  }
  return entries;
}

function dosageText(
  rate: number,
  mg: { mgPerHour: number; weightKg: number } | null,
  n: Numbers,
  protocol: string,
): string {
  const dose = mg ? ` (${n.dose(mg.mgPerHour)} ${DOSE_UNIT} at ${n.plain(mg.weightKg)} kg)` : '';
  return `Ketamine continuous IV infusion at ${n.rate(rate)} ${RATE_UNIT}${dose}, ${protocol}`;
}

export interface OrderContext {
  patientId: string;
  encounterId: string | null;
  medication: CodeableConcept;
  planDefinitionUrl: string;
  protocolVersion: string;
  now: Date;
  params: ProtocolParameters;
  n: Numbers;
}

const protocolName = (ctx: OrderContext) => `IV ketamine protocol v${ctx.protocolVersion}`;

/** The protocol's PlanDefinition at this version: "<url>|<version>". */
const protocolCanonical = (ctx: Pick<OrderContext, 'planDefinitionUrl' | 'protocolVersion'>): string =>
  `${ctx.planDefinitionUrl}|${ctx.protocolVersion}`;

/** A draft order at `rate`, traceable to the protocol version (instantiatesCanonical). */
export function draftOrder(
  rate: number,
  mg: { mgPerHour: number; weightKg: number } | null,
  priorOrderId: string | null,
  ctx: OrderContext,
): MedicationRequest {
  const order: MedicationRequest = {
    resourceType: 'MedicationRequest',
    status: 'draft',
    intent: 'order',
    instantiatesCanonical: [protocolCanonical(ctx)],
    medicationCodeableConcept: structuredClone(ctx.medication),
    subject: { reference: `Patient/${ctx.patientId}` },
    authoredOn: ctx.now.toISOString(),
    dosageInstruction: [{ text: dosageText(rate, mg, ctx.n, protocolName(ctx)), doseAndRate: rateEntries(rate, mg) }],
  };
  if (ctx.encounterId) order.encounter = { reference: `Encounter/${ctx.encounterId}` };
  if (priorOrderId) order.priorPrescription = { reference: `MedicationRequest/${priorOrderId}` };
  return order;
}

/**
 * The active order set to `completed`. With the whole order known it is sent back changed only in its
 * status; with only its id, a minimal resource (id, status, intent, subject, medication) that the EHR
 * merges into its order.
 */
export function completedOrder(
  orderId: string,
  activeOrder: MedicationRequest | undefined,
  ctx: OrderContext,
): MedicationRequest {
  if (activeOrder && activeOrder.id === orderId) return { ...structuredClone(activeOrder), status: 'completed' };
  return {
    resourceType: 'MedicationRequest',
    id: orderId,
    status: 'completed',
    intent: 'order',
    subject: { reference: `Patient/${ctx.patientId}` },
    medicationCodeableConcept: structuredClone(ctx.medication),
  };
}

const RATE_KEYS = ['rateQuantity', 'rateRatio', 'rateRange'] as const;
const hasRate = (entry: DosageDoseAndRate) => RATE_KEYS.some((key) => entry[key] !== undefined);

/** Entries of a doseAndRate list with their rates removed (entries left with nothing but a type are dropped). */
function withoutRates(entries: DosageDoseAndRate[] | undefined): DosageDoseAndRate[] {
  return (entries ?? [])
    .map((entry) => {
      const copy = { ...entry };
      for (const key of RATE_KEYS) delete copy[key];
      return copy;
    })
    .filter((entry) => Object.keys(entry).some((key) => key !== 'type'));
}

/**
 * The whole draft with its rate replaced: the dosage that carried the rate (or the first) gets the
 * ordered mg/kg/h and calculated mg/h entries and a dosage text naming the new rate (an old text would
 * contradict it); rates elsewhere are removed; instantiatesCanonical gains the protocol's PlanDefinition
 * (its entries kept), so the corrected order can be traced to the protocol version like a created one;
 * everything else is kept as drafted.
 */
export function draftWithRate(
  draft: MedicationRequest,
  rate: number,
  mg: { mgPerHour: number; weightKg: number } | null,
  ctx: OrderContext,
): MedicationRequest {
  const copy = structuredClone(draft);
  const dosages: Dosage[] = copy.dosageInstruction && copy.dosageInstruction.length > 0 ? copy.dosageInstruction : [{}];
  const target = dosages.find((d) => (d.doseAndRate ?? []).some(hasRate)) ?? dosages[0];
  for (const dosage of dosages) {
    const kept = withoutRates(dosage.doseAndRate);
    if (dosage === target) {
      dosage.doseAndRate = [...rateEntries(rate, mg), ...kept];
      dosage.text = dosageText(rate, mg, ctx.n, protocolName(ctx));
    } else if (kept.length > 0) {
      dosage.doseAndRate = kept;
    } else {
      delete dosage.doseAndRate;
    }
  }
  copy.dosageInstruction = dosages;
  const canonical = protocolCanonical(ctx);
  const canonicals = copy.instantiatesCanonical ?? [];
  if (!canonicals.includes(canonical)) copy.instantiatesCanonical = [...canonicals, canonical];
  return copy;
}

export function createAction(order: MedicationRequest, description: string): Action {
  return { type: 'create', description, resource: order };
}

export function updateAction(order: MedicationRequest, description: string): Action {
  return { type: 'update', description, resource: order };
}

export function deleteAction(orderId: string, description: string): Action {
  return { type: 'delete', description, resourceId: `MedicationRequest/${orderId}` };
}
