/**
 * The sandbox page in a real browser (Debian's chromium through playwright-core), against the whole
 * program (src/main.ts `start`: CDS service + embedded demo FHIR server + page) on a free port, with the
 * page's times in a non-UTC zone (CDS_TIME_ZONE). Fails, saying how to install it, when /usr/bin/chromium
 * is absent (CI installs it: apt-get install -y chromium). Screenshots go to test-results/ (git-ignored).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Bundle, MedicationRequest } from 'fhir/r4';
import type { Browser, Page } from 'playwright-core';
import { RESULTS, axeViolations, launchChromium, serious } from '../support/browser';
import type { ExampleEntry } from '../../src/cli/examples';
import { start, type Running } from '../../src/main';
import { openStore } from '../../src/store';

const STEP_MS = 30_000;
const HOUR_MS = 3_600_000;
/** Not UTC, so that a time shown in UTC by mistake cannot pass. */
const TIME_ZONE = 'America/New_York';
/** The FHIR server answers the page this much later while a test provokes a race. */
const SLOW_FHIR_MS = 400;

const VIEWPORTS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** The wall clock `HH:mm` of an instant in the page's zone, as the page must show it. */
const wallClock = (iso: string) =>
  new Intl.DateTimeFormat('en-GB', {
    timeZone: TIME_ZONE,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));

jest.setTimeout(240_000);

