/**
 * A light, memoising view of FHIR JSON for cql-execution: the same contract and answers as
 * cql-exec-fhir's FHIRObject (get / getId / getCode / getDate / getDateOrInterval / _is /
 * _typeHierarchy), over cql-exec-fhir's own parsed FHIR 4.0.1 model info, but:
 * - constructing one costs an object, not one property definition per model element (FHIRObject's
 *   constructor measured ~28 µs for an Observation; a record of a few hundred resources spent most
 *   of its 130 ms evaluation building them);
 * - each element is converted once per object (queries read the same time or code repeatedly), and
 *   how a field name maps to a JSON property and a type is resolved once per class, not per read;
 * - the codes the engine's retrieve filter asks for (getCode) are read straight from the JSON when the
 *   element is a plain CodeableConcept or Coding;
 * - a FHIR dateTime in the common full form, and a date (or dateTime) charted as YYYY, YYYY-MM or
 *   YYYY-MM-DD, is read without the engine's generic (luxon) parser (~85 µs a call), into exactly the
 *   DateTime or Date that parser would build; any other form falls back to it.
 * The engine reads properties as obj[name] and falls back to obj.get(name): this class has no
 * property named like a FHIR element, so every element read goes through get().
 */
import { Code, Date as CqlDate, DateTime, Interval } from 'cql-execution';
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

/**
 * The FHIR 4.0.1 model info as parsed by cql-exec-fhir (one parse, shared, read-only), reached through its
 * public API: FHIRWrapper.wrap() and FHIRObject.getTypeInfo() (both in its typings), and the class info's
 * `modelInfo` getter, which cql-exec-fhir's own type hierarchy reads. test/cql/fhir-record.test.ts fails
 * loudly when an upgrade changes that.
 */
export function loadFhirModelInfo(): ModelInfo {
  const typeInfo = FHIRWrapper.FHIRv401().wrap({ resourceType: 'Patient' }).getTypeInfo() as
    { modelInfo?: ModelInfo } | undefined;
  const modelInfo = typeInfo?.modelInfo;
  if (!modelInfo || typeof modelInfo.findClass !== 'function') {
    throw new Error(
      'cql-exec-fhir no longer gives its parsed model info (FHIRWrapper.wrap().getTypeInfo().modelInfo); check its version',
    );
  }
  return modelInfo;
}

const normalizeChoiceName = (name: string): string => (name === 'SimpleQuantity' ? 'Quantity' : name);
const choicePropertyName = (element: ClassElement, choice: TypeSpecifier): string => {
  const choiceName = normalizeChoiceName(choice.name);
  return `${element.name}${choiceName.charAt(0).toUpperCase()}${choiceName.slice(1)}`;
};

/** YYYY-MM-DDThh:mm:ss[.mmm](Z|±hh:mm), the form EHRs chart (positional groups: no groups object per read). */
const FULL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;
const MINUTES_PER_HOUR = MS_PER_HOUR / MS_PER_MINUTE;
const HOURS_PER_DAY = MS_PER_DAY / MS_PER_HOUR;
/** Months in a year, read off the calendar (December is month index 11 of a UTC date). */
const MONTHS_PER_YEAR = new Date(Date.UTC(0, 0, 0)).getUTCMonth() + 1;

/** Is day a day of that month (month 1–12)? Date.UTC rolls an overflowing day into the next month. */
const isCalendarDay = (year: number, month: number, day: number): boolean =>
  day >= 1 && Date.UTC(year, month - 1, day) < Date.UTC(year, month, 1);

/** YYYY, YYYY-MM or YYYY-MM-DD. */
const PARTIAL_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

/** Year, month and day of a valid YYYY[-MM[-DD]] (null parts when not charted); null when not that form or invalid. */
function partialDate(text: string): [number, number | null, number | null] | null {
  const m = PARTIAL_DATE.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  const month = m[2] != null ? Number(m[2]) : null;
  const day = m[3] != null ? Number(m[3]) : null;
  // Only what the generic parser surely accepts (year 0 and invalid dates are left to it).
  if (year < 1) return null;
  if (month !== null && (month < 1 || month > MONTHS_PER_YEAR)) return null;
  if (month !== null && day !== null && !isCalendarDay(year, month, day)) return null;
  return [year, month, day];
}

