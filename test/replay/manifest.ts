/** fhir-resources/examples/index.json, as the demo page and the CLI read it. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EXAMPLES_DIR } from './record';

export interface ManifestEntry {
  file: string;
  patientId: string;
  encounterId: string;
  title: string;
  description: string;
  kind: 'case-series' | 'boundary';
  admission: string;
  infusionStart: string | null;
  scenarioTimes: Array<{ at: string; label: string; expectedRuleId: string }>;
}

export function readManifest(): ManifestEntry[] {
  return JSON.parse(readFileSync(path.join(EXAMPLES_DIR, 'index.json'), 'utf8')) as ManifestEntry[];
}