describe('the sandbox page in chromium', () => {
  let running: Running;
  let origin: string;
  let browser: Browser;
  let page: Page;
  let dataDir: string;
  let feedbackDb: string;
  let examples: ExampleEntry[];
  let params: { hardMaxRate: number; startRate: number; targetPain: number };
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
      CDS_TIME_ZONE: TIME_ZONE,
    });
    origin = `http://127.0.0.1:${(running.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(STEP_MS);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    examples = (await (await fetch(`${origin}/demo/api/examples`)).json()) as ExampleEntry[];
    params = ((await (await fetch(`${origin}/demo/api/parameters`)).json()) as { values: typeof params }).values;
  });

  afterAll(async () => {
    await browser?.close();
    await running?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('plays a start then an increase: accept the start card, the order and feedback are stored, pain 3 h later brings an increase card, an adverse effect charted from the value set then a decrease (A1)', async () => {
    await page.goto(`${origin}/`);
    await page.waitForSelector('body[data-ready="true"]');

    // Patient 1: the first example whose scenario has a start (S3) time.
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
    await page.locator('[data-testid=clock-now]', { hasText: wallClock(startAt) }).waitFor();

    // patient-view, as an EHR opening the chart.
    await page.click('[data-testid=fire-patient-view]');
    const startCard = page.locator('[data-testid=card][data-rule="S3"]');
    await startCard.waitFor();
    await startCard.locator('[data-testid=suggestion]').first().click();
    await startCard.locator('.outcome.accepted').waitFor();

    // The suggestion's action ran on the FHIR server: a draft ketamine order at the start rate.
    const drafts = (await (
      await fetch(`${origin}/fhir/MedicationRequest?patient=${patientId}&status=draft`)
    ).json()) as Bundle;
    const draft = drafts.entry
      ?.map((e) => e.resource as MedicationRequest)
      .find((r) => r.dosageInstruction?.[0]?.doseAndRate?.[0]?.rateQuantity?.value === params.startRate);
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
        hasText: wallClock(new Date(Date.parse(startAt) + 3 * HOUR_MS).toISOString()),
      })
      .waitFor();
    await page.fill('[data-testid=pain-score]', '6');
    await page.click('[data-testid=record-pain]');
    await page.locator('[data-testid=activity] li', { hasText: 'Pain score 6/10 recorded' }).waitFor();
    // V1 (v1.1): an increase needs a blood pressure and heart rate within 2 h: the nurse charts them too.
    await page.click('[data-testid=fire-patient-view]');
    await page.locator('[data-testid=card][data-rule="V1"]').waitFor();
    await page.fill('[data-testid=vital-sbp]', '124');
    await page.fill('[data-testid=vital-dbp]', '78');
    await page.fill('[data-testid=vital-hr]', '82');
    await page.click('[data-testid=record-vitals]');
    await page.locator('[data-testid=activity] li', { hasText: 'Vitals recorded' }).waitFor();
    await page.click('[data-testid=fire-patient-view]');
    const increase = page.locator('[data-testid=card][data-action="increase"]');
    await increase.waitFor();
    await expect(increase.locator('.summary').textContent()).resolves.toMatch(/increas/i);

    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: path.join(RESULTS, 'sandbox-increase.png'), fullPage: true });

    // The nurse charts an adverse effect from the form's list, which is the psychotomimetic-effect value set's
    // SNOMED CT codes (the page holds no code of its own): the next patient-view steps the rate down (A1).
    const valueSets = (await (await fetch(`${origin}/demo/api/value-sets`)).json()) as Record<
      string,
      Array<{ system: string; code: string }>
    >;
    const offered = await page
      .locator('[data-testid=adverse-code] option')
      .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
    expect(offered.length).toBeGreaterThan(0);
    expect(offered).toEqual(
      valueSets['psychotomimetic-effect']!.filter((c) => c.system === 'http://snomed.info/sct').map((c) => c.code),
    );
    await page.selectOption('[data-testid=adverse-code]', offered[0]!);
    await page.click('#nurse-adverse button[type=submit]');
    // Offered by its plain name, without the reviewers' note the value set's display carries.
    await page.locator('[data-testid=activity] li', { hasText: /Adverse effect recorded: \w[^(]*$/ }).waitFor();
    await page.click('[data-testid=fire-patient-view]');
    await page.locator('[data-testid=card][data-rule="A1"]').waitFor();
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
  it('lets a disabled checkbox through the sanitiser and nothing wider (no other input, no handler, no type elsewhere)', async () => {
    const out = await page.evaluate(() => {
      const box = document.createElement('div');
      box.innerHTML = (window as unknown as { sandbox: { sanitizeHtml(h: string): string } }).sandbox.sanitizeHtml(
        '<ul><li><input type="checkbox" checked onclick="alert(1)" name="n" value="v"> a</li><li><input type="checkbox"> b</li></ul>' +
          '<input type="text" value="t"><input value="no type"><input type="image" src="x"><input type="submit">' +
          '<input type="checkbox" formaction="javascript:alert(2)" checked>' +
          '<ol type="a"><li>c</li></ol><button disabled type="submit">d</button>',
      );
      return {
        inputs: Array.from(box.querySelectorAll('input')).map((i) =>
          Array.from(i.attributes)
            .map((a) => `${a.name}=${a.value}`)
            .sort()
            .join(' '),
        ),
        olType: box.querySelector('ol')?.getAttribute('type') ?? null,
        buttons: box.querySelectorAll('button').length,
      };
    });
    expect(out.inputs).toEqual([
      'checked= disabled= type=checkbox',
      'disabled= type=checkbox',
      'checked= disabled= type=checkbox',
    ]);
    expect(out.olType).toBeNull();
    expect(out.buttons).toBe(0);
  });

  describe.each(VIEWPORTS)('at $width×$height ($name)', (viewport) => {
    let p: Page;
    const errors: string[] = [];

    beforeAll(async () => {
      // bypassCSP only so that the test can inject axe-core; the page's own scripts are the same files.
      p = await browser.newPage({ viewport: { width: viewport.width, height: viewport.height }, bypassCSP: true });
      p.setDefaultTimeout(STEP_MS);
      p.on('pageerror', (err) => errors.push(err.message));
      await fetch(`${origin}/demo/api/reset`, { method: 'POST' });
      // The reset places the examples again from the clock (to the minute): read their times anew.
      examples = (await (await fetch(`${origin}/demo/api/examples`)).json()) as ExampleEntry[];
      await p.goto(`${origin}/`);
      await p.waitForSelector('body[data-ready="true"]');
    });

    afterAll(async () => {
      await p?.close();
    });

    /** Click a patient in the list, unfolding the list first where it is folded (phone). */
    async function clickPatient(patientId: string) {
      const button = p.locator(`#patient-list [data-patient="${patientId}"]`);
      if (!(await button.isVisible())) await p.click('[data-testid=patients-toggle]');
      await button.click();
    }

    /** The page's chart as data: scales and datasets (no pixels). */
    const chartData = () =>
      p.evaluate(() => {
        type Chart = {
          scales: Record<string, { min: number; max: number; width: number; ticks: unknown[] }>;
          data: { datasets: { label: string; yAxisID: string; data: { x: number; y: number }[] }[] };
        };
        const sandbox = (window as unknown as { sandbox: { state: { chart: { chart: Chart } } } }).sandbox;
        const chart = sandbox.state.chart.chart;
        const scale = (id: string) => ({
          min: chart.scales[id]!.min,
          max: chart.scales[id]!.max,
          width: chart.scales[id]!.width,
          ticks: chart.scales[id]!.ticks.length,
        });
        return {
          x: scale('x'),
          pain: scale('pain'),
          datasets: chart.data.datasets.map((d) => ({
            label: d.label,
            axis: d.yAxisID,
            ys: d.data.map((point) => point.y),
          })),
        };
      });

    it("switching patient then clicking a scenario chip at once shows that patient's moment (the latest choice wins), with both maxima on the chart", async () => {
      const target = examples.find(
        (e) =>
          e.scenarioTimes?.some((t) => t.expectedRuleId === 'A1') &&
          e.scenarioTimes.some((t) => t.expectedRuleId === 'T7'),
      )!;
      expect(target).toBeDefined();
      const chipIndex = target.scenarioTimes!.findIndex((t) => t.expectedRuleId === 'T7');
      const moment = target.scenarioTimes![chipIndex]!;
      // The patient before has a chip at the same place in its row, at another time.
      const before = examples.find(
        (e) => e.patientId !== target.patientId && (e.scenarioTimes?.length ?? 0) > chipIndex,
      )!;
      expect(before.scenarioTimes![chipIndex]!.at).not.toBe(moment.at);

      await clickPatient(before.patientId);
      await p.locator('#patient-facts').waitFor();
      await p.locator('main:not([aria-busy])').waitFor();

      // The FHIR server answers slowly from here: the new patient's record is still loading when the chip is clicked.
      await p.route('**/fhir/**', async (route) => {
        await new Promise((resolve) => setTimeout(resolve, SLOW_FHIR_MS));
        await route.continue().catch(() => undefined); // an aborted read is gone
      });
      try {
        await clickPatient(target.patientId);
        await p.locator('#scenario-times button').nth(chipIndex).click();

        // Settled: the record is shown and the patient-view the chip fired has answered.
        await p.locator('main:not([aria-busy])').waitFor();
        await p.locator('#hook-status', { hasText: 'patient-view:' }).waitFor();
      } finally {
        await p.unroute('**/fhir/**');
      }

      // The clock shows that patient's moment, in the configured zone, named.
      const clock = p.locator('[data-testid=clock-now]');
      await expect(clock.getAttribute('data-ms')).resolves.toBe(String(Date.parse(moment.at)));
      await expect(clock.textContent()).resolves.toContain(wallClock(moment.at));
      await expect(p.locator('[data-testid=clock-zone]').textContent()).resolves.toBe(TIME_ZONE);
      const shown = await p.evaluate(() => {
        const state = (
          window as unknown as {
            sandbox: {
              state: {
                patientId: string;
                now: number;
                summary: { patient: { id: string } };
                cards: { extension?: Record<string, { maxToleratedRate?: number | null }> }[];
              };
            };
          }
        ).sandbox.state;
        return {
          patientId: state.patientId,
          summaryPatient: state.summary.patient.id,
          now: state.now,
          tolerated: state.cards.map((c) => c.extension?.['ketamine-protocol']?.maxToleratedRate ?? null),
        };
      });
      expect(shown).toMatchObject({
        patientId: target.patientId,
        summaryPatient: target.patientId,
        now: Date.parse(moment.at),
      });
      await expect(p.locator('[aria-pressed="true"]').getAttribute('data-at')).resolves.toBe(
        new Date(moment.at).toISOString(),
      );
      await expect(p.locator('[data-testid=card][data-rule="T7"]').count()).resolves.toBe(1);

      // The chart is that patient's, around that moment: the time axis spans it, the rate has data, pain has its
      // own 0–10 scale with the target on it, and both maxima are drawn on the rate scale.
      const chart = await chartData();
      expect(chart.x.min).toBeLessThan(Date.parse(moment.at));
      expect(chart.x.max).toBeGreaterThan(Date.parse(moment.at));
      expect(chart.x.max - chart.x.min).toBeLessThan(14 * 24 * HOUR_MS);
      expect(chart.pain).toMatchObject({ min: 0, max: 10 });
      const dataset = (label: RegExp) => chart.datasets.find((d) => label.test(d.label));
      expect(dataset(/^Ketamine rate/)?.ys.length).toBeGreaterThan(1);
      expect(dataset(/^Pain score/)?.axis).toBe('pain');
      expect(dataset(/^Target pain/)).toMatchObject({ axis: 'pain', ys: [params.targetPain, params.targetPain] });
      expect(dataset(/^Hard maximum/)).toMatchObject({ axis: 'rate', ys: [params.hardMaxRate, params.hardMaxRate] });
      const tolerated = shown.tolerated.find((r): r is number => typeof r === 'number');
      expect(tolerated).toBeGreaterThan(0);
      expect(tolerated).toBeLessThan(params.hardMaxRate);
      expect(dataset(/^Max tolerated/)).toMatchObject({ axis: 'rate', ys: [tolerated, tolerated] });
      await expect(p.locator('#chart').getAttribute('aria-label')).resolves.toMatch(
        /hard maximum .* maximum tolerated rate/,
      );
      // Axis labels thinned to the room there is (about one per 56 px).
      expect(chart.x.ticks).toBeLessThanOrEqual(Math.max(3, Math.floor(chart.x.width / 40)));

      mkdirSync(RESULTS, { recursive: true });
      await p.screenshot({ path: path.join(RESULTS, `sandbox-${viewport.name}.png`) });
      await p.screenshot({ path: path.join(RESULTS, `sandbox-${viewport.name}-full.png`), fullPage: true });
      await p.locator('#chart-panel').screenshot({ path: path.join(RESULTS, `sandbox-${viewport.name}-chart.png`) });
    });

    it('draws a rate charted in mL/h with the bag strength on the record, the rate the card reads (never the default strength)', async () => {
      for (const [patientId, rule] of [
        ['rate-in-ml-per-hour-patient', 'T8'],
        ['case4-patient', 'T6'],
      ] as const) {
        const example = examples.find((e) => e.patientId === patientId)!;
        const chip = example.scenarioTimes!.findIndex((t) => t.expectedRuleId === rule);
        expect(chip).toBeGreaterThanOrEqual(0);
        await clickPatient(patientId);
        await p.locator('#scenario-times button').nth(chip).click();
        await p.locator(`[data-testid=card][data-rule="${rule}"]`).waitFor();
        await p.locator('main:not([aria-busy])').waitFor();
        const rates = await p.evaluate(() => {
          const state = (
            window as unknown as {
              sandbox: {
                state: {
                  summary: { running: { rate: number | null } | null };
                  cards: { extension?: Record<string, { currentRate?: number | null }> }[];
                };
              };
            }
          ).sandbox.state;
          return {
            page: state.summary.running?.rate ?? null,
            card: state.cards[0]?.extension?.['ketamine-protocol']?.currentRate ?? null,
          };
        });
        expect(rates.card).toEqual(expect.any(Number));
        expect(rates.page).toBeCloseTo(rates.card!, 2);
      }
    });

    it('has no serious or critical accessibility violations (axe-core), with a card and its override form open', async () => {
      // The adverse-effect moment of the patient before: its card has suggestions and an override form.
      const adverse = examples.find((e) => e.scenarioTimes?.some((t) => t.expectedRuleId === 'A1'))!;
      const at = new Date(adverse.scenarioTimes!.find((t) => t.expectedRuleId === 'A1')!.at).toISOString();
      if ((await p.locator(`#scenario-times button[data-at="${at}"]`).count()) === 0)
        await clickPatient(adverse.patientId);
      await p.click(`#scenario-times button[data-at="${at}"]`);
      const card = p.locator('[data-testid=card][data-rule="A1"]');
      await card.locator('[data-testid=override]').click();
      await card.locator('.override select').waitFor();
      expect(serious(await axeViolations(p))).toEqual([]);
    });

    it('renders the "Before a start" checklist with each box as the record has it: EKG missing, then charted', async () => {
      const example = examples.find((e) => e.patientId === 'missing-ekg-patient')!;
      const at = (rule: string) => example.scenarioTimes!.find((t) => t.expectedRuleId === rule)!.at;
      await clickPatient(example.patientId);

      /** Click the rule's chip; the boxes as shown, and as the card's Markdown says. */
      async function checklistAt(rule: 'S2' | 'S3') {
        await p.click(`#scenario-times button[data-at="${new Date(at(rule)).toISOString()}"]`);
        const card = p.locator(`[data-testid=card][data-rule="${rule}"]`);
        await card.waitFor();
        const shown = await card.locator('.detail input[type=checkbox]').evaluateAll((boxes) =>
          boxes.map((b) => ({
            checked: (b as HTMLInputElement).checked,
            disabled: (b as HTMLInputElement).disabled,
            text: (b.parentElement?.textContent ?? '').trim(),
          })),
        );
        const markdown = await p.evaluate(
          (r) =>
            (
              window as unknown as {
                sandbox: { state: { cards: { detail?: string; extension?: Record<string, { ruleId?: string }> }[] } };
              }
            ).sandbox.state.cards.find((c) => c.extension?.['ketamine-protocol']?.ruleId === r)?.detail ?? '',
          rule,
        );
        const written = [...markdown.matchAll(/^\s*[-*] \[([ xX])\] /gm)].map((m) => m[1] !== ' ');
        return { shown, written };
      }

      const pending = await checklistAt('S2');
      expect(pending.shown.length).toBeGreaterThanOrEqual(3);
      expect(pending.shown.map((b) => b.checked)).toEqual(pending.written);
      expect(pending.shown.every((b) => b.disabled)).toBe(true);
      expect(pending.shown.find((b) => /EKG/.test(b.text))?.checked).toBe(false);
      expect(pending.shown.some((b) => b.checked)).toBe(true);

      const done = await checklistAt('S3');
      expect(done.shown.map((b) => b.checked)).toEqual(done.written);
      expect(done.shown.find((b) => /EKG/.test(b.text))?.checked).toBe(true);
      await p.locator('[data-testid=card][data-rule="S3"]').screenshot({
        path: path.join(RESULTS, `sandbox-${viewport.name}-checklist.png`),
      });
    });

    it('works from the keyboard: the patient list, a patient and a scenario chip', async () => {
      const example = examples.find((e) => (e.scenarioTimes?.length ?? 0) >= 2)!;
      const toggle = p.locator('[data-testid=patients-toggle]');
      const button = p.locator(`#patient-list [data-patient="${example.patientId}"]`);
      if (!(await button.isVisible())) {
        await toggle.focus();
        await p.keyboard.press('Enter');
      }
      await button.focus();
      await p.keyboard.press('Enter');
      await expect(p.locator('#patient-list [aria-current="true"]').getAttribute('data-patient')).resolves.toBe(
        example.patientId,
      );
      // Settled first: while the patient's record loads, the chips are drawn again, and a key pressed on a chip
      // that has just been replaced reaches nothing.
      await p.locator('main:not([aria-busy])').waitFor();
      const second = new Date(example.scenarioTimes![1]!.at).toISOString();
      const clock = p.locator('[data-testid=clock-now]', { hasText: wallClock(second) });
      // A chip drawn again just as the key is pressed loses the press: the user would press again, and so does this.
      for (let attempt = 1; ; attempt++) {
        await p.locator(`#scenario-times button[data-at="${second}"]`).focus();
        await p.keyboard.press('Space');
        const shown = await clock
          .waitFor({ timeout: STEP_MS / 3 })
          .then(() => true)
          .catch(() => false);
        if (shown || attempt === 3) break;
      }
      await clock.waitFor();
      await expect(p.locator('[data-testid=clock-now]').getAttribute('data-ms')).resolves.toBe(
        String(Date.parse(second)),
      );
      expect(errors).toEqual([]);
    });

    it("reads a picked time as the configured zone's wall clock, summer and winter time alike", async () => {
      // New York: UTC−4 in June (EDT), UTC−5 in December (EST).
      for (const [wall, instant, abbreviation] of [
        ['2026-06-09T08:30', '2026-06-09T12:30:00.000Z', 'EDT'],
        ['2026-12-14T08:30', '2026-12-14T13:30:00.000Z', 'EST'],
      ] as const) {
        await p.locator('main:not([aria-busy])').waitFor();
        await p.fill('#clock-pick', wall);
        await p.locator('#clock-pick').press('Enter');
        await p.locator(`[data-testid=clock-now][data-ms="${Date.parse(instant)}"]`).waitFor();
        await expect(p.locator('[data-testid=clock-now]').textContent()).resolves.toMatch(
          new RegExp(`08:30 ${abbreviation}$`),
        );
        await expect(p.locator('#clock-pick').inputValue()).resolves.toBe(wall);
      }
      expect(errors).toEqual([]);
    });
  });
});
