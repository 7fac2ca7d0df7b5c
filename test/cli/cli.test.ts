import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bundle } from 'fhir/r4';
import { createApp } from '../../src/http/app';
import { startMemoryFhirServer, type MemoryFhirServer } from '../../src/fhir/memory-server';
import { createAuthenticator, parseTrustedIssuers } from '../../src/security/jwt';
import { DEMO_NOW_HEADER } from '../../src/cli/run';
import { issuerUrls, trustedIssuersValue } from '../../src/cli/jwt';
import { readManifest } from '../../src/cli/examples';
import { examplesDir } from '../../src/config/paths';
import { harness } from '../support/service';
import { cli, freePort, listen, type Running } from './support';

const FIXTURES = path.join(__dirname, '..', 'demo', 'fixtures', 'examples');
const PATIENT = 'fixture-start';

async function countAll(fhir: MemoryFhirServer, patientId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const type of ['Observation', 'Condition', 'Encounter', 'Consent']) {
    const res = await fetch(`${fhir.baseUrl}/${type}?patient=${patientId}&_count=1000`);
    counts[type] = ((await res.json()) as Bundle).entry?.length ?? 0;
  }
  return counts;
}

describe('ketamine-cds load', () => {
  let fhir: MemoryFhirServer;
  beforeEach(async () => {
    fhir = await startMemoryFhirServer();
  });
  afterEach(() => fhir.close());

  it('uploads the example bundles as transactions and prints each patient id', async () => {
    const run = await cli(['load', '--fhir', fhir.baseUrl, '--examples', FIXTURES]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`[1/1] Patient/${PATIENT}`);
    expect(run.stderr).toContain(`Loaded 1 example patient: ${PATIENT}`);
    expect((await fetch(`${fhir.baseUrl}/Patient/${PATIENT}`)).status).toBe(200);
  });

  it('is idempotent: loading twice leaves the same records', async () => {
    await cli(['load', '--fhir', fhir.baseUrl, '--examples', FIXTURES]);
    const once = await countAll(fhir, PATIENT);
    const again = await cli(['load', '--fhir', fhir.baseUrl, '--examples', FIXTURES]);
    expect(again.code).toBe(0);
    expect(await countAll(fhir, PATIENT)).toEqual(once);
    expect(once.Observation).toBeGreaterThan(0);
  });

  it('loads every project example by default, twice without duplicating anything', async () => {
    const manifest = readManifest(examplesDir());
    const totals = async () => {
      const out: Record<string, number> = {};
      for (const type of ['Patient', 'Observation', 'MedicationAdministration', 'Condition', 'Encounter']) {
        out[type] = (
          ((await (await fetch(`${fhir.baseUrl}/${type}?_count=10000`)).json()) as Bundle).entry ?? []
        ).length;
      }
      return out;
    };
    const first = await cli(['load', '--fhir', fhir.baseUrl]);
    expect(first.code).toBe(0);
    for (const entry of manifest) expect(first.stdout).toContain(`Patient/${entry.patientId} `);
    const once = await totals();
    expect(once.Patient).toBe(manifest.length);
    expect((await cli(['load', '--fhir', fhir.baseUrl])).code).toBe(0);
    expect(await totals()).toEqual(once);
  });

  it('says clearly when the FHIR server cannot be reached', async () => {
    const port = await freePort();
    const run = await cli(['load', '--fhir', `http://127.0.0.1:${port}/fhir`, '--examples', FIXTURES]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Cannot reach the FHIR server at http://127.0.0.1:${port}/fhir: connection refused`);
  });

  it('refuses a --fhir that is not a URL, with the usage', async () => {
    const run = await cli(['load', '--fhir', 'localhost:8080']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--fhir must be an http(s) URL');
    expect(run.stderr).toContain('Usage:');
  });
});

describe('ketamine-cds hook', () => {
  let fhir: MemoryFhirServer;
  let service: Running;
  let h: ReturnType<typeof harness>;
  let cdsBase: string;

  beforeAll(async () => {
    fhir = await startMemoryFhirServer();
    await cli(['load', '--fhir', fhir.baseUrl, '--examples', FIXTURES]);
    h = harness();
    service = await listen(() => createApp(h.deps));
    cdsBase = `${service.origin}/cds-services`;
  });
  afterAll(async () => {
    await service.close();
    await fhir.close();
  });

  it('patient-view: reads discovery, fills every prefetch key from the FHIR server and prints the cards', async () => {
    const run = await cli(['hook', 'patient-view', '--fhir', fhir.baseUrl, '--patient', PATIENT, '--service', cdsBase]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`for ${PATIENT}`);
    expect(run.stdout).toMatch(/^1\. \[INFO\]/m);
    expect(run.stderr).toContain(`Encounter/${PATIENT}-admission`);
    const audit = h.audits.at(-1);
    expect(audit?.hook).toBe('patient-view');
  });

  it('--json prints the service response as JSON', async () => {
    const run = await cli([
      'hook',
      'patient-view',
      '--fhir',
      fhir.baseUrl,
      '--patient',
      PATIENT,
      '--service',
      cdsBase,
      '--json',
    ]);
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout) as { cards: Array<{ summary: string }> };
    expect(body.cards[0]?.summary).toContain(PATIENT);
  });

  it.each(['order-select', 'order-sign'] as const)(
    '%s: builds a draft ketamine order at --rate/--unit and sends it as draftOrders',
    async (hook) => {
      const seen: unknown[] = [];
      const spy: typeof fetch = async (input, init) => {
        if (init?.method === 'POST') seen.push(JSON.parse(String(init.body)));
        return fetch(input, init);
      };
      const run = await cli(
        [
          'hook',
          hook,
          '--fhir',
          fhir.baseUrl,
          '--patient',
          PATIENT,
          '--service',
          cdsBase,
          '--rate',
          '0.3',
          '--unit',
          'mg/h',
          '--json',
        ],
        { fetch: spy },
      );
      expect(run.code).toBe(0);
      const request = seen[0] as {
        hook: string;
        context: { draftOrders: Bundle; selections?: string[] };
        prefetch: Record<string, unknown>;
      };
      expect(request.hook).toBe(hook);
      const draft = request.context.draftOrders.entry?.[0]?.resource as {
        id: string;
        status: string;
        dosageInstruction: Array<{ doseAndRate: Array<{ rateQuantity: unknown }> }>;
      };
      expect(draft.status).toBe('draft');
      expect(draft.dosageInstruction[0]?.doseAndRate[0]?.rateQuantity).toEqual({
        value: 0.3,
        unit: 'mg/h',
        system: 'http://unitsofmeasure.org',
        code: 'mg/h',
      });
      if (hook === 'order-select') expect(request.context.selections).toEqual([`MedicationRequest/${draft.id}`]);
      else expect(request.context.selections).toBeUndefined();
      expect(Object.keys(request.prefetch).sort()).toEqual(
        Object.keys(h.deps.definitions.get(`ketamine-protocol-${hook}`)?.prefetch ?? {}).sort(),
      );
      expect((request.prefetch.patient as { id: string }).id).toBe(PATIENT);
      const body = JSON.parse(run.stdout) as { cards: Array<{ summary: string }> };
      expect(body.cards[0]?.summary).toContain(`draft ${draft.id}`);
    },
  );

  it('an order hook without --rate is a usage error', async () => {
    const run = await cli(['hook', 'order-sign', '--fhir', fhir.baseUrl, '--patient', PATIENT, '--service', cdsBase]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('order-sign needs a draft order: give --rate');
  });

  it('--now sends the scenario time in the demo clock header', async () => {
    const headers: Array<Record<string, string>> = [];
    const spy: typeof fetch = async (input, init) => {
      if (init?.method === 'POST') headers.push(init.headers as Record<string, string>);
      return fetch(input, init);
    };
    const run = await cli(
      [
        'hook',
        'patient-view',
        '--fhir',
        fhir.baseUrl,
        '--patient',
        PATIENT,
        '--service',
        cdsBase,
        '--now',
        '2026-03-10T11:00:00Z',
      ],
      { fetch: spy },
    );
    expect(run.code).toBe(0);
    expect(headers[0]?.[DEMO_NOW_HEADER]).toBe('2026-03-10T11:00:00.000Z');
  });

  it('says clearly when the patient is not on the FHIR server', async () => {
    const run = await cli([
      'hook',
      'patient-view',
      '--fhir',
      fhir.baseUrl,
      '--patient',
      'nobody',
      '--service',
      cdsBase,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Patient nobody was not found on the FHIR server ${fhir.baseUrl}`);
  });

  it('says clearly when the CDS service cannot be reached', async () => {
    const port = await freePort();
    const run = await cli([
      'hook',
      'patient-view',
      '--fhir',
      fhir.baseUrl,
      '--patient',
      PATIENT,
      '--service',
      `http://127.0.0.1:${port}/cds-services`,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `Cannot reach the CDS service at http://127.0.0.1:${port}/cds-services: connection refused`,
    );
  });
});

describe('ketamine-cds hook --jwt', () => {
  let fhir: MemoryFhirServer;
  let service: Running;
  let keyDir: string;
  let jwksPort: number;
  let cdsBase: string;

  beforeAll(async () => {
    fhir = await startMemoryFhirServer();
    await cli(['load', '--fhir', fhir.baseUrl, '--examples', FIXTURES]);
    keyDir = mkdtempSync(path.join(os.tmpdir(), 'ketamine-cds-key-'));
    jwksPort = await freePort();
    // The service trusts exactly what `ketamine-cds trusted-issuers` prints.
    const printed = await cli([
      'trusted-issuers',
      '--key',
      path.join(keyDir, 'key.json'),
      '--jwks-port',
      String(jwksPort),
    ]);
    // stdout is the value alone (JSON); the note about a new key goes to stderr
    const value = printed.stdout.trim();
    expect(value).toBe(trustedIssuersValue(issuerUrls(jwksPort)));
    expect(printed.stderr).toContain('Created a new ES384 key');
    service = await listen((origin) => {
      const h = harness();
      h.deps.authenticate = createAuthenticator({ trustedIssuers: parseTrustedIssuers(value), logger: h.log.logger });
      h.deps.http = { ...h.deps.http, publicBaseUrl: origin };
      return createApp(h.deps);
    });
    cdsBase = `${service.origin}/cds-services`;
  });
  afterAll(async () => {
    await service.close();
    await fhir.close();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('CH-J1 signs discovery and the hook call with its ES384 key and serves the JWK Set the service fetches', async () => {
    const run = await cli([
      'hook',
      'patient-view',
      '--fhir',
      fhir.baseUrl,
      '--patient',
      PATIENT,
      '--service',
      cdsBase,
      '--jwt',
      '--key',
      path.join(keyDir, 'key.json'),
      '--jwks-port',
      String(jwksPort),
    ]);
    // A port number may contain the digits 401; only an HTTP status line counts.
    expect(run.stderr).not.toMatch(/\b401 Unauthorized\b/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^1\. \[INFO\]/m);
    expect(run.stderr).toContain(
      `Configure the service with: CDS_TRUSTED_ISSUERS='${trustedIssuersValue(issuerUrls(jwksPort))}'`,
    );
  });

  it('CH-J1 without --jwt the service answers 401 and the CLI says how to fix it', async () => {
    const run = await cli(['hook', 'patient-view', '--fhir', fhir.baseUrl, '--patient', PATIENT, '--service', cdsBase]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('401 Unauthorized');
    expect(run.stderr).toContain('Re-run with --jwt');
  });
});
