/**
 * A light, memoising view of FHIR JSON for cql-execution: the same contract and answers as
 * cql-exec-fhir's FHIRObject (get / getId / getCode / getDate / getDateOrInterval / _is /
 * _typeHierarchy), over cql-exec-fhir's own parsed FHIR 4.0.1 model info, but:
 * - constructing one costs an object, not one property definition per model element (FHIRObject's
 *   constructor measured ~28 µs for an Observation; a record of a few hundred resources spent most
 *   of its 130 ms evaluation building them);
 * - each element is converted once per object (queries read the same time or code repeatedly);
 * - a FHIR dateTime in the common full form is read without the engine's generic (luxon) parser,
 *   into exactly the DateTime that parser would build; any other form falls back to it.
 * The engine reads properties as obj[name] and falls back to obj.get(name): this class has no
 * property named like a FHIR element, so every element read goes through get().
 */
import { Code, DateTime, Interval } from 'cql-execution';
import { FHIRWrapper } from 'cql-exec-fhir';
import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE } from '../protocol/units';

interface TypeSpecifier {
  isNamed?: boolean;
  isList?: boolean;
  isChoice?: boolean;
  isInterval?: boolean;
  name: string;
  namespace?: string;
  fqn: string;
  elementType: TypeSpecifier;
  pointType: TypeSpecifier;
  choices: TypeSpecifier[];
}
interface ClassElement {
  name: string;
  typeSpecifier: TypeSpecifier;
}
interface ClassInfo {
  name: string;
  namespace: string;
  baseTypeSpecifier?: TypeSpecifier;
  elements: ClassElement[];
  modelInfo: ModelInfo;
  findElement(name: string, allowExplicitChoice?: boolean): ClassElement | undefined;
  parentClasses(): ClassInfo[];
}
export interface ModelInfo {
  name: string;
  url: string;
  findClass(name: string): ClassInfo | undefined;
}
interface TypeHierarchyEntry {
  name: string;
  type: 'NamedTypeSpecifier';
}

type Json = Record<string, unknown>;

/** The FHIR 4.0.1 model info as parsed by cql-exec-fhir (one parse, shared, read-only). */
export function loadFhirModelInfo(): ModelInfo {
  const modelInfo = (FHIRWrapper.FHIRv401() as unknown as { _modelInfo?: ModelInfo })._modelInfo;
  if (!modelInfo || typeof modelInfo.findClass !== 'function') {
    throw new Error(
      'cql-exec-fhir no longer exposes its parsed model info (FHIRWrapper._modelInfo); check its version',
    );
  }
  return modelInfo;
}

const normalizeChoiceName = (name: string): string => (name === 'SimpleQuantity' ? 'Quantity' : name);
const choicePropertyName = (element: ClassElement, choice: TypeSpecifier): string => {
  const choiceName = normalizeChoiceName(choice.name);
  return `${element.name}${choiceName.charAt(0).toUpperCase()}${choiceName.slice(1)}`;
};

/** YYYY-MM-DDThh:mm:ss[.mmm](Z|±hh:mm), the form EHRs chart. */
const FULL_DATE_TIME = new RegExp(
  '^(?<year>\\d{4})-(?<month>\\d{2})-(?<day>\\d{2})T(?<hour>\\d{2}):(?<minute>\\d{2}):(?<second>\\d{2})' +
    '(?:\\.(?<ms>\\d{3}))?(?:(?<utc>Z)|(?<sign>[+-])(?<offsetHours>\\d{2}):(?<offsetMinutes>\\d{2}))$',
);
const MINUTES_PER_HOUR = MS_PER_HOUR / MS_PER_MINUTE;
const HOURS_PER_DAY = MS_PER_DAY / MS_PER_HOUR;

