/**
 * The ketamine medication concept put on draft orders created from cards. The codes live in one
 * place, the Ketamine ValueSet (fhir-resources/ValueSet/ketamine.json); this module reads the
 * ordering concept from it instead of keeping a second copy of the codes.
 */
import { readFileSync } from 'node:fs';
import type { CodeableConcept, ValueSet, ValueSetComposeIncludeConcept } from 'fhir/r4';
import { projectPath } from '../config/paths';

export const RXNORM_SYSTEM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const KETAMINE_VALUESET_FILE = projectPath('fhir-resources', 'ValueSet', 'ketamine.json');

const INGREDIENT_NAME = 'ketamine';

/**
 * The RxNorm concept to order: the RxNorm concept displayed as the bare ingredient name ("ketamine",
 * the ingredient RxCUI), else the first RxNorm concept of the ValueSet (compose, then expansion).
 */
export function medicationConceptFromValueSet(valueSet: ValueSet): CodeableConcept {
  const fromCompose: ValueSetComposeIncludeConcept[] = (valueSet.compose?.include ?? [])
    .filter((inc) => inc.system === RXNORM_SYSTEM)
    .flatMap((inc) => inc.concept ?? []);
  const fromExpansion = (valueSet.expansion?.contains ?? [])
    .filter((c) => c.system === RXNORM_SYSTEM && c.code)
    .map((c) => ({ code: c.code as string, display: c.display }));
  const candidates: Array<{ code: string; display?: string | undefined }> = [...fromCompose, ...fromExpansion];
  const chosen = candidates.find((c) => c.display?.trim().toLowerCase() === INGREDIENT_NAME) ?? candidates[0];
  if (!chosen) {
    throw new Error(`The Ketamine ValueSet ${valueSet.url ?? valueSet.id ?? ''} has no RxNorm concept to order`);
  }
  const display = chosen.display ?? INGREDIENT_NAME;
  return { coding: [{ system: RXNORM_SYSTEM, code: chosen.code, display }], text: display };
}

const cache = new Map<string, CodeableConcept>();

/** Reads (once per file) the ordering concept from the Ketamine ValueSet file. Throws when it is missing. */
export function loadKetamineMedication(file = KETAMINE_VALUESET_FILE): CodeableConcept {
  const cached = cache.get(file);
  if (cached) return structuredClone(cached);
  let valueSet: ValueSet;
  try {
    valueSet = JSON.parse(readFileSync(file, 'utf8')) as ValueSet;
  } catch (err) {
    throw new Error(`Cannot read the Ketamine ValueSet ${file}: ${(err as Error).message}`);
  }
  const concept = medicationConceptFromValueSet(valueSet);
  cache.set(file, concept);
  return structuredClone(concept);
}
