/**
 * The CLI as the EHR against the whole program (src/main.ts `start`): the real CDS service with JWT
 * authentication configured from `ketamine-cds trusted-issuers`, and the embedded demo FHIR server seeded
 * with the project's examples. Scenario times come from the examples manifest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readManifest, type ExampleEntry } from '../../src/cli/examples';
import { examplesDir } from '../../src/config/paths';
import { start, type Running } from '../../src/main';
import { cli, freePort } from './support';

jest.setTimeout(120_000);

interface Printed {
  cards: Array<{
    summary: string;
    indicator: string;
    extension?: { 'ketamine-protocol'?: { ruleId: string; action: string; draftRate: number | null } };
  }>;
}

describe('ketamine-cds against the running service (JWT on, demo FHIR server)', () => {
  let running: Running;
  let dir: string;
  let fhir: string;
  let service: string;
  let jwtArgs: string[];
  let example: ExampleEntry;

  const at = (ruleId: string): string => {
    const time = example.scenarioTimes?.find((t) => t.expectedRuleId === ruleId)?.at;
    if (!time) throw new Error(`${example.patientId} has no ${ruleId} scenario time`);
    return time;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ketamine-cds-e2e-'));
    const port = await freePort();
    const jwksPort = await freePort();
    jwtArgs = ['--jwt', '--key', path.join(dir, 'ehr-key.json'), '--jwks-port', String(jwksPort)];
    const printed = await cli([
      'trusted-issuers',
      '--key',
      path.join(dir, 'ehr-key.json'),
      '--jwks-port',
      String(jwksPort),
    ]);
    const trusted = printed.stdout.trim();
    expect(JSON.parse(trusted)).toEqual([expect.objectContaining({ iss: `http://127.0.0.1:${jwksPort}` })]);
    const origin = `http://127.0.0.1:${port}`;
    running = await start({
      PORT: String(port),
      CDS_PUBLIC_BASE_URL: origin,
      CDS_TRUSTED_ISSUERS: trusted ?? '',
      FEEDBACK_DB: path.join(dir, 'feedback.sqlite'),
      LOG_LEVEL: 'silent',
      // This test is about the CLI, not the deadline: a loaded CI machine must not turn cards into { cards: [] }.
      DEADLINE_MS: '15000',
      DEMO: 'on',
    });
    fhir = `${origin}/fhir`;
    service = `${origin}/cds-services`;
    // The demo moves each example's timeline so that it is live now: its scenario times are the demo's.
    const manifest = (await (await fetch(`${origin}/demo/api/examples`)).json()) as ExampleEntry[];
    expect(manifest.map((e) => e.file)).toEqual(readManifest(examplesDir()).map((e) => e.file));
    const found = manifest.find((e) =>
      ['S3', 'T8'].every((rule) => e.scenarioTimes?.some((t) => t.expectedRuleId === rule)),
    );
    if (!found) throw new Error('no example has both an S3 and a T8 scenario time');
    example = found;
  });

  afterAll(async () => {
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const hook = async (args: string[]): Promise<Printed> => {
    const run = await cli([
      'hook',
      ...args,
      '--fhir',
      fhir,
      '--service',
      service,
      '--patient',
      example.patientId,
      '--json',
      ...jwtArgs,
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 0,
      stderr: expect.not.stringContaining('ketamine-cds:'),
    });
    return JSON.parse(run.stdout) as Printed;
  };

  it('patient-view at the start time (--now) gets the S3 start card', async () => {
    const { cards } = await hook(['patient-view', '--now', at('S3')]);
    expect(cards.map((c) => c.extension?.['ketamine-protocol']?.ruleId)).toEqual(['S3']);
  });

  it('patient-view at a titration time gets the T8 increase card', async () => {
    const { cards } = await hook(['patient-view', '--now', at('T8')]);
    expect(cards[0]?.extension?.['ketamine-protocol']).toMatchObject({ ruleId: 'T8', action: 'increase' });
  });

  it('order-select with a draft far above one step gets an order card naming the draft rate', async () => {
    const { cards } = await hook(['order-select', '--now', at('T8'), '--rate', '0.9', '--unit', 'mg/kg/h']);
    const ext = cards[0]?.extension?.['ketamine-protocol'];
    expect(ext?.ruleId).toMatch(/^O\d$/);
    expect(ext?.draftRate).toBe(0.9);
  });

  it('order-sign with the start rate before the start says nothing (a draft consistent with the protocol gets no card)', async () => {
    const run = await cli([
      'hook',
      'order-sign',
      '--fhir',
      fhir,
      '--service',
      service,
      '--patient',
      example.patientId,
      '--now',
      at('S3'),
      '--rate',
      '0.1',
      ...jwtArgs,
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 0,
      stderr: expect.not.stringContaining('ketamine-cds:'),
    });
    expect(run.stdout).toContain('No cards');
  });

  it('CH-J1 without --jwt the running service answers 401, and the CLI says how to fix it', async () => {
    const run = await cli([
      'hook',
      'patient-view',
      '--fhir',
      fhir,
      '--service',
      service,
      '--patient',
      example.patientId,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('401 Unauthorized');
  });
});
