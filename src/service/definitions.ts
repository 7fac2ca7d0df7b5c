/**
 * The service definitions: data in cds-hooks/services/<id>.json, checked at startup (shape, file name =
 * id, unique ids, every prefetch template valid) and served as the discovery document. Discovery shows
 * only the public fields of a definition, never configuration (CH-D4), and never an empty value (CH-D2).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { packageRoot } from '../config/paths';
import { validatePrefetchTemplates } from '../fhir/prefetch-template';
import { HOOKS, type ServiceDefinition } from '../contract/cds-hooks';

export const SERVICES_DIR = path.join(packageRoot(), 'cds-hooks', 'services');

const DEFINITION_SCHEMA = {
  type: 'object',
  required: ['id', 'hook', 'title', 'description', 'prefetch'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    hook: { enum: HOOKS },
    title: { type: 'string', minLength: 1 },
    description: { type: 'string', minLength: 1 },
    prefetch: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', minLength: 1 } },
    usageRequirements: { type: 'string', minLength: 1 },
  },
} as const;

export class DefinitionError extends Error {
  constructor(file: string, problems: string[]) {
    super(`Service definition ${file} is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DefinitionError';
  }
}

export type Definitions = ReadonlyMap<string, ServiceDefinition>;

/** Loads and checks every *.json in `dir`; a prefetch template outside the recommended subset (CH-D3) stops startup. */
export function loadDefinitions(dir = SERVICES_DIR): Definitions {
  const validate = new Ajv2020({ allErrors: true, strict: true }).compile<ServiceDefinition>(DEFINITION_SCHEMA);
  const definitions = new Map<string, ServiceDefinition>();
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const name of files) {
    const file = path.join(dir, name);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new DefinitionError(file, [`cannot be read as JSON: ${(err as Error).message}`]);
    }
    if (!validate(json)) {
      throw new DefinitionError(
        file,
        (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`),
      );
    }
    const problems: string[] = [];
    if (`${json.id}.json` !== name) problems.push(`the file name must be the id (${json.id}.json)`);
    if (definitions.has(json.id)) problems.push(`id ${json.id} is defined twice`);
    problems.push(...validatePrefetchTemplates(json.prefetch));
    if (problems.length > 0) throw new DefinitionError(file, problems);
    definitions.set(json.id, Object.freeze({ ...json, prefetch: Object.freeze({ ...json.prefetch }) }));
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