/** A FHIR dateTime/instant string as the CQL DateTime cql-exec-fhir would build (DateTime.parse). */
export function parseFhirDateTime(text: string): DateTime | null {
  const g = FULL_DATE_TIME.exec(text)?.groups;
  if (g) {
    const year = Number(g['year']);
    const month = Number(g['month']);
    const day = Number(g['day']);
    const hour = Number(g['hour']);
    const minute = Number(g['minute']);
    const second = Number(g['second']);
    const valid = new Date(Date.UTC(year, month - 1, day));
    const dateOk = valid.getUTCFullYear() === year && valid.getUTCMonth() === month - 1 && valid.getUTCDate() === day;
    // Only the ranges the generic parser accepts take the fast path; anything else falls back to it.
    if (dateOk && hour < HOURS_PER_DAY && minute < MINUTES_PER_HOUR && second < MINUTES_PER_HOUR) {
      const magnitude = g['utc'] ? 0 : Number(g['offsetHours']) + Number(g['offsetMinutes']) / MINUTES_PER_HOUR;
      const offset = g['sign'] === '-' ? -magnitude : magnitude;
      const millisecond = g['ms'] != null ? Number(g['ms']) : null;
      return new DateTime(year, month, day, hour, minute, second, millisecond, offset);
    }
  }
  return DateTime.parse(text.replace('Z', '+00:00'));
}

/** Converts a JSON leaf to its CQL System type (as cql-exec-fhir's toSystemObject). */
function toSystemObject(data: unknown, name: string): unknown {
  if (data == null) return data;
  switch (name) {
    case 'Boolean':
    case 'Integer':
    case 'String':
    case 'Decimal':
      return data;
    case 'DateTime':
      return typeof data === 'string' ? parseFhirDateTime(data) : undefined;
    case 'Date': {
      const parsed = typeof data === 'string' ? DateTime.parse(data) : null;
      return parsed != null ? parsed.getDate() : undefined;
    }
    case 'Time': {
      if (typeof data !== 'string') return undefined;
      const time = DateTime.parse(`0000-01-01T${data.replace('Z', '+00:00')}`);
      if (time) (time as unknown as { timezoneOffset: number | null }).timezoneOffset = null;
      return time;
    }
    default:
      return undefined;
  }
}

const primitiveCache = new WeakMap<TypeSpecifier, boolean>();
function isFhirPrimitive(typeSpecifier: TypeSpecifier, modelInfo: ModelInfo): boolean {
  const cached = primitiveCache.get(typeSpecifier);
  if (cached !== undefined) return cached;
  let result = false;
  if (typeSpecifier.isNamed) {
    if (
      typeSpecifier.namespace === 'FHIR' &&
      typeSpecifier.name.charAt(0).toLowerCase() === typeSpecifier.name.charAt(0)
    )
      result = true;
    else {
      // Code-valued elements are classes with a single string `value` (e.g. ObservationStatus).
      const info = classOf(typeSpecifier, modelInfo);
      if (
        info &&
        info.baseTypeSpecifier &&
        info.baseTypeSpecifier.fqn === 'FHIR.Element' &&
        info.elements.length === 1
      ) {
        result = info.findElement('value')?.typeSpecifier.fqn === 'System.String';
      }
    }
  } else if (typeSpecifier.isList) {
    result = isFhirPrimitive(typeSpecifier.elementType, modelInfo);
  }
  primitiveCache.set(typeSpecifier, result);
  return result;
}

/** A property of the JSON, merging a primitive's `_property` (id, extensions) as cql-exec-fhir does. */
function propertyFromJson(json: Json, property: string, typeSpecifier: TypeSpecifier, modelInfo: ModelInfo): unknown {
  const value = json[property];
  const extra = json[`_${property}`];
  if (value == null && extra == null) return value;
  if (!isFhirPrimitive(typeSpecifier, modelInfo)) return value;
  const values: unknown[] = typeSpecifier.isList && Array.isArray(value) ? [...(value as unknown[])] : [value];
  const extras: unknown[] = typeSpecifier.isList && Array.isArray(extra) ? [...(extra as unknown[])] : [extra];
  while (values.length > extras.length) extras.push(undefined);
  while (extras.length > values.length) values.push(undefined);
  const data = values.map((v, i) => {
    const e = extras[i];
    if (v == null && e == null) return v;
    const item: Json = {};
    if (typeof v !== 'undefined') item['value'] = v;
    if (e != null) Object.assign(item, e);
    return item;
  });
  return typeSpecifier.isList ? data : data[0];
}

