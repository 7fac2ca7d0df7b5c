/**
 * The CQL evaluator: a patient's FHIR record (any bundle) → ClinicalFacts at `now`, by executing the
 * compiled ELM of the hook's entry library (fhir-resources/elm) with cql-execution, over
 * cql-exec-fhir's FHIR 4.0.1 model info.
 *
 * Everything heavy happens once, in createEvaluator: ELM checked (include/define/parameter/value set),
 * rewritten into fewer engine nodes with the same answers (./elm-optimize.ts) and parsed into Library
 * objects, terminology loaded, the FHIR model info parsed (read-only afterwards).
 * Each evaluation reads its record through its own light DataProvider (./data-provider.ts, with the
 * records of ./fhir-record.ts instead of cql-exec-fhir's PatientSource, which is not re-entrant and
 * re-wraps every resource on every retrieve), so no object holding per-patient state is ever shared
 * by two evaluations running at the same time.
 */
import { availableParallelism } from 'node:os';
import type { Bundle } from 'fhir/r4';
import { DateTime, Executor } from 'cql-execution';
import type { ClinicalFacts } from '../protocol/facts';
import { KETAMINE_TEXT_PATTERN, loadTerminology, type Terminology } from '../terminology';
import type { HookName } from '../contract/cds-hooks';
import { DEFAULT_ELM_DIR, ENTRY_LIBRARIES, loadEntryLibraries } from './elm';
import { prepareBundle } from './prepare';
import { RecordProviderFactory } from './data-provider';
import { FACT_DEFINES, toClinicalFacts, type DefineResults } from './to-facts';

export { DEFAULT_ELM_DIR, ENTRY_LIBRARIES, ElmLoadError } from './elm';
export { FACT_DEFINES } from './to-facts';
export { prepareBundle } from './prepare';

/** Canonical URL of the protocol's PlanDefinition (fhir-resources/PlanDefinition/ketamine-protocol.json). */
export const PLAN_DEFINITION_URL = 'https://ketamine-cds.example.org/fhir/PlanDefinition/ketamine-iv-chronic-migraine';

/** The CQL parameters the evaluator passes (checked against the ELM's declarations at load). */
export const CQL_PARAMETERS: Readonly<Record<string, unknown>> = Object.freeze({
  'Ketamine Text Pattern': KETAMINE_TEXT_PATTERN,
});

export interface EvaluatorOptions {
  /** Directory of ELM JSON files (default fhir-resources/elm). */
  elmDir?: string;
  /** Loaded value sets (default: loadTerminology()). */
  terminology?: Terminology;
  /** Most evaluations running at once; further ones wait their turn (default: available CPU parallelism). */
  poolSize?: number;
  /** Run the ELM through the load-time rewrite of ./elm-optimize.ts (default true; false for comparisons). */
  optimizeElm?: boolean;
}

export interface Evaluator {
  /**
   * ClinicalFacts of the patient in `bundle` (any bundle type; its entries' resources are the record) at `now`.
   * `signal` fires when the call gives up (deadline). In process the evaluation runs to its end once
   * started and `signal` only keeps a call that already gave up from starting one; the worker pool
   * (./pool.ts) rejects at once with the signal's reason.
   */
  evaluate(bundle: Bundle, now: Date, hook: HookName, signal?: AbortSignal): Promise<ClinicalFacts>;
  /** The entry library run for each hook (name and version), for audit and the Library resources. */
  readonly libraries: Readonly<Record<HookName, { name: string; version: string | undefined }>>;
  readonly terminology: Terminology;
}

/** At most `size` evaluations run at once; the others wait in turn (bounds memory under load). */
class Gate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}

export function createEvaluator(options: EvaluatorOptions = {}): Evaluator {
  const terminology = options.terminology ?? loadTerminology();
  const entries = loadEntryLibraries({
    elmDir: options.elmDir ?? DEFAULT_ELM_DIR,
    defines: FACT_DEFINES,
    parameters: CQL_PARAMETERS,
    codeService: terminology.codeService,
    optimize: options.optimizeElm !== false,
  });
  const executors = {} as Record<HookName, Executor>;
  for (const hook of Object.keys(ENTRY_LIBRARIES) as HookName[]) {
    executors[hook] = new Executor(entries[hook].library, terminology.codeService, { ...CQL_PARAMETERS });
  }
  const records = new RecordProviderFactory();
  const gate = new Gate(Math.max(1, Math.floor(options.poolSize ?? availableParallelism())));

  return {
    terminology,
    libraries: Object.fromEntries(
      (Object.keys(entries) as HookName[]).map((hook) => [
        hook,
        { name: entries[hook].name, version: entries[hook].version },
      ]),
    ) as Record<HookName, { name: string; version: string | undefined }>,

    async evaluate(bundle, now, hook, signal) {
      const executor = executors[hook];
      if (!executor) throw new Error(`No CQL entry library for hook ${String(hook)}`);
      signal?.throwIfAborted();
      const prepared = prepareBundle(bundle);
      return gate.run(async () => {
        signal?.throwIfAborted();
        // A provider per evaluation: nothing mutable is shared between concurrent evaluations.
        const results = await executor.exec(records.create(prepared.bundle), DateTime.fromJSDate(now, 0));
        const byPatient = results.patientResults as Record<string, DefineResults | undefined>;
        const patientResults = byPatient[prepared.patientId] ?? Object.values(byPatient)[0] ?? {};
        return toClinicalFacts(patientResults, prepared.patientId);
      });
    },
  };
}
