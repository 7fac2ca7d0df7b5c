/**
 * A year of audit trail, ≈ 10⁶ hook calls (src/bench/report-data.ts), read into the effectiveness report
 * by the SQLite store. Only that it answers, and that its numbers add up, is asserted here: how fast it
 * answers is measured by `npm run bench:report` (README, Performance).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPORT_DATA_DEFAULTS, writeReportData } from '../../src/bench/report-data';
import { buildReport } from '../../src/report/aggregate';
import { toCsv } from '../../src/report/csv';
import { openSqliteStore } from '../../src/store';

jest.setTimeout(900_000);

it('when a year of about a million hook calls is in the store, the report answers, and its numbers add up', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ketamine-report-million-'));
  try {
    const file = path.join(dir, 'year.sqlite');
    const written = writeReportData(file);
    expect(written.calls).toBe(REPORT_DATA_DEFAULTS.calls);
    const store = openSqliteStore(file);
    try {
      const query = { from: '2025-01-01', to: '2025-12-31', version: null };
      const report = buildReport(await store.reportRows(query), query);
      expect(report.totals.calls).toBe(written.calls);
      expect(report.totals.callsWithCards).toBeGreaterThan(0);
      expect(report.weekly).toHaveLength(53); // the Monday weeks touching 2025
      expect(report.weekly.reduce((n, w) => n + w.calls, 0)).toBe(written.calls);
      const t = report.totals;
      expect(t.accepted + t.overridden + t.noFeedback).toBe(t.cardsShown);
      expect(report.rules.reduce((n, r) => n + r.cardsShown, 0)).toBe(t.cardsShown);
      expect(report.hooks.reduce((n, h) => n + h.calls, 0)).toBe(t.calls);
      // one distinct hook instance per card shown, fewer than the cards (2 % of calls repeat an instance)
      expect(t.cardsShown).toBeLessThan(written.cards);
      expect(t.medianSecondsToFeedback).not.toBeNull();
      expect(report.versions.map((v) => v.protocolVersion)).toEqual(['1.0.0', '1.1.0']);
      expect(toCsv(report).split('\r\n')).toHaveLength(report.rules.length + 3);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
