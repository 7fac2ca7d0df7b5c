/**
 * Where the project's own files are, whether running from src/ (tests) or dist/src/ (built): the one place that finds them.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const PACKAGE_NAME = 'ketamine-cds';

/** The project root: the nearest ancestor of this file holding the project's package.json. */
export function packageRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
        if (name === PACKAGE_NAME) return dir;
      } catch {
        // not a readable package.json: keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot find the ${PACKAGE_NAME} project root above ${from}`);
    dir = parent;
  }
}

/** fhir-resources/examples: the example scenarios (index.json + transaction bundles). */
export const examplesDir = (): string => path.join(packageRoot(), 'fhir-resources', 'examples');

/** A path inside the project (fhir-resources/…, cds-hooks/…), the same from src/ and dist/src/. */
export const projectPath = (...parts: string[]): string => path.join(packageRoot(), ...parts);
