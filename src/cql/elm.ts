/**
 * Load the compiled ELM (fhir-resources/elm, built by `npm run cql:build`) and check, once at
 * startup, what the engine would otherwise get wrong silently: a missing entry library or define, an
 * unresolvable include, a parameter name that no library declares (cql-execution accepts it and
 * evaluates the parameter as null), a parameter left without a value, an unknown value set.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Library, Repository } from 'cql-execution';
import type { TerminologyProvider } from 'cql-execution';
import { projectPath } from '../config/paths';
import type { HookName } from '../contract/cds-hooks';
import { optimizeElm } from './elm-optimize';

export const DEFAULT_ELM_DIR = projectPath('fhir-resources', 'elm');

/** The entry library of each hook: one for the three (they read the same record and need the same facts). */
export const ENTRY_LIBRARIES: Readonly<Record<HookName, string>> = {
  'patient-view': 'KetamineProtocol',
  'order-select': 'KetamineProtocol',
  'order-sign': 'KetamineProtocol',
};

interface ElmIdentifier {
  id: string;
  version?: string;
}
interface ElmParameterDef {
  name: string;
  accessLevel?: string;
  default?: unknown;
  parameterTypeSpecifier?: { type?: string; name?: string };
}
export interface ElmJson {
  library: {
    identifier: ElmIdentifier;
    annotation?: Array<{ type?: string; errorSeverity?: string; message?: string }>;
    includes?: { def?: Array<{ localIdentifier: string; path: string; version?: string }> };
    parameters?: { def?: ElmParameterDef[] };
    valueSets?: { def?: Array<{ name: string; id: string; version?: string }> };
    statements?: { def?: Array<{ name: string; type?: string; context?: string }> };
  };
}

export class ElmLoadError extends Error {
  constructor(problems: string[]) {
    super(`The compiled CQL (ELM) cannot be used:\n  - ${problems.join('\n  - ')}\nRun \`npm run cql:build\`.`);
    this.name = 'ElmLoadError';
  }
}

export function readElmDir(elmDir: string): Map<string, ElmJson> {
  const out = new Map<string, ElmJson>();
  let files: string[];
  try {
    files = readdirSync(elmDir).filter((f) => f.endsWith('.json'));
  } catch (err) {
    throw new ElmLoadError([`${elmDir} cannot be read: ${(err as Error).message}`]);
  }
  for (const file of files.sort()) {
    const json = JSON.parse(readFileSync(path.join(elmDir, file), 'utf8')) as ElmJson;
    if (json?.library?.identifier?.id) out.set(json.library.identifier.id, json);
  }
  return out;
}

/** JavaScript type a passed value must have for a declared System type (others are not checked here). */
const JS_TYPE_OF_SYSTEM_TYPE: Readonly<Record<string, string>> = {
  '{urn:hl7-org:elm-types:r1}String': 'string',
  '{urn:hl7-org:elm-types:r1}Boolean': 'boolean',
  '{urn:hl7-org:elm-types:r1}Integer': 'number',
  '{urn:hl7-org:elm-types:r1}Decimal': 'number',
};

/** The libraries reachable from `name` through includes (itself first). */
function reachable(name: string, elm: Map<string, ElmJson>, problems: string[], seen = new Set<string>()): ElmJson[] {
  if (seen.has(name)) return [];
  seen.add(name);
  const lib = elm.get(name);
  if (!lib) return [];
  const out = [lib];
  for (const inc of lib.library.includes?.def ?? []) {
    const target = elm.get(inc.path);
    if (!target) {
      problems.push(`${name} includes ${inc.path} ${inc.version ?? ''}, which is not in the ELM directory`);
      continue;
    }
    if (inc.version && target.library.identifier.version !== inc.version) {
      problems.push(
        `${name} includes ${inc.path} version ${inc.version}, but the ELM has version ${target.library.identifier.version ?? '(none)'}`,
      );
    }
    out.push(...reachable(inc.path, elm, problems, seen));
  }
  return out;
}

