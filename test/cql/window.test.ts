/**
 * The window before CQL (src/cql/window.ts): only the resources a library retrieves go on, and the
 * facts are the same with and without it.
 */
import type { Bundle, FhirResource } from 'fhir/r4';
import { examplesDir } from '../../src/config/paths';
import { readBundle, readManifest } from '../../src/cli/examples';
import { createEvaluator, DEFAULT_ELM_DIR, ENTRY_LIBRARIES } from '../../src/cql';
import type { HookName } from '../../src/contract/cds-hooks';
import { readElmDir } from '../../src/cql/elm';
import { retrievesOf, windowRecord } from '../../src/cql/window';
import { loadTerminology } from '../../src/terminology';
import { concept, observation, SYSTEMS } from '../support/chart';

const HOOKS = Object.keys(ENTRY_LIBRARIES) as HookName[];
/** Every example × scenario time × hook, twice: generous on a loaded machine (no timing is asserted). */
const EXAMPLES_TIMEOUT_MS = 180_000;
const evaluator = createEvaluator();

/** Resources no library retrieves, an id-less one first (so positions shift), and an id-less pain score. */
function noise(at: string): { dropped: FhirResource[]; kept: FhirResource[] } {
  const dropped: FhirResource[] = [
    { resourceType: 'Practitioner', name: [{ family: 'Nobody' }] } as FhirResource,
    observation('noise-temp', concept(SYSTEMS.loinc, '8310-5', 'Body temperature'), at, {
      valueQuantity: { value: 37.1, code: 'Cel', system: SYSTEMS.ucum },
    }),
    {
      resourceType: 'Condition',
      id: 'noise-condition',
      code: concept(SYSTEMS.icd, 'J45.909', 'Asthma'),
      subject: { reference: 'Patient/p1' },
    } as FhirResource,
    { resourceType: 'Procedure', id: 'noise-procedure', status: 'completed', subject: { reference: 'Patient/p1' } },
  ];
  const idLessPain = observation('x', concept(SYSTEMS.loinc, '72514-3', 'Pain severity'), at, { valueInteger: 6 });
  delete (idLessPain as { id?: string }).id;
  return { dropped, kept: [idLessPain] };
}

describe('when a record is windowed before CQL', () => {
  it(
    'the facts are identical with and without the window, for every example, scenario time and hook',
    async () => {
      const dir = examplesDir();
      let compared = 0;
      for (const entry of readManifest(dir)) {
        const example = readBundle(dir, entry.file);
        const times = (entry.scenarioTimes ?? []).map((t) => t.at);
        for (const at of times) {
          const extra = noise(new Date(new Date(at).getTime() - 3_600_000).toISOString());
          const record: Bundle = {
            ...example,
            entry: [
              ...extra.dropped.slice(0, 1).map((resource) => ({ resource })),
              ...(example.entry ?? []),
              ...extra.kept.map((resource) => ({ resource })),
              {
                resource: {
                  resourceType: 'Bundle',
                  type: 'collection',
                  entry: extra.dropped.slice(1).map((resource) => ({ resource })),
                },
              },
            ],
          };
          const windowed = windowRecord(record);
          const types = (windowed.entry ?? []).map((e) => e.resource?.resourceType);
          const ids = (windowed.entry ?? []).map((e) => e.resource?.id);
          expect(types).not.toContain('Practitioner');
          expect(types).not.toContain('Procedure');
          expect(ids).not.toContain('noise-temp');
          expect(ids).not.toContain('noise-condition');
          expect(ids.filter((id) => id?.startsWith('observation-entry-'))).toHaveLength(1);
          for (const hook of HOOKS) {
            const [whole, cut] = await Promise.all([
              evaluator.evaluate(record, new Date(at), hook),
              evaluator.evaluate(windowed, new Date(at), hook),
            ]);
            expect(cut).toStrictEqual(whole);
            if (hook === 'patient-view')
              expect(cut.painScores.some((p) => p.id.startsWith('observation-entry-'))).toBe(true);
            compared += 1;
          }
        }
      }
      expect(compared).toBeGreaterThan(HOOKS.length * 10);
    },
    EXAMPLES_TIMEOUT_MS,
  );

  it('it keeps what it cannot read, and every resource of a type read without a code filter', () => {
    const oddCode = {
      resourceType: 'Observation',
      id: 'odd',
      status: 'final',
      code: 'not a CodeableConcept',
    } as unknown as FhirResource;
    const allergy = {
      resourceType: 'AllergyIntolerance',
      id: 'a1',
      patient: { reference: 'Patient/p1' },
    } as FhirResource;
    const windowed = windowRecord({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: { resourceType: 'Patient', id: 'p1' } }, { resource: oddCode }, { resource: allergy }],
    });
    expect(windowed.entry?.map((e) => e.resource?.id)).toEqual(['p1', 'odd', 'a1']);
  });

  it('it reads from the ELM which types are retrieved, and through which value sets', () => {
    const retrieves = retrievesOf(readElmDir(DEFAULT_ELM_DIR), loadTerminology());
    expect(retrieves?.get('MedicationAdministration')).toBe('all');
    expect(retrieves?.get('Practitioner')).toBeUndefined();
    const observationReads = retrieves?.get('Observation');
    expect(Array.isArray(observationReads) && observationReads.map((r) => r.codeProperty).sort()).toContain('value');
  });
});