const hierarchyCache = new WeakMap<ClassInfo, TypeHierarchyEntry[]>();
function typeHierarchyOf(info: ClassInfo): TypeHierarchyEntry[] {
  let hierarchy = hierarchyCache.get(info);
  if (!hierarchy) {
    hierarchy = [info, ...info.parentClasses()].map((c) => {
      let namespace = c.namespace;
      if (namespace === c.modelInfo.name) namespace = c.modelInfo.url;
      else if (namespace === 'System') namespace = 'urn:hl7-org:elm-types:r1';
      let name = c.name;
      if (name.startsWith(`${c.modelInfo.name}.`)) name = name.slice(c.modelInfo.name.length + 1);
      return { name: `{${namespace}}${name}`, type: 'NamedTypeSpecifier' as const };
    });
    hierarchy.push({ name: '{urn:hl7-org:elm-types:r1}Any', type: 'NamedTypeSpecifier' });
    hierarchyCache.set(info, hierarchy);
  }
  return hierarchy;
}

/**
 * The only enumerable own property is `_json`: the engine's distinct/equality (immutable hashing of
 * own enumerable properties, then the type hierarchy) then compares records by their charted
 * content, as it compares cql-exec-fhir's FHIRObjects by their elements. Type info, model info and
 * the memo are true private fields (invisible to hashing and to property reads).
 */
export class FhirRecord {
  readonly _json: Json;
  readonly #typeInfo: ClassInfo;
  readonly #modelInfo: ModelInfo;
  readonly #cache = new Map<string, unknown>();

  constructor(json: Json, typeInfo: ClassInfo, modelInfo: ModelInfo) {
    this._json = json;
    this.#typeInfo = typeInfo;
    this.#modelInfo = modelInfo;
  }