export interface LoadedEntry {
  hook: HookName;
  name: string;
  version: string | undefined;
  library: Library;
}

/**
 * Build one cql-execution Library per hook, after checking that each exposes `defines`, that every
 * passed parameter is declared (as a String when given a string) and every declared parameter without
 * a default is passed, and that every value set resolves in the terminology.
 */
export function loadEntryLibraries(options: {
  elmDir: string;
  defines: readonly string[];
  parameters: Readonly<Record<string, unknown>>;
  codeService: TerminologyProvider;
  /** Run the ELM through optimizeElm (default true; false runs the translator's ELM as is). */
  optimize?: boolean;
}): Record<HookName, LoadedEntry> {
  const elm = readElmDir(options.elmDir);
  const problems: string[] = [];

  for (const [name, lib] of elm) {
    for (const a of lib.library.annotation ?? []) {
      if (a.type === 'CqlToElmError' && a.errorSeverity === 'error')
        problems.push(`${name} was translated with an error: ${a.message ?? ''}`);
    }
  }

  const hooks = Object.keys(ENTRY_LIBRARIES) as HookName[];
  for (const hook of hooks) {
    const name = ENTRY_LIBRARIES[hook];
    const lib = elm.get(name);
    if (!lib) {
      problems.push(`entry library ${name} (${hook}) is missing from ${options.elmDir}`);
      continue;
    }
    const statements = new Map((lib.library.statements?.def ?? []).map((d) => [d.name, d]));
    for (const define of options.defines) {
      const def = statements.get(define);
      if (!def) problems.push(`entry library ${name} (${hook}) does not define "${define}"`);
      else if (def.type === 'FunctionDef' || (def.context && def.context !== 'Patient'))
        problems.push(`"${define}" in ${name} must be a Patient-context expression`);
    }

    const libs = reachable(name, elm, problems);
    const declared = new Map<string, ElmParameterDef>();
    for (const l of libs) for (const p of l.library.parameters?.def ?? []) declared.set(p.name, p);
    for (const [param, value] of Object.entries(options.parameters)) {
      const def = declared.get(param);
      if (!def) problems.push(`parameter "${param}" is passed but no library reachable from ${name} declares it`);
      else {
        const declared = def.parameterTypeSpecifier?.name ?? '';
        const expected = JS_TYPE_OF_SYSTEM_TYPE[declared];
        if (value != null && expected && typeof value !== expected)
          problems.push(`parameter "${param}" is declared ${declared} but passed a ${typeof value}`);
      }
    }
    for (const [param, def] of declared) {
      if (def.default === undefined && !(param in options.parameters))
        problems.push(`parameter "${param}" (declared without default, reachable from ${name}) is not passed`);
    }
    for (const l of libs) {
      for (const vs of l.library.valueSets?.def ?? []) {
        if (!options.codeService.findValueSet(vs.id, vs.version))
          problems.push(`value set "${vs.name}" (${vs.id}) of ${l.library.identifier.id} is not in the terminology`);
      }
    }
  }
  if (problems.length > 0) throw new ElmLoadError([...new Set(problems)]);

  // The engine runs a rewritten copy (fewer nodes, same answers: ./elm-optimize.ts); the checks above
  // and the files keep the translator's output.
  const runnable = new Map([...elm].map(([name, json]) => [name, structuredClone(json)]));
  if (options.optimize !== false) optimizeElm([...runnable.values()]);
  const repository = new Repository(Object.fromEntries(runnable));
  const entries = {} as Record<HookName, LoadedEntry>;
  for (const hook of hooks) {
    const json = runnable.get(ENTRY_LIBRARIES[hook]) as ElmJson;
    entries[hook] = {
      hook,
      name: json.library.identifier.id,
      version: json.library.identifier.version,
      library: new Library(json, repository),
    };
  }
  return entries;
}
