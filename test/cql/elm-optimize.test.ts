/**
 * The load-time rewrite of the ELM (src/cql/elm-optimize.ts): fewer nodes for the engine to run, and
 * exactly the facts of the translator's ELM.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle } from 'fhir/r4';
import { createEvaluator } from '../../src/cql';
import type { HookName } from '../../src/contract/cds-hooks';
import { optimizeElm } from '../../src/cql/elm-optimize';

const property = (p: string, source: Record<string, unknown>) => ({ type: 'Property', path: p, source });
const scoped = (p: string, scope: string) => ({ type: 'Property', path: p, scope });
const library = (expression: unknown) => ({ library: { statements: { def: [{ name: 'X', expression }] } } });
const expressionOf = (lib: ReturnType<typeof library>) => lib.library.statements.def[0]?.expression;

describe('the ELM rewrite', () => {
  it('a chain of property reads becomes one dotted read of the same scope or source', () => {
    const fromScope = library(property('value', property('status', scoped('effective', 'O'))));
    const fromExpression = library(property('value', property('code', { type: 'ExpressionRef', name: 'Patient' })));
    const stats = optimizeElm([fromScope, fromExpression]);
    expect(expressionOf(fromScope)).toEqual({ type: 'Property', path: 'effective.status.value', scope: 'O' });
    expect(expressionOf(fromExpression)).toEqual({
      type: 'Property',
      path: 'code.value',
      source: { type: 'ExpressionRef', name: 'Patient' },
    });
    expect(stats.joinedPaths).toBe(3);
  });

  it('a property read of an operand, an alias or a let becomes a read of that scope', () => {
    const libs = ['OperandRef', 'AliasRef', 'QueryLetRef'].map((type) =>
      library(property('value', { type, name: 'q' })),
    );
    const stats = optimizeElm(libs);
    for (const lib of libs) expect(expressionOf(lib)).toEqual({ type: 'Property', path: 'value', scope: 'q' });
    expect(stats.scopedReferences).toBe(3);
  });

  it('a property read of anything else (a type cast, a function) keeps its source, and other nodes are untouched', () => {
    const cast = { type: 'As', operand: scoped('effective', 'O'), asTypeSpecifier: { type: 'NamedTypeSpecifier' } };
    const lib = library({ type: 'Coalesce', operand: [property('value', cast), { type: 'Null' }] });
    const before = JSON.stringify(lib);
    const stats = optimizeElm([lib]);
    expect(JSON.stringify(lib)).toBe(before);
    expect(stats).toEqual({ joinedPaths: 0, scopedReferences: 0, identityQueries: 0 });
  });

  it('a reference named like something the library declares keeps its source (a scope would run that)', () => {
    const lib = {
      library: {
        statements: { def: [{ name: 'X', expression: property('value', { type: 'AliasRef', name: 'X' }) }] },
      },
    };
    expect(optimizeElm([lib]).scopedReferences).toBe(0);
    expect(lib.library.statements.def[0]?.expression).toEqual(property('value', { type: 'AliasRef', name: 'X' }));
  });

  it("a query that only returns its retrieve's elements becomes the retrieve; one that filters, sorts or de-duplicates stays", () => {
    const retrieve = { type: 'Retrieve', dataType: '{http://hl7.org/fhir}Encounter' };
    const query = (extra: Record<string, unknown> = {}, distinct = false) => ({
      type: 'Query',
      source: [{ alias: 'E', expression: retrieve }],
      let: [],
      relationship: [],
      return: { distinct, expression: { type: 'AliasRef', name: 'E' } },
      ...extra,
    });
    const identity = library({ type: 'List', element: [query()] });
    const kept = [
      query({ where: { type: 'Literal', value: 'true' } }),
      query({ sort: { by: [] } }),
      query({}, true),
      { ...query(), return: { distinct: false, expression: scoped('id', 'E') } },
    ].map(library);
    expect(optimizeElm([identity]).identityQueries).toBe(1);
    expect(expressionOf(identity)).toEqual({ type: 'List', element: [retrieve] });
    expect(optimizeElm(kept).identityQueries).toBe(0);
  });

  it('no path is joined when a tuple element is named with a dot (a joined path could name it)', () => {
    const lib = library({
      type: 'Tuple',
      element: [
        { name: 'a.b', value: { type: 'Null' } },
        { name: 'c', value: property('b', scoped('a', 'T')) },
      ],
    });
    expect(optimizeElm([lib]).joinedPaths).toBe(0);
  });
});

describe('the rewritten ELM', () => {
  const EXAMPLES = path.resolve(__dirname, '../../fhir-resources/examples');
  const index = JSON.parse(readFileSync(path.join(EXAMPLES, 'index.json'), 'utf8')) as Array<{
    file: string;
    scenarioTimes?: Array<{ at: string }>;
  }>;
  const optimized = createEvaluator({ optimizeElm: true });
  const asTranslated = createEvaluator({ optimizeElm: false });

  it.each(index.map((e) => [e.file, e] as const))(
    'gives exactly the facts of the translator ELM for %s, at each of its scenario times, in every hook',
    async (_file, example) => {
      const bundle = JSON.parse(readFileSync(path.join(EXAMPLES, example.file), 'utf8')) as Bundle;
      const times = (example.scenarioTimes ?? []).map((s) => new Date(s.at));
      expect(times.length).toBeGreaterThan(0);
      for (const now of times) {
        for (const hook of ['patient-view', 'order-select', 'order-sign'] as HookName[]) {
          const [a, b] = await Promise.all([
            optimized.evaluate(bundle, now, hook),
            asTranslated.evaluate(bundle, now, hook),
          ]);
          expect(a).toEqual(b);
        }
      }
    },
  );
});
