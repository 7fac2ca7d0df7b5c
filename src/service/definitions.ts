/**
 * The service definitions: data in cds-hooks/services/<id>.json (id, hook, title, description) and one
 * prefetch shared by every service, cds-hooks/prefetch.json (the three hooks read the same record). Checked
 * at startup (shape, file name = id, unique ids, every prefetch template valid) and served as the discovery
 * document. Discovery shows only the public fields of a definition, never configuration (CH-D4), and never
 * an empty value (CH-D2).
 *
 * A shared template names its codes by ValueSet, `code=ValueSet(pain-score)`: written out here as the
 * ValueSets' system|code list (expansion order), so the codes live only in fhir-resources/ValueSet.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv';
import { packageRoot } from '../config/paths';
import { validatePrefetchTemplates } from '../fhir/prefetch-template';
import { HOOKS, type ServiceDefinition } from '../contract/cds-hooks';
import { loadTerminology, VALUE_SET_IDS, type Terminology, type ValueSetId } from '../terminology';

export const SERVICES_DIR = path.join(packageRoot(), 'cds-hooks', 'services');
export const PREFETCH_FILE = path.join(packageRoot(), 'cds-hooks', 'prefetch.json');

/** One service file: what tells the services apart. */
type ServiceFile = Pick<ServiceDefinition, 'id' | 'hook' | 'title' | 'description'>;
/** The shared file: what every service has in common. */
type SharedFile = Required<Pick<ServiceDefinition, 'prefetch' | 'usageRequirements'>> & { description: string };

const DEFINITION_SCHEMA = {
  type: 'object',
  required: ['id', 'hook', 'title', 'description'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    hook: { enum: HOOKS },
    title: { type: 'string', minLength: 1 },
    description: { type: 'string', minLength: 1 },
  },
} as const;

const SHARED_SCHEMA = {
  type: 'object',
  required: ['description', 'prefetch', 'usageRequirements'],
  additionalProperties: false,
  properties: {
    description: { type: 'string', minLength: 1 },
    prefetch: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', minLength: 1 } },
    usageRequirements: { type: 'string', minLength: 1 },
  },
} as const;

const VALUE_SET_REFERENCE = /ValueSet\(([^()]*)\)/g;

/** A template with each `ValueSet(a,b)` written out as the system|code list of those ValueSets. */
function withValueSetCodes(template: string, terminology: Terminology, problems: string[]): string {
  return template.replace(VALUE_SET_REFERENCE, (_whole, ids: string) =>
    ids
      .split(',')
      .flatMap((id) => {
        if (!(VALUE_SET_IDS as readonly string[]).includes(id)) {
          problems.push(`ValueSet(${id}) names no ValueSet of the project`);
          return [];
        }
        const vs = terminology.valueSets.get(id as ValueSetId);
        return (vs?.expansion?.contains ?? []).map((c) => `${c.system ?? ''}|${c.code ?? ''}`);
      })
      .join(','),
  );
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DefinitionError(file, [`cannot be read as JSON: ${(err as Error).message}`]);
  }
}

/** A JSON file checked against its schema; a DefinitionError naming every problem when it does not pass. */
function readChecked<T>(file: string, validate: ValidateFunction<T>): T {
  const json = readJson(file);
  if (!validate(json)) {
    throw new DefinitionError(
      file,
      (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`),
    );
  }
  return json;
}

/** The shared prefetch and usage requirements, ValueSet references written out and every template checked. */
function loadShared(file: string, terminology: Terminology): SharedFile {
  const json = readChecked(file, new Ajv2020({ allErrors: true, strict: true }).compile<SharedFile>(SHARED_SCHEMA));
  const problems: string[] = [];
  const prefetch = Object.fromEntries(
    Object.entries(json.prefetch).map(([key, template]) => [key, withValueSetCodes(template, terminology, problems)]),
  );
  problems.push(...validatePrefetchTemplates(prefetch));
  if (problems.length > 0) throw new DefinitionError(file, problems);
  return { ...json, prefetch };
}

export class DefinitionError extends Error {
  constructor(file: string, problems: string[]) {
    super(`Service definition ${file} is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DefinitionError';
  }
}

export type Definitions = ReadonlyMap<string, ServiceDefinition>;

/**
 * Loads and checks every *.json in `dir`, each with the shared prefetch of `sharedFile`; a prefetch template
 * outside the recommended subset (CH-D3) stops startup.
 */
export function loadDefinitions(
  dir = SERVICES_DIR,
  sharedFile = PREFETCH_FILE,
  terminology: Terminology = loadTerminology(),
): Definitions {
  const validate = new Ajv2020({ allErrors: true, strict: true }).compile<ServiceFile>(DEFINITION_SCHEMA);
  const shared = loadShared(sharedFile, terminology);
  const definitions = new Map<string, ServiceDefinition>();
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const name of files) {
    const file = path.join(dir, name);
    const json = readChecked(file, validate);
    const problems: string[] = [];
    if (`${json.id}.json` !== name) problems.push(`the file name must be the id (${json.id}.json)`);
    if (definitions.has(json.id)) problems.push(`id ${json.id} is defined twice`);
    if (problems.length > 0) throw new DefinitionError(file, problems);
    const definition: ServiceDefinition = {
      ...json,
      prefetch: Object.freeze({ ...shared.prefetch }),
      usageRequirements: shared.usageRequirements,
    };
    definitions.set(json.id, Object.freeze(definition));
  }
  if (definitions.size === 0) throw new DefinitionError(dir, ['no service definition found']);
  return definitions;
}

/** The discovery entry of one service: the public fields only, empty values left out (CH-D2, CH-D4). */
export function discoveryEntry(definition: ServiceDefinition): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    hook: definition.hook,
    id: definition.id,
    title: definition.title,
    description: definition.description,
  };
  if (Object.keys(definition.prefetch).length > 0) entry.prefetch = { ...definition.prefetch };
  if (definition.usageRequirements) entry.usageRequirements = definition.usageRequirements;
  for (const [key, value] of Object.entries(entry))
    if (value === '' || value === undefined || value === null) delete entry[key];
  return entry;
}

export function discoveryDocument(definitions: Definitions): { services: Array<Record<string, unknown>> } {
  return { services: [...definitions.values()].map(discoveryEntry) };
}
