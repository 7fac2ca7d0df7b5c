/**
 * The effectiveness report page in a real browser (Debian's chromium through playwright-core), against the
 * program as it runs (src/main.ts `start`, DEMO=off, REPORTS_TOKEN set) over a store holding the known
 * calls and feedback (test/support/report-fixture.ts). The page asks for the credential, then draws the
 * three charts with the fed numbers, under its strict CSP (no violation reported); the CSV it downloads is
 * the exact table; axe-core finds no serious violation. Screenshots go to test-results/ (git-ignored).
 * Fails, saying how to install it, when /usr/bin/chromium is absent.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { RESULTS, axeViolations, launchChromium, serious } from '../support/browser';
import { start, type Running } from '../../src/main';
import { openSqliteStore } from '../../src/store';
import { EXPECTED_CSV, feedReportFixture, IDENTIFIERS, REPORT_PERIOD } from '../support/report-fixture';

const TOKEN = 'browser-report-token-0123456789abcdef0123';
const STEP_MS = 30_000;

jest.setTimeout(180_000);

interface ChartData {
  labels: string[];
  data: Array<Array<number | null>>;
  painted: number;
}

/** Each chart's labels and data as Chart.js holds them, and how many of its canvas pixels are painted. */
const chartsOf = (page: Page): Promise<Record<string, ChartData>> =>
  page.evaluate(() => {
    const Chart = (
      window as unknown as {
        Chart: {
          getChart(id: string): { data: { labels: string[]; datasets: Array<{ data: Array<number | null> }> } };
        };
      }
    ).Chart;
    const out: Record<string, ChartData> = {};
    for (const id of ['chart-rules', 'chart-reasons', 'chart-trend']) {
      const chart = Chart.getChart(id);
      const canvas = document.getElementById(id) as HTMLCanvasElement;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] ?? 0) > 0) painted++;
      out[id] = { labels: chart.data.labels, data: chart.data.datasets.map((d) => d.data), painted };
    }
    return out;
  });

describe('the effectiveness report page in chromium', () => {
  let running: Running;
  let origin: string;
  let browser: Browser;
  let dataDir: string;
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ketamine-cds-report-'));
    const feedbackDb = path.join(dataDir, 'cds.sqlite');
    const store = openSqliteStore(feedbackDb);
    await feedReportFixture(store);
    await store.close();
    running = await start({
      PORT: '0',
      FEEDBACK_DB: feedbackDb,
      LOG_LEVEL: 'silent',
      DEMO: 'off',
      EVAL_WORKERS: '0',
      REPORTS_TOKEN: TOKEN,
    });
    origin = `http://127.0.0.1:${(running.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await running?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const pageUrl = () => `${origin}/reports/effectiveness/page?from=${REPORT_PERIOD.from}&to=${REPORT_PERIOD.to}`;

  async function openWithCredential(page: Page): Promise<void> {
    await page.goto(pageUrl());
    await page.waitForSelector('body[data-ready="true"]');
    await page.fill('#token', TOKEN);
    await page.click('[data-testid=show]');
    await page.waitForSelector('#report:not([hidden])');
    await page.waitForSelector('body[data-ready="true"]');
  }

  it('asks for the credential, then draws acceptance and override by rule, the reasons and the weekly trend for the fed data', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    page.setDefaultTimeout(STEP_MS);
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text());
    });

    await page.goto(pageUrl());
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.locator('#token-box').isVisible()).toBe(true);
    expect(await page.locator('#status').textContent()).toMatch(/credential/);
    expect(await page.locator('#report').isHidden()).toBe(true);
    problems.splice(0); // the 401 of the first fetch is logged by the browser: expected

    await page.fill('#token', TOKEN);
    await page.click('[data-testid=show]');
    await page.waitForSelector('#report:not([hidden])');
    await page.waitForSelector('body[data-ready="true"]');

    const charts = await chartsOf(page);
    expect(charts['chart-rules']).toMatchObject({
      labels: ['E1 · warning', 'O2 · critical', 'S3 · info'],
      data: [
        [1, 1, 2], // accepted
        [2, 1, 2], // overridden
        [0, 0, 1], // no feedback
      ],
    });
    expect(charts['chart-reasons']).toMatchObject({
      labels: [
        'No coded reason',
        'other-ehr-code (http://ehr.example.org/override-reasons)',
        'Clinical judgement: the protocol does not fit this patient now',
        'Patient declined',
        'Patient tolerating current rate',
      ],
      data: [[1, 1, 1, 1, 1]],
    });
    expect(charts['chart-trend']).toMatchObject({
      labels: ['2026-03-02', '2026-03-09'],
      data: [
        [3, 1],
        [3, 2],
        [1, 0],
        [50, 33.3],
      ],
    });
    for (const chart of Object.values(charts)) expect(chart.painted).toBeGreaterThan(1000);

    expect(await page.locator('#totals').textContent()).toContain('44.4 %');
    expect(await page.locator('[data-testid=rules-table] tbody tr').count()).toBe(3);
    expect(await page.locator('#version option').allTextContents()).toEqual(['All versions', '1.0.0', '1.1.0']);
    const text = (await page.locator('body').textContent()) ?? '';
    for (const id of IDENTIFIERS) expect(text).not.toContain(id);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-csv]')]);
    expect(download.suggestedFilename()).toBe('cds-effectiveness_2026-03-01_2026-03-15_all-versions.csv');
    expect(readFileSync((await download.path()) as string, 'utf8')).toBe(EXPECTED_CSV);

    // No CSP violation, no script error, nothing else failed.
    expect(problems).toEqual([]);
    await page.screenshot({ path: path.join(RESULTS, 'report-desktop.png'), fullPage: true });

    // One version: the charts are drawn again for it.
    await page.selectOption('#version', '1.0.0');
    await page.click('[data-testid=show]');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes('protocol 1.0.0'));
    expect((await chartsOf(page))['chart-rules']).toMatchObject({ labels: ['S3 · info'], data: [[1], [0], [0]] });
    await page.close();
  });

  it('on a phone-sized screen the page is readable, and axe-core finds no serious or critical violation', async () => {
    // bypassCSP only so that the test can inject axe-core; the page's own scripts are the same files.
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, bypassCSP: true });
    page.setDefaultTimeout(STEP_MS);
    await openWithCredential(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(RESULTS, 'report-phone.png'), fullPage: true });
    expect(serious(await axeViolations(page))).toEqual([]);
    await page.close();
  });
});
