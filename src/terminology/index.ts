/**
 * Terminology: the value sets of docs/clinical-specification.md §5, loaded from fhir-resources/ValueSet (the only place
 * the codes live: nothing here holds a code). One loaded Terminology answers membership questions for
 * TypeScript and serves cql-execution as its CodeService (same expansions, same answers).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ValueSet as CqlValueSet, Code as CqlCode } from 'cql-execution';
import type { TerminologyProvider } from 'cql-execution';
import type { CodeableConcept, Coding, ValueSet } from 'fhir/r4';
import { projectPath } from '../config/paths';

export const VALUE_SET_BASE_URL = 'https://ketamine-cds.example.org/fhir/ValueSet/';

/** Every value set the project needs (docs/clinical-specification.md §5); loading fails when one is missing. */
export const VALUE_SET_IDS = [
  'ketamine',
  'chronic-migraine',
  'pain-score',
  'pain-score-vas',
  'body-weight',
  'systolic-bp',
  'diastolic-bp',
  'bp-panel',
  'heart-rate',
  'respiratory-rate',
  'oxygen-saturation',
  'pregnancy-test',
  'pregnancy-test-positive',
  'pregnancy-test-negative',
  'pregnancy-test-equivocal',
  'pregnancy-condition',
  'ekg',
  'psychosis',
  'psychotomimetic-effect',
  'caution-cirrhosis',
  'caution-raised-icp',
  'caution-glaucoma',
  'caution-substance-use',
  'caution-ischemic-heart-disease',
  'inpatient-encounter-class',
] as const;

export type ValueSetId = (typeof VALUE_SET_IDS)[number];

export const DEFAULT_VALUE_SET_DIR = projectPath('fhir-resources', 'ValueSet');

/**
 * A text names ketamine when, lower-cased, it matches this pattern (whole-string match, as CQL
 * `Matches`): the word "ketamine"/"ketamin" (not esketamine) or the brand Ketalar. The evaluator passes
 * the same pattern to the CQL (parameter "Ketamine Text Pattern"), so both recognise the same texts.
 */
export const KETAMINE_TEXT_PATTERN = '[\\s\\S]*\\b(ketamin|ketalar)[\\s\\S]*';
const KETAMINE_TEXT = new RegExp(`^${KETAMINE_TEXT_PATTERN}$`);

type KetamineRecognition = 'code' | 'text' | null;

export interface Terminology {
  /** The loaded ValueSet resources, by id. */
  readonly valueSets: ReadonlyMap<ValueSetId, ValueSet>;
  /** Canonical url of a value set. */
  url(valueSetId: ValueSetId): string;
  /** The codes of the value set's expansion, whatever their system. */
  codes(valueSetId: ValueSetId): string[];
  /** Is system|code in the value set's expansion? */
  contains(valueSetId: ValueSetId, system: string | null | undefined, code: string | null | undefined): boolean;
  /** Is any coding of the concept (a CodeableConcept or a list of Codings) in the value set? */
  inValueSet(valueSetId: ValueSetId, concept?: CodeableConcept | Coding[] | null): boolean;
  /** The first coding of the concept that is in the value set. */
  matchingCoding(valueSetId: ValueSetId, concept?: CodeableConcept | Coding[] | null): Coding | null;
  /** 'code' when a coding is in the Ketamine value set, 'text' when only its text or a display names ketamine. */
  ketamineRecognition(concept?: CodeableConcept | null): KetamineRecognition;
  /** Does this free text name ketamine? */
  textNamesKetamine(text: string | null | undefined): boolean;
  /** cql-execution's terminology provider over the same expansions. */
  readonly codeService: TerminologyProvider;
}

