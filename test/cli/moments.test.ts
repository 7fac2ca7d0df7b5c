/**
 * Examples at any moment, including now: `ketamine-cds load --at <moment>` moves each example's timeline
 * so that the real "now" falls at that moment of the admission; patient-view then needs no scenario clock
 * (no --now, no X-Demo-Now): each moment gives its expected card.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bundle, Observation } from 'fhir/r4';
import { start, type Running } from '../../src/main';
import { cli, freePort } from './support';

jest.setTimeout(180_000);

interface Printed {
  cards: Array<{ extension?: { 'ketamine-protocol'?: { ruleId: string } } }>;
}

describe('ketamine-cds load --at <moment>, then patient-view at the real time', () => {
  let running: Running;
  let dir: string;
  let fhir: string;
  let service: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ketamine-cds-moments-'));
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    running = await start({
      PORT: String(port),
      CDS_PUBLIC_BASE_URL: origin,
      FEEDBACK_DB: path.join(dir, 'feedback.sqlite'),
      LOG_LEVEL: 'silent',
      DEADLINE_MS: '15000',
      DEMO: 'on',
    });
    fhir = `${origin}/fhir`;
    service = `${origin}/cds-services`;
  });

  afterAll(async () => {
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const load = async (at: string, patients: string) => {
    const run = await cli(['load', '--fhir', fhir, '--at', at, '--patient', patients]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('Loaded') });
    return run;
  };
  const ruleIds = async (patient: string): Promise<string[]> => {
    const run = await cli([
      'hook',
      'patient-view',
      '--fhir',
      fhir,
      '--service',
      service,
      '--patient',
      patient,
      '--json',
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    return (JSON.parse(run.stdout) as Printed).cards.map((c) => c.extension?.['ketamine-protocol']?.ruleId ?? '?');
  };

  const CASES = ['case1-patient', 'case2-patient', 'case3-patient', 'case4-patient', 'case5-patient', 'case6-patient'];
  it.each([
    ['work-up', ['S2', 'S3']],
    ['titration', ['T1', 'T8']],
    ['target', ['T6']],
    // Case 4's taper is a stop (0.12 − taperStep ≤ 0): T5.
    ['taper', ['T4', 'T5']],
    ['done', ['X1']],
  ])(
    'when the case series is loaded --at %s, patient-view without a clock gives the expected card',
    async (at, expected) => {
      await load(at, CASES.join(','));
      for (const patient of CASES) {
        const ids = await ruleIds(patient);
        expect({ patient, first: ids[0] }).toEqual({
          patient,
          first: expect.stringMatching(`^(${expected.join('|')})$`),
        });
      }
    },
  );

  it('when loaded --at titration, nothing charted after now is on the server, and what runs is in progress', async () => {
    const run = await load('titration', 'case1-patient');
    expect(run.stdout).toMatch(/case1-patient .*now: .*\(T8\)/);
    const nowMs = Date.now();
    const res = await fetch(`${fhir}/Observation?patient=case1-patient&_sort=-date&_count=500`);
    const bundle = (await res.json()) as Bundle;
    const times = (bundle.entry ?? []).map((e) => Date.parse((e.resource as Observation).effectiveDateTime ?? ''));
    expect(times.length).toBeGreaterThan(5);
    expect(Math.max(...times)).toBeLessThanOrEqual(nowMs);
    // the latest pain score is recent (the example's own spacing), not months old
    expect(nowMs - Math.max(...times)).toBeLessThan(12 * 3600_000);
    const admin = (await (
      await fetch(`${fhir}/MedicationAdministration?patient=case1-patient&status=in-progress`)
    ).json()) as Bundle;
    expect(admin.entry?.length).toBe(1);
  });

  it('when a later moment is loaded after an earlier one and back, the earlier record is what remains', async () => {
    await load('done', 'case1-patient');
    expect((await ruleIds('case1-patient'))[0]).toBe('X1');
    await load('work-up', 'case1-patient');
    expect((await ruleIds('case1-patient'))[0]).toMatch(/^S[23]$/);
  });

  it('when the same moment is loaded twice in the same minute, the records are the same', async () => {
    const snapshot = async () => {
      const res = await fetch(`${fhir}/Observation?patient=case2-patient&_sort=-date&_count=500`);
      return ((await res.json()) as Bundle).entry?.map((e) => {
        const { meta: _meta, ...resource } = e.resource as Observation;
        return resource;
      });
    };
    // retried once if the minute turns between the two loads
    for (let attempt = 0; attempt < 2; attempt++) {
      const minute = Math.floor(Date.now() / 60_000);
      await load('taper', 'case2-patient');
      const first = await snapshot();
      await load('taper', 'case2-patient');
      const second = await snapshot();
      if (Math.floor(Date.now() / 60_000) !== minute) continue;
      expect(second).toEqual(first);
      return;
    }
  });

  it('when --at names no moment, it says which are known (exit 2)', async () => {
    const run = await cli(['load', '--fhir', fhir, '--at', 'lunch']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('work-up, titration, target, taper, done');
  });
});
