/**
 * The sandbox page in a real browser (Debian's chromium through playwright-core), against the whole
 * program (src/main.ts `start`: CDS service + embedded demo FHIR server + page) on a free port.
 * Skipped, saying why, when /usr/bin/chromium is absent (CI installs it: apt-get install -y chromium).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Bundle, MedicationRequest } from 'fhir/r4';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { ExampleEntry } from '../../src/cli/examples';
import { start, type Running } from '../../src/main';
import { openStore } from '../../src/store';

const CHROMIUM = '/usr/bin/chromium';
const RESULTS = path.join(__dirname, '..', '..', 'test-results');
const STEP_MS = 30_000;
const HOUR_MS = 3_600_000;

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `Browser tests skipped: ${CHROMIUM} not found (install it with: apt-get update && apt-get install -y chromium)`,
  );
}
const describeInBrowser = hasChromium ? describe : describe.skip;

jest.setTimeout(240_000);

describeInBrowser(`the sandbox page in chromium${hasChromium ? '' : ` (skipped: ${CHROMIUM} not found)`}`, () => {
  let running: Running;
  let origin: string;
  let browser: Browser;
  let page: Page;
  let dataDir: string;
  let feedbackDb: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ketamine-cds-browser-'));
    feedbackDb = path.join(dataDir, 'feedback.sqlite');
    running = await start({
      PORT: '0',
      FEEDBACK_DB: feedbackDb,
      LOG_LEVEL: 'silent',
      DEMO: 'on',
      DEADLINE_MS: '15000',
    });
    origin = `http://127.0.0.1:${(running.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.setDefaultTimeout(STEP_MS);
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  afterAll(async () => {
    await browser?.close();
    await running?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('plays a start then an increase: accept the start card, the order and feedback are stored, pain 3 h later brings an increase card', async () => {
    await page.goto(`${origin}/`);
    await page.waitForSelector('body[data-ready="true"]');

    // Patient 1: the first example whose scenario has a start (S3) time.
    const examples = (await (await fetch(`${origin}/demo/api/examples`)).json()) as ExampleEntry[];
    const example = examples.find((e) => e.scenarioTimes?.some((t) => t.expectedRuleId === 'S3'));
    expect(example).toBeDefined();
    const patientId = example!.patientId;
    const startAt = example!.scenarioTimes!.find((t) => t.expectedRuleId === 'S3')!.at;

    await page.click(`[data-patient="${patientId}"]`);
    await page.waitForSelector('#patient:not([hidden])');
    // Hooks fire only on the buttons here, so each card below answers exactly the call before it.
    await page.uncheck('#auto-refresh');
    await page.click(`#scenario-times button:has-text("(S3)")`);
    // Wait for the clock to show the new time (reading it at once races the page's re-render).
    await page.locator('[data-testid=clock-now]', { hasText: startAt.slice(11, 16) }).waitFor();

    // patient-view, as an EHR opening the chart.
    await page.click('[data-testid=fire-patient-view]');
    const startCard = page.locator('[data-testid=card][data-rule="S3"]');
    await startCard.waitFor();
    await startCard.locator('[data-testid=suggestion]').first().click();
    await startCard.locator('.outcome.accepted').waitFor();

    // The suggestion's action ran on the FHIR server: a draft ketamine order at the start rate.
    const params = (await (await fetch(`${origin}/demo/api/parameters`)).json()) as { values: { startRate: number } };
    const drafts = (await (
      await fetch(`${origin}/fhir/MedicationRequest?patient=${patientId}&status=draft`)
    ).json()) as Bundle;
    const draft = drafts.entry
      ?.map((e) => e.resource as MedicationRequest)
      .find((r) => r.dosageInstruction?.[0]?.doseAndRate?.[0]?.rateQuantity?.value === params.values.startRate);
    expect(draft).toBeDefined();

    // …and the feedback row was stored.
    const store = await openStore(feedbackDb);
    try {
      const rows = await store.listFeedback({ serviceId: 'ketamine-protocol-patient-view', outcome: 'accepted' });
      expect(rows).toHaveLength(1);
      expect(rows[0]?.acceptedSuggestionIds).toHaveLength(1);
      expect(rows[0]?.outcomeAt).toBe(new Date(startAt).toISOString());
    } finally {
      await store.close();
    }

    // Sign it (order-sign finds nothing to say about a start-rate draft) and the infusion runs.
    await page.click('[data-testid=fire-order-sign]');
    await page.locator('[data-testid=activity] li', { hasText: 'Infusion started' }).waitFor();
    await expect(page.locator('[data-testid=sign-anyway]').count()).resolves.toBe(0);

    // Three hours later the nurse charts pain 6/10: the protocol suggests an increase.
    await page.click('[data-testid=advance-3h]');
    await page
      .locator('[data-testid=clock-now]', {
        hasText: new Date(Date.parse(startAt) + 3 * HOUR_MS).toISOString().slice(11, 16),
      })
      .waitFor();
    await page.fill('[data-testid=pain-score]', '6');
    await page.click('[data-testid=record-pain]');
    await page.locator('[data-testid=activity] li', { hasText: 'Pain score 6/10 recorded' }).waitFor();
    await page.click('[data-testid=fire-patient-view]');
    const increase = page.locator('[data-testid=card][data-action="increase"]');
    await increase.waitFor();
    await expect(increase.locator('.summary').textContent()).resolves.toMatch(/increas/i);

    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: path.join(RESULTS, 'sandbox-increase.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('renders card Markdown without letting HTML or script URLs through', async () => {
    const rendered = await page.evaluate(() => {
      const md =
        '**bold** <img src=x onerror="alert(1)"> <script>alert(2)</script> [bad](javascript:alert(3)) [good](https://example.org)';
      const box = document.createElement('div');
      box.innerHTML = (window as unknown as { sandbox: { renderMarkdown(m: string): string } }).sandbox.renderMarkdown(
        md,
      );
      const all = Array.from(box.querySelectorAll('*'));
      return {
        tags: all.map((el) => el.tagName.toLowerCase()),
        handlers: all
          .flatMap((el) => Array.from(el.attributes).map((a) => a.name))
          .filter((name) => name.startsWith('on')),
        hrefs: Array.from(box.querySelectorAll('a')).map((a) => a.getAttribute('href')),
        text: box.textContent ?? '',
      };
    });
    expect(rendered.tags).toEqual(['p', 'strong', 'a', 'a']);
    expect(rendered.handlers).toEqual([]);
    expect(rendered.hrefs).toEqual([null, 'https://example.org']);
    expect(rendered.text).toContain('<img src=x onerror="alert(1)">');
  });
});