export class TerminologyError extends Error {
  constructor(dir: string, problems: string[]) {
    super(`Value sets in ${dir} are invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'TerminologyError';
  }
}

const key = (system: string, code: string): string => `${system}|${code}`;

/** A cql-execution ValueSet whose membership test is a hash lookup (same semantics as codesMatch: code and system). */
class IndexedValueSet extends CqlValueSet {
  private readonly index: ReadonlySet<string>;

  constructor(url: string, version: string | undefined, codes: CqlCode[]) {
    super(url, version, codes);
    this.index = new Set(codes.map((c) => key(c.system ?? '', c.code)));
  }

  /** Is system|code in the expansion? (for callers holding raw codes) */
  hasSystemCode(system: string | undefined, code: string): boolean {
    return this.index.has(key(system ?? '', code));
  }

  override hasMatch(code: unknown): boolean {
    const candidates: unknown[] = [];
    collectCodes(code, candidates);
    let found = false;
    for (const c of candidates) {
      // The string overload ("'x' in ValueSet") keeps the engine's own semantics.
      if (typeof c === 'string') return super.hasMatch(code);
      if (!found && c != null && typeof c === 'object') {
        found = this.index.has(key(String((c as CqlCode).system ?? ''), String((c as CqlCode).code)));
      }
    }
    return found;
  }
}

/** The codes of a Code, a Concept, or (nested) lists of them, as the engine's toCodeList. */
function collectCodes(value: unknown, out: unknown[]): void {
  if (value == null) return;
  if (Array.isArray(value)) {
    for (const item of value) collectCodes(item, out);
  } else if (typeof value === 'object' && Array.isArray((value as { codes?: unknown }).codes)) {
    for (const c of (value as { codes: unknown[] }).codes) out.push(c);
  } else {
    out.push(value);
  }
}

function codingsOf(concept?: CodeableConcept | Coding[] | null): Coding[] {
  if (!concept) return [];
  return Array.isArray(concept) ? concept : (concept.coding ?? []);
}

function problemsOf(id: ValueSetId, vs: ValueSet): string[] {
  const problems: string[] = [];
  const expectedUrl = VALUE_SET_BASE_URL + id;
  if (vs.resourceType !== 'ValueSet') problems.push(`${id}: resourceType is ${String(vs.resourceType)}, not ValueSet`);
  if (vs.id !== id) problems.push(`${id}: id is ${String(vs.id)}`);
  if (vs.url !== expectedUrl) problems.push(`${id}: url is ${String(vs.url)}, expected ${expectedUrl}`);
  if (!vs.version) problems.push(`${id}: no version`);
  if (!vs.compose) problems.push(`${id}: no compose`);
  const contains = vs.expansion?.contains ?? [];
  if (contains.length === 0) problems.push(`${id}: no expansion.contains`);
  contains.forEach((c, i) => {
    if (!c.system || !c.code) problems.push(`${id}: expansion.contains[${i}] lacks system or code`);
  });
  return problems;
}

/** Load and check every expected value set from `dir` (default fhir-resources/ValueSet). */
export function loadTerminology(dir: string = DEFAULT_VALUE_SET_DIR): Terminology {
  const byId = new Map<string, ValueSet>();
  const problems: string[] = [];
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch (err) {
    throw new TerminologyError(dir, [`cannot be read: ${(err as Error).message}`]);
  }
  for (const file of files) {
    try {
      const vs = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as ValueSet;
      if (vs.id) byId.set(vs.id, vs);
    } catch (err) {
      problems.push(`${file}: not JSON (${(err as Error).message})`);
    }
  }
  const valueSets = new Map<ValueSetId, ValueSet>();
  for (const id of VALUE_SET_IDS) {
    const vs = byId.get(id);
    if (!vs) {
      problems.push(`${id}: missing (expected ${id}.json)`);
      continue;
    }
    problems.push(...problemsOf(id, vs));
    valueSets.set(id, vs);
  }
  if (problems.length > 0) throw new TerminologyError(dir, problems);
  return createTerminology(valueSets);
}

function createTerminology(valueSets: Map<ValueSetId, ValueSet>): Terminology {
  const members = new Map<ValueSetId, ReadonlySet<string>>();
  const byUrl = new Map<string, IndexedValueSet>();
  for (const [id, vs] of valueSets) {
    const contains = vs.expansion?.contains ?? [];
    members.set(id, new Set(contains.map((c) => key(c.system ?? '', c.code ?? ''))));
    const codes = contains.map((c) => new CqlCode(c.code ?? '', c.system, c.version, c.display));
    byUrl.set(
      vs.url ?? VALUE_SET_BASE_URL + id,
      new IndexedValueSet(vs.url ?? VALUE_SET_BASE_URL + id, vs.version, codes),
    );
  }

  const contains = (id: ValueSetId, system: string | null | undefined, code: string | null | undefined): boolean =>
    !!system && !!code && (members.get(id)?.has(key(system, code)) ?? false);
  const matchingCoding = (id: ValueSetId, concept?: CodeableConcept | Coding[] | null): Coding | null =>
    codingsOf(concept).find((c) => contains(id, c.system, c.code)) ?? null;
  const textNamesKetamine = (text: string | null | undefined): boolean =>
    !!text && KETAMINE_TEXT.test(text.toLowerCase());

  const codeService: TerminologyProvider = {
    findValueSetsByOid: (oid: string) => {
      const vs = byUrl.get(oid);
      return vs ? [vs] : [];
    },
    findValueSet: (oid: string, version?: string) => {
      const vs = byUrl.get(oid);
      if (!vs) return null;
      return version == null || version === vs.version ? vs : null;
    },
  };

  return {
    valueSets,
    url: (id) => VALUE_SET_BASE_URL + id,
    codes: (id) => (valueSets.get(id)?.expansion?.contains ?? []).flatMap((c) => (c.code ? [c.code] : [])),
    contains,
    inValueSet: (id, concept) => matchingCoding(id, concept) !== null,
    matchingCoding,
    textNamesKetamine,
    ketamineRecognition: (concept) => {
      if (!concept) return null;
      if (matchingCoding('ketamine', concept)) return 'code';
      if (textNamesKetamine(concept.text) || codingsOf(concept).some((c) => textNamesKetamine(c.display)))
        return 'text';
      return null;
    },
    codeService,
  };
}