/** A FHIR date string as the CQL Date cql-exec-fhir would build (DateTime.parse(text).getDate()). */
export function parseFhirDate(text: string): CqlDate | null {
  const parts = partialDate(text);
  if (parts) return new CqlDate(...parts);
  const parsed = DateTime.parse(text);
  return parsed != null ? parsed.getDate() : null;
}

/** A FHIR dateTime/instant string as the CQL DateTime cql-exec-fhir would build (DateTime.parse). */
export function parseFhirDateTime(text: string): DateTime | null {
  const g = FULL_DATE_TIME.exec(text);
  if (g) {
    const year = Number(g[1]);
    const month = Number(g[2]);
    const day = Number(g[3]);
    const hour = Number(g[4]);
    const minute = Number(g[5]);
    const second = Number(g[6]);
    // Only the ranges the generic parser accepts take the fast path; anything else falls back to it.
    if (
      year >= 1 &&
      month >= 1 &&
      month <= MONTHS_PER_YEAR &&
      isCalendarDay(year, month, day) &&
      hour < HOURS_PER_DAY &&
      minute < MINUTES_PER_HOUR &&
      second < MINUTES_PER_HOUR
    ) {
      const magnitude = g[8] ? 0 : Number(g[10]) + Number(g[11]) / MINUTES_PER_HOUR;
      const offset = g[9] === '-' ? -magnitude : magnitude;
      const millisecond = g[7] != null ? Number(g[7]) : null;
      return new DateTime(year, month, day, hour, minute, second, millisecond, offset);
    }
  }
  const parts = partialDate(text);
  // No time: the engine's parser leaves the offset undefined, and the constructor fills in the local one.
  if (parts) return new DateTime(...parts, null, null, null, null, undefined);
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
      const parsed = typeof data === 'string' ? parseFhirDate(data) : null;
      return parsed != null ? parsed : undefined;
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

/**
 * A property of the JSON, merging a primitive's `_property` (id, extensions) as cql-exec-fhir does.
 * `target` says where to read and whether the type is a FHIR primitive (resolved once per class and field).
 */
function propertyFromJson(json: Json, target: Target): unknown {
  const value = json[target.property];
  const extra = json[target.extension];
  if (value == null && extra == null) return value;
  if (!target.primitive) return value;
  if (!target.typeSpecifier.isList) {
    // One primitive: { value, ...its `_property` } (what the general case below builds for it).
    const item: Json = {};
    if (typeof value !== 'undefined') item['value'] = value;
    if (extra != null) Object.assign(item, extra);
    return item;
  }
  const values: unknown[] = Array.isArray(value) ? [...(value as unknown[])] : [value];
  const extras: unknown[] = Array.isArray(extra) ? [...(extra as unknown[])] : [extra];
  while (values.length > extras.length) extras.push(undefined);
  while (extras.length > values.length) values.push(undefined);
  return values.map((v, i) => {
    const e = extras[i];
    if (v == null && e == null) return v;
    const item: Json = {};
    if (typeof v !== 'undefined') item['value'] = v;
    if (e != null) Object.assign(item, e);
    return item;
  });
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

/** Everything a record needs to know about its class, built once per class of the model info. */
interface RecordClass {
  info: ClassInfo;
  modelInfo: ModelInfo;
  /** Field name → how to read it (null: no such element). */
  plans: Map<string, FieldPlan | null>;
}

/** A JSON property and its type, with what reading it needs resolved in advance. */
interface Target {
  property: string;
  /** `_property`: a primitive's id and extensions. */
  extension: string;
  typeSpecifier: TypeSpecifier;
  /** The System type name when the type is a System type (read as a CQL value, no record). */
  systemType: string | null;
  /** A FHIR primitive (its `_property` is merged in). */
  primitive: boolean;
  /** The record class of a named type. */
  recordClass: RecordClass | null;
  /** What getCode reads straight from the JSON. */
  codeKind: 'Coding' | 'CodeableConcept' | null;
}

/** How a field name reads a class's JSON: resolved once per class and field. */
interface FieldPlan {
  /** The rest of a dotted field name (read on the element's record). */
  suffix: string | undefined;
  /** The JSON property and type (the fallback of a choice, which the JSON does not hold). */
  target: Target | null;
  /** A choice element (not named explicitly): the first choice present in the JSON wins. */
  choices: Target[] | null;
}

const recordClasses = new WeakMap<ClassInfo, RecordClass>();
function recordClassOf(info: ClassInfo, modelInfo: ModelInfo): RecordClass {
  let recordClass = recordClasses.get(info);
  if (!recordClass) {
    recordClass = { info, modelInfo, plans: new Map() };
    recordClasses.set(info, recordClass);
  }
  return recordClass;
}

function targetOf(property: string, typeSpecifier: TypeSpecifier, modelInfo: ModelInfo): Target {
  const info = typeSpecifier.isNamed ? classOf(typeSpecifier, modelInfo) : null;
  const className = info?.name.replace(/^FHIR\./, '');
  return {
    property,
    extension: `_${property}`,
    typeSpecifier,
    systemType: typeSpecifier.namespace === 'System' ? typeSpecifier.name : null,
    primitive: isFhirPrimitive(typeSpecifier, modelInfo),
    recordClass: info ? recordClassOf(info, modelInfo) : null,
    codeKind: className === 'Coding' || className === 'CodeableConcept' ? className : null,
  };
}

function planOf(recordClass: RecordClass, field: string): FieldPlan | null {
  let plan = recordClass.plans.get(field);
  if (plan === undefined) {
    plan = makePlan(recordClass, field);
    recordClass.plans.set(field, plan);
  }
  return plan;
}

function makePlan({ info, modelInfo }: RecordClass, field: string): FieldPlan | null {
  const dot = field.indexOf('.');
  const root = dot < 0 ? field : field.slice(0, dot);
  const suffix = dot < 0 ? undefined : field.slice(dot + 1);
  const element = info.findElement(root, true);
  if (!element) return null;
  if (root !== element.name && element.typeSpecifier.isChoice) {
    // An explicit choice name (e.g. medicationCodeableConcept): only that choice.
    const typeSpecifier = element.typeSpecifier.choices.find((c) => choicePropertyName(element, c) === root);
    return { suffix, target: typeSpecifier ? targetOf(root, typeSpecifier, modelInfo) : null, choices: null };
  }
  const choices = element.typeSpecifier.isChoice
    ? element.typeSpecifier.choices
        .filter((choice) => choice.isNamed)
        .map((choice) => targetOf(choicePropertyName(element, choice), choice, modelInfo))
    : null;
  return { suffix, target: targetOf(element.name, element.typeSpecifier, modelInfo), choices };
}

/** The System type of a primitive class's `value` element (null when it is not a plain System value). */
const valueTypes = new WeakMap<RecordClass, string | null>();
function primitiveValueType(recordClass: RecordClass): string | null {
  let type = valueTypes.get(recordClass);
  if (type === undefined) {
    const plan = planOf(recordClass, 'value');
    type = plan && plan.suffix === undefined && plan.choices === null ? (plan.target?.systemType ?? null) : null;
    valueTypes.set(recordClass, type);
  }
  return type;
}

/** The JSON property and type a plan reads in this JSON. */
function resolve(plan: FieldPlan, json: Json): Target | null {
  if (plan.choices) {
    for (const choice of plan.choices) {
      if (json[choice.property] != null || json[choice.extension] != null) return choice;
    }
  }
  return plan.target;
}

/**
 * The only enumerable own property is `_json`: the engine's distinct/equality (immutable hashing of
 * own enumerable properties, then the type hierarchy) then compares records by their charted
 * content, as it compares cql-exec-fhir's FHIRObjects by their elements. The class and the memo are
 * true private fields (invisible to hashing and to property reads).
 */
export class FhirRecord {
  readonly _json: Json;
  readonly #class: RecordClass;
  // The memo: most records (a primitive's value, a code, a period) are read for one or two fields,
  // which are kept in slots; a Map is made only for a third field.
  #field1: string | undefined;
  #value1: unknown;
  #field2: string | undefined;
  #value2: unknown;
  #more: Map<string, unknown> | undefined;

  constructor(json: Json, recordClass: RecordClass) {
    this._json = json;
    this.#class = recordClass;
  }

  get(field: string): unknown {
    if (this.#field1 === field) return this.#value1;
    if (this.#field2 === field) return this.#value2;
    const more = this.#more;
    if (more !== undefined) {
      const cached = more.get(field);
      if (cached !== undefined || more.has(field)) return cached;
    }
    const value = this.#read(field);
    if (this.#field1 === undefined) {
      this.#field1 = field;
      this.#value1 = value;
    } else if (this.#field2 === undefined) {
      this.#field2 = field;
      this.#value2 = value;
    } else {
      (this.#more ??= new Map()).set(field, value);
    }
    return value;
  }

  #read(field: string): unknown {
    if (this._json == null) return this._json;
    const plan = planOf(this.#class, field);
    if (!plan) return undefined;
    const target = resolve(plan, this._json);
    if (!target) return undefined;
    if (target.systemType !== null) {
      return plan.suffix != null ? undefined : toSystemObject(this._json[target.property], target.systemType);
    }
    if (plan.suffix === 'value' && target.primitive && target.recordClass && !target.typeSpecifier.isList) {
      // `x.value` of a primitive without `_x`: its System value, without building the { value } record that
      // the general path below builds only to read `value` from it (most reads in the libraries are these).
      const valueType = primitiveValueType(target.recordClass);
      if (valueType !== null && this._json[target.extension] == null) {
        const value = this._json[target.property];
        return value == null ? value : toSystemObject(value, valueType);
      }
    }
    const data = propertyFromJson(this._json, target);
    if (data == null) return data;
    if (target.recordClass) {
      const record = new FhirRecord(data as Json, target.recordClass);
      return plan.suffix != null ? record.get(plan.suffix) : record;
    }
    return toRecord(data, target.typeSpecifier, this.#class.modelInfo, plan.suffix);
  }

  getId(): unknown {
    return this._json['id'];
  }

  getCode(field: string): unknown {
    const raw = this.#rawCode(field);
    if (raw !== NOT_RAW) return raw;
    const code = this.get(field);
    return code instanceof Code ? code : toCode(code);
  }

  /** toCode(get(field)) read straight from the JSON, for a plain CodeableConcept or Coding (else NOT_RAW). */
  #rawCode(field: string): unknown {
    if (this._json == null) return NOT_RAW;
    const plan = planOf(this.#class, field);
    if (!plan || plan.suffix != null) return NOT_RAW;
    const target = resolve(plan, this._json);
    if (!target?.codeKind) return NOT_RAW;
    const value = this._json[target.property];
    if (target.codeKind === 'Coding') return rawCoding(value);
    if (value == null) return value;
    if (!isPlainObject(value)) return NOT_RAW;
    const coding = value['coding'];
    if (coding == null) return coding;
    if (!Array.isArray(coding)) return NOT_RAW;
    const codes: unknown[] = [];
    for (const item of coding) {
      const code = item == null ? item : rawCoding(item);
      if (code === NOT_RAW) return NOT_RAW;
      codes.push(code);
    }
    return codes.length === 1 ? codes[0] : codes;
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
    return typeHierarchyOf(this.#class.info);
  }

  getTypeInfo(): ClassInfo {
    return this.#class.info;
  }
}

const NOT_RAW = Symbol('not readable raw');

const isPlainObject = (value: unknown): value is Json =>
  value != null && typeof value === 'object' && !Array.isArray(value);

/** A Coding's JSON as the Code toCode builds from its record; NOT_RAW when a primitive carries an extension. */
function rawCoding(value: unknown): unknown {
  if (value == null) return value;
  if (!isPlainObject(value)) return NOT_RAW;
  if ('_code' in value || '_system' in value || '_version' in value || '_display' in value) return NOT_RAW;
  return new Code(
    value['code'] as string,
    value['system'] as string | undefined,
    value['version'] as string | undefined,
    value['display'] as string | undefined,
  );
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
    const record = new FhirRecord(data as Json, recordClassOf(info, modelInfo));
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
  let classes = resourceClasses.get(modelInfo);
  if (!classes) {
    classes = new Map();
    resourceClasses.set(modelInfo, classes);
  }
  const type = String(json['resourceType']);
  let info = classes.get(type);
  if (info === undefined) {
    info = modelInfo.findClass(type) ?? null;
    classes.set(type, info);
  }
  return info ? new FhirRecord(json, recordClassOf(info, modelInfo)) : undefined;
}

const resourceClasses = new WeakMap<ModelInfo, Map<string, ClassInfo | null>>();
