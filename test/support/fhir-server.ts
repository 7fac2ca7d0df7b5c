/**
 * In-process FHIR R4 server for tests: a thin wrapper over src/fhir/memory-server (express +
 * @medplum/fhir-router + MemoryRepository) on 127.0.0.1 and a random port.
 */
import type { Bundle } from 'fhir/r4';
import { startMemoryFhirServer, type MemoryFhirServer } from '../../src/fhir/memory-server';

export type TestFhirServer = MemoryFhirServer;

export function startFhirServer(
  options: { port?: number; seed?: Bundle[]; requireBearer?: string; recordRequests?: boolean } = {},
): Promise<TestFhirServer> {
  return startMemoryFhirServer({ recordRequests: true, ...options });
}