  get(field: string): unknown {
    if (this.#cache.has(field)) return this.#cache.get(field);
    const value = this.#read(field);
    this.#cache.set(field, value);
    return value;
  }

  #read(field: string): unknown {
    if (this._json == null) return this._json;
    const dot = field.indexOf('.');
    const root = dot < 0 ? field : field.slice(0, dot);
    const suffix = dot < 0 ? undefined : field.slice(dot + 1);
    const element = this.#typeInfo.findElement(root, true);
    if (!element) return undefined;
    let property: string;
    let typeSpecifier: TypeSpecifier | undefined;
    if (root !== element.name && element.typeSpecifier.isChoice) {
      // An explicit choice name (e.g. medicationCodeableConcept): only that choice.
      property = root;
      typeSpecifier = element.typeSpecifier.choices.find((c) => choicePropertyName(element, c) === root);
    } else {
      property = element.name;
      typeSpecifier = element.typeSpecifier;
      if (typeSpecifier.isChoice) {
        for (const choice of typeSpecifier.choices) {
          if (!choice.isNamed) continue;
          const name = choicePropertyName(element, choice);
          if (this._json[name] != null || this._json[`_${name}`] != null) {
            property = name;
            typeSpecifier = choice;
            break;
          }
        }
      }
    }
    if (!typeSpecifier) return undefined;
    if (typeSpecifier.namespace === 'System') {
      return suffix != null ? undefined : toSystemObject(this._json[property], typeSpecifier.name);
    }
    const data = propertyFromJson(this._json, property, typeSpecifier, this.#modelInfo);
    if (data == null) return data;
    return toRecord(data, typeSpecifier, this.#modelInfo, suffix);
  }

  getId(): unknown {
    return this._json['id'];
  }

  getCode(field: string): unknown {
    const code = this.get(field);
    return code instanceof Code ? code : toCode(code);
  }

  getDate(field: string): unknown {
    const date = this.get(field);
    return !(date instanceof DateTime) && date instanceof FhirRecord ? date.get('value') : date;
  }

  getInterval(field: string): unknown {
    const interval = this.get(field);
    return !(interval instanceof Interval) && interval instanceof FhirRecord ? interval.get('value') : interval;
  }

  getDateOrInterval(field: string): unknown {
    const value = this.get(field);
    return !(value instanceof DateTime) && !(value instanceof Interval) && value instanceof FhirRecord
      ? value.get('value')
      : value;
  }

  _is(typeSpecifier: { type?: string; name?: string }): boolean {
    return this._typeHierarchy().some((t) => t.type === typeSpecifier.type && t.name == typeSpecifier.name);
  }

  _typeHierarchy(): TypeHierarchyEntry[] {
    return typeHierarchyOf(this.#typeInfo);
  }

  getTypeInfo(): ClassInfo {
    return this.#typeInfo;
  }
}

const classCache = new WeakMap<TypeSpecifier, ClassInfo | null>();
function classOf(typeSpecifier: TypeSpecifier, modelInfo: ModelInfo): ClassInfo | null {
  let info = classCache.get(typeSpecifier);
  if (info === undefined) {
    info = modelInfo.findClass(typeSpecifier.fqn) ?? null;
    classCache.set(typeSpecifier, info);
  }
  return info;
}

function toRecord(data: unknown, typeSpecifier: TypeSpecifier, modelInfo: ModelInfo, suffix?: string): unknown {
  if (data == null) return data;
  if (typeSpecifier.isNamed) {
    const info = classOf(typeSpecifier, modelInfo);
    if (!info) return undefined;
    const record = new FhirRecord(data as Json, info, modelInfo);
    return suffix != null ? record.get(suffix) : record;
  }
  if (typeSpecifier.isList) {
    if (suffix != null || !Array.isArray(data)) return undefined;
    return data.map((item) => toRecord(item, typeSpecifier.elementType, modelInfo));
  }
  if (typeSpecifier.isInterval) {
    const d = data as Json;
    return new Interval(
      toRecord(d['low'], typeSpecifier.pointType, modelInfo),
      toRecord(d['high'], typeSpecifier.pointType, modelInfo),
      d['lowClosed'] as boolean | undefined,
      d['highClosed'] as boolean | undefined,
    );
  }
  return undefined;
}

/** A FHIR CodeableConcept / Coding / code as CQL Code(s), as cql-exec-fhir's toCode. */
function toCode(value: unknown): unknown {
  if (value == null) return value;
  if (Array.isArray(value)) return value.map(toCode);
  if (!(value instanceof FhirRecord)) return undefined;
  const typeName = value.getTypeInfo().name.replace(/^FHIR\./, '');
  const leaf = (field: string): string | undefined => {
    const v = value.get(field);
    return v instanceof FhirRecord ? (v.get('value') as string | undefined) : (v as undefined);
  };
  if (typeName === 'CodeableConcept') {
    const coding = value.get('coding');
    if (coding == null) return coding;
    const codes = (coding as unknown[]).map(toCode);
    return codes.length === 1 ? codes[0] : codes;
  }
  if (typeName === 'Coding') return new Code(leaf('code') as string, leaf('system'), leaf('version'), leaf('display'));
  if (typeName === 'code') return value.get('value');
  return undefined;
}

/** Wrap a resource's JSON as a record of its resourceType. */
export function wrapResource(json: Json, modelInfo: ModelInfo): FhirRecord | undefined {
  const info = modelInfo.findClass(String(json['resourceType']));
  return info ? new FhirRecord(json, info, modelInfo) : undefined;
}
