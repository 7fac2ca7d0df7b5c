/**
 * A CDS Hooks Sandbox-like EHR in a real browser (Debian's chromium through playwright-core), on another
 * origin than the service, against the whole program (src/main.ts `start`: CDS service + embedded FHIR
 * server seeded live, JWT on). It does what the Sandbox does: discovery; prefetch filled from /fhir with
 * `POST [type]/_search` and a form body (GET only when POST fails); patient-view with an ES384 JWT whose
 * `jku` names the EHR's JWK Set; accept a suggestion (feedback); order-sign with the accepted draft.
 * No scenario clock: the examples are live now.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { start, type Running } from '../../src/main';
import { freePort } from '../cli/support';
import { generateEhrKey, serveJwks, signCall, trustedIssuersValue, type JwksServer } from '../../src/cli/jwt';

jest.setTimeout(240_000);

interface Exchange {
  prefetchLog: Array<{ key: string; method: string; status: number }>;
  requestBytes: number;
  status: number;
  response: {
    cards?: Array<{
      uuid?: string;
      summary: string;
      suggestions?: Array<{ uuid?: string; actions?: Array<{ type: string; resource?: Record<string, unknown> }> }>;
      extension?: { 'ketamine-protocol'?: { ruleId: string } };
    }>;
  };
}

describe('a CDS Hooks Sandbox-like EHR in chromium (POST _search prefetch, ES384 JWT, no scenario clock)', () => {
  let running: Running;
  let origin: string;
  let ehr: Server;
  let ehrOrigin: string;
  let jwks: JwksServer;
  let browser: Browser;
  let page: Page;
  let dataDir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ketamine-cds-sandbox-flow-'));
    const key = await generateEhrKey();
    jwks = await serveJwks(key, 0);
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    running = await start({
      PORT: String(port),
      CDS_PUBLIC_BASE_URL: origin, // the JWT aud is this base + path
      FEEDBACK_DB: path.join(dataDir, 'feedback.sqlite'),
      LOG_LEVEL: 'silent',
      DEMO: 'on',
      DEADLINE_MS: '15000',
      CDS_TRUSTED_ISSUERS: trustedIssuersValue(jwks),
    });
    // The EHR's own origin (the Sandbox is served from elsewhere): every call to the service is cross-origin.
    ehr = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>EHR</title><body>EHR</body>');
    });
    await new Promise<void>((resolve) => ehr.listen(0, '127.0.0.1', resolve));
    ehrOrigin = `http://localhost:${(ehr.address() as AddressInfo).port}`;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // The Sandbox signs in the browser; here the test's key signs for it (aud = the exact URL called).
    await page.exposeFunction('signFor', (url: string) => signCall(key, jwks, url));
    await page.goto(`${ehrOrigin}/`);
  });

  afterAll(async () => {
    await browser?.close();
    await running?.close();
    await jwks?.close();
    await new Promise<void>((resolve) => (ehr ? ehr.close(() => resolve()) : resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** One hook call as the Sandbox makes it, run in the page. */
  const callHook = (args: { hook: string; patientId: string; draft?: Record<string, unknown> }) =>
    page.evaluate(
      async ({ origin: base, hook, patientId, draft }) => {
        const sign = (window as unknown as { signFor: (url: string) => Promise<string> }).signFor;
        const fhir = `${base}/fhir`;
        const cds = `${base}/cds-services`;
        const userId = 'Practitioner/COREPRACTITIONER1';
        const discovery = (await (
          await fetch(cds, { headers: { Authorization: `Bearer ${await sign(cds)}` } })
        ).json()) as { services: Array<{ id: string; hook: string; prefetch?: Record<string, string> }> };
        const service = discovery.services.find((s) => s.hook === hook);
        if (!service) throw new Error(`no ${hook} service`);
        const prefetch: Record<string, unknown> = {};
        const prefetchLog: Array<{ key: string; method: string; status: number }> = [];
        for (const [key, template] of Object.entries(service.prefetch ?? {})) {
          const rendered = template
            .replace(/{{\s*context\.patientId\s*}}/g, patientId)
            .replace(/{{\s*context\.userId\s*}}/g, userId);
          const [resourcePath, query] = rendered.split('?');
          let res: Response;
          let method = 'GET';
          if (query !== undefined) {
            method = 'POST';
            res = await fetch(`${fhir}/${resourcePath}/_search`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/fhir+json' },
              body: new URLSearchParams(query).toString(),
            });
            if (!res.ok) {
              method = 'GET (after POST failed)';
              res = await fetch(`${fhir}/${rendered}`, { headers: { Accept: 'application/fhir+json' } });
            }
          } else {
            res = await fetch(`${fhir}/${rendered}`, { headers: { Accept: 'application/fhir+json' } });
          }
          prefetchLog.push({ key, method, status: res.status });
          if (res.ok) prefetch[key] = await res.json();
        }
        const context: Record<string, unknown> = { patientId, userId };
        if (draft) context.draftOrders = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draft }] };
        if (draft && hook === 'order-select') context.selections = [`MedicationRequest/${String(draft.id)}`];
        const body = JSON.stringify({ hookInstance: crypto.randomUUID(), hook, fhirServer: fhir, context, prefetch });
        const url = `${cds}/${service.id}`;
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await sign(url)}` },
          body,
        });
        return { prefetchLog, requestBytes: body.length, status: res.status, response: await res.json() };
      },
      { origin, ...args },
    ) as Promise<Exchange>;

  it('when the Sandbox opens case 1 (live at titration), patient-view built from POST searches gives the T8 card; accept; order-sign of the accepted draft says nothing', async () => {
    const view = await callHook({ hook: 'patient-view', patientId: 'case1-patient' });
    expect(view.prefetchLog.length).toBeGreaterThan(10);
    for (const entry of view.prefetchLog) {
      expect(entry).toEqual({ key: entry.key, method: entry.key === 'patient' ? 'GET' : 'POST', status: 200 });
    }
    // one patient's chart, not the whole server (the 4.8 MB request of the issue)
    expect(view.requestBytes).toBeLessThan(500_000);
    expect(view.status).toBe(200);
    const card = view.response.cards?.[0];
    expect(card?.extension?.['ketamine-protocol']?.ruleId).toBe('T8');

    // Accept the first suggestion: the Sandbox posts feedback.
    const suggestion = card?.suggestions?.[0];
    expect(suggestion?.uuid).toBeDefined();
    const feedback = await page.evaluate(
      async ({ origin: base, cardId, suggestionId }) => {
        const sign = (window as unknown as { signFor: (url: string) => Promise<string> }).signFor;
        const url = `${base}/cds-services/ketamine-protocol-patient-view/feedback`;
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await sign(url)}` },
          body: JSON.stringify({
            feedback: [
              {
                card: cardId,
                outcome: 'accepted',
                acceptedSuggestions: [{ id: suggestionId }],
                outcomeTimestamp: new Date().toISOString(),
              },
            ],
          }),
        });
        return res.status;
      },
      { origin, cardId: card?.uuid ?? '', suggestionId: suggestion?.uuid ?? '' },
    );
    expect(feedback).toBe(200);

    // order-sign with the draft the accepted suggestion creates: consistent with the protocol, no card.
    const draft = suggestion?.actions?.find((a) => a.type === 'create')?.resource;
    expect(draft?.resourceType).toBe('MedicationRequest');
    const sign = await callHook({
      hook: 'order-sign',
      patientId: 'case1-patient',
      draft: { id: 'sandbox-draft-1', ...draft },
    });
    expect(sign.status).toBe(200);
    expect(sign.response.cards ?? []).toEqual([]);

    // …and a draft three steps above it gets an order card.
    const rate = (
      draft as { dosageInstruction?: Array<{ doseAndRate?: Array<{ rateQuantity?: { value?: number } }> }> }
    )?.dosageInstruction?.[0]?.doseAndRate?.[0]?.rateQuantity;
    expect(typeof rate?.value).toBe('number');
    const tooHigh = JSON.parse(JSON.stringify(draft)) as typeof draft & {
      dosageInstruction: Array<{ doseAndRate: Array<{ rateQuantity: { value: number } }> }>;
    };
    const first = tooHigh.dosageInstruction[0]?.doseAndRate[0]?.rateQuantity;
    if (first) first.value = (rate?.value ?? 0) * 4;
    const signHigh = await callHook({
      hook: 'order-sign',
      patientId: 'case1-patient',
      draft: { id: 'sandbox-draft-2', ...tooHigh },
    });
    expect(signHigh.response.cards?.[0]?.extension?.['ketamine-protocol']?.ruleId).toMatch(/^O\d$/);
    expect(pageErrors).toEqual([]);
  });

  it("when the Sandbox's own medication form drafts a pill order (a dose per day, a date-only authoredOn), order-select and order-sign answer 200 without a card", async () => {
    // The shape the Sandbox's Rx View builds from its RxNorm pill list (no infusion rate).
    const pill = {
      resourceType: 'MedicationRequest',
      id: 'request-123',
      status: 'draft',
      intent: 'order',
      authoredOn: new Date().toISOString().slice(0, 10),
      subject: { reference: 'Patient/case1-patient' },
      medicationCodeableConcept: {
        text: 'Acetaminophen 325 MG Oral Tablet',
        coding: [
          {
            display: 'Acetaminophen 325 MG Oral Tablet',
            system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
            code: '313782',
          },
        ],
      },
      dosageInstruction: [
        {
          doseAndRate: [{ doseQuantity: { value: 1, system: 'http://unitsofmeasure.org', code: '{pill}' } }],
          timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } },
        },
      ],
    };
    for (const hook of ['order-select', 'order-sign']) {
      const exchange = await callHook({ hook, patientId: 'case1-patient', draft: pill });
      expect({ hook, status: exchange.status, cards: exchange.response.cards ?? [] }).toEqual({
        hook,
        status: 200,
        cards: [],
      });
    }
  });

  it('when the FHIR server cannot answer a search exactly, the POST fails with an OperationOutcome and the GET fallback fails the same way', async () => {
    const statuses = await page.evaluate(async (base) => {
      const post = await fetch(`${base}/fhir/Observation/_search`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'patient=case1-patient&colour=blue',
      });
      const get = await fetch(`${base}/fhir/Observation?patient=case1-patient&colour=blue`);
      return [post.status, (await post.json()).resourceType, get.status];
    }, origin);
    expect(statuses).toEqual([400, 'OperationOutcome', 400]);
  });
});
