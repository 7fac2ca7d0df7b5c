/**
 * The light FHIR records the evaluator hands cql-execution answer as cql-exec-fhir's FHIRObjects
 * do (same model info, same conversions), only faster.
 */
import { DateTime, type Date as CqlDate } from 'cql-execution';
import { FHIRWrapper } from 'cql-exec-fhir';
import { loadFhirModelInfo, parseFhirDate, parseFhirDateTime, wrapResource } from '../../src/cql/fhir-record';

const modelInfo = loadFhirModelInfo();
const reference = FHIRWrapper.FHIRv401();

const fields = (d: DateTime | null) =>
  d && [d.year, d.month, d.day, d.hour, d.minute, d.second, d.millisecond, d.timezoneOffset, d.getPrecision()];

describe("cql-exec-fhir's model info, reached through its public API only", () => {
  it('when cql-exec-fhir is upgraded, its FHIR 4.0.1 model info is still reachable, the kind its own objects use', () => {
    expect([modelInfo.name, modelInfo.url]).toEqual(['FHIR', 'http://hl7.org/fhir']);
    expect(modelInfo.findClass('Observation')?.findElement('effective')?.typeSpecifier.isChoice).toBe(true);
    const typeInfo = reference.wrap({ resourceType: 'Observation', id: 'o' }).getTypeInfo() as {
      name: string;
      modelInfo: typeof modelInfo;
    };
    expect(typeInfo.name).toBe('Observation');
    expect(typeInfo.modelInfo.findClass('Observation')?.name).toBe('Observation');
  });
});

describe('reading FHIR dateTimes', () => {
  it.each([
    '2026-11-24T15:00:00Z',
    '2026-11-24T15:00:00.123Z',
    '2026-11-24T15:00:00+02:00',
    '2026-11-24T15:00:00-05:30',
    '2026-11-24T15:00:00-00:00',
    '2024-02-29T23:59:59+14:00',
    '2026-11-24T15:00:00.5Z',
    '2026-11-24T15:00Z',
    '2026-11-24',
    '2026-11',
    '2026',
    '2026-02-30T10:00:00Z',
    '2024-02-29T10:00:00Z',
    '2023-02-29T10:00:00Z',
    '2026-04-31T10:00:00Z',
    '2026-13-01T10:00:00Z',
    '2026-00-10T10:00:00Z',
    '0050-03-01T10:00:00Z',
    '0000-03-01T10:00:00Z',
    '2026-11-24T24:00:00Z',
    '2024-02-29',
    '2023-02-29',
    '2026-13',
    '0000',
  ])('%s is read into exactly the DateTime the engine parser builds', (text) => {
    expect(fields(parseFhirDateTime(text))).toEqual(fields(DateTime.parse(text.replace('Z', '+00:00'))));
  });

  it.each([
    '2026-11-24',
    '2026-11',
    '2026',
    '2024-02-29',
    '2023-02-29',
    '2026-00',
    '2026-13-01',
    '0000-01-01',
    '1984-5-17',
  ])('the date %s is read into exactly the Date the engine parser builds', (text) => {
    const dateFields = (d: CqlDate | null) => d && [d.year, d.month, d.day, d.isDate];
    expect(dateFields(parseFhirDate(text))).toEqual(dateFields(DateTime.parse(text)?.getDate() ?? null));
  });
});

describe('records', () => {
  const observation = {
    resourceType: 'Observation',
    id: 'o1',
    status: 'final',
    _status: { extension: [{ url: 'http://example.org/x', valueString: 'y' }] },
    code: { coding: [{ system: 'http://loinc.org', code: '72514-3', display: 'Pain' }], text: 'Pain score' },
    effectiveDateTime: '2026-11-24T10:00:00+01:00',
    valueQuantity: { value: 6, unit: 'score', code: '{score}' },
    interpretation: [{ coding: [{ code: 'H' }, { code: 'A' }] }],
    component: [{ code: { text: 'x' }, valueInteger: 3 }],
  };

  it('read the same values as cql-exec-fhir FHIRObjects (choices, primitives with extensions, lists, codes)', () => {
    const mine = wrapResource(observation, modelInfo);
    const theirs = reference.wrap(observation);
    const leaf = (o: unknown, ...path: string[]): unknown => {
      let v: unknown = o;
      for (const p of path) {
        v = Array.isArray(v)
          ? v.map((x) => (x as { get(f: string): unknown }).get(p))
          : (v as { get(f: string): unknown } | null)?.get(p);
      }
      if (Array.isArray(v)) return v.map((x) => String(x?.get?.('value') ?? x));
      return String((v as { get?(f: string): unknown })?.get?.('value') ?? v);
    };
    const paths = [
      ['id'],
      ['status'],
      ['effective'],
      ['value', 'value'],
      ['value', 'code'],
      ['code', 'text'],
      ['code', 'coding', 'system'],
      ['code', 'coding', 'code'],
      ['component', 'value'],
    ];
    for (const path of paths) expect([path, leaf(mine, ...path)]).toEqual([path, leaf(theirs, ...path)]);
    expect(String(mine?.getCode('code'))).toBe(String(theirs.getCode('code')));
    expect(JSON.stringify(mine?.getCode('code'))).toBe(JSON.stringify(theirs.getCode('code')));
    expect(mine?._typeHierarchy()).toEqual(theirs._typeHierarchy());
    expect(mine?.getId()).toBe('o1');
  });

  it('expose only their charted JSON as content, so the engine compares and de-duplicates them by content', () => {
    const record = wrapResource(observation, modelInfo);
    expect(Object.keys(record ?? {})).toEqual(['_json']);
  });
});
