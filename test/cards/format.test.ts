import { escapeMarkdown, formatTime, numbers } from '../../src/cards/format';
import { displayTime } from '../../src/protocol/display';
import { build, NOW, notStarted, only, params, recommendation } from './fixtures';

/** Markup that chart text must never produce. */
const HOSTILE =
  '<img src=x onerror=alert(1)> **bold** _it_ [click](javascript:alert(1)) ![i](http://x/i.png) `code` ~~s~~ | a | b |\n# Heading\n- item';

describe('chart text in Markdown', () => {
  it('escapes HTML, emphasis, links, images, code, strike-through, tables and line breaks', () => {
    const out = escapeMarkdown(HOSTILE);
    expect(out).not.toMatch(/</);
    expect(out).not.toMatch(/>/);
    expect(out).not.toMatch(/\n/);
    expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(out).toContain('\\*\\*bold\\*\\*');
    expect(out).toContain('\\_it\\_');
    expect(out).toContain('\\[click\\](javascript:alert(1))');
    expect(out).toContain('!\\[i\\]');
    expect(out).toContain('\\`code\\`');
    expect(out).toContain('\\~\\~s\\~\\~');
    expect(out).toContain('\\| a \\| b \\|');
    expect(out).toContain(' \\# Heading - item');
    // Every markup character is preceded by a backslash.
    expect(out).not.toMatch(/(?<!\\)[*_`[\]~|#]/);
  });

  it('leaves ordinary clinical text readable', () => {
    expect(escapeMarkdown('Chronic migraine without aura, intractable (G43.719)')).toBe(
      'Chronic migraine without aura, intractable (G43.719)',
    );
    expect(escapeMarkdown('  two\n\nlines  ')).toBe('two lines');
  });

  it('chart displays in contraindications, cautions, adverse effects, notes and units are escaped in the card', () => {
    const rec = notStarted({
      ruleId: 'S1',
      action: 'contraindicated',
      indicator: 'critical',
      recommendedRate: null,
      arithmetic: null,
      contraindications: [{ code: 'psychosis', display: HOSTILE, time: null }],
      cautions: [{ category: 'glaucoma', display: HOSTILE }],
      adverseEffect: { time: '2026-11-24T10:00:00Z', display: HOSTILE, atRate: null, psychotomimetic: false },
      notes: [HOSTILE],
      recentPain: [{ id: 'p', time: '2026-11-24T10:00:00Z', score: 6, charted: HOSTILE }],
      vitals: [{ kind: 'hr', value: 80, unit: '<b>/min</b>', time: '2026-11-24T12:00:00Z', breach: null }],
    });
    const card = only(build({ recommendation: rec }));
    const d = card.detail ?? '';
    expect(d).not.toMatch(/<img|<b>/);
    expect(d).not.toMatch(/(?<!\\)\[click/);
    expect(d).not.toMatch(/\n# Heading/);
    expect(d).not.toMatch(/(?<!\\)\*\*bold/);
    expect(d.split('&lt;img').length - 1).toBe(6); // the contraindication also heads the card (v1.1 first lines)
  });
});

describe('times and numbers', () => {
  it('shows times as readable UTC', () => {
    expect(formatTime('2026-11-24T15:00:00Z')).toBe('2026-11-24 15:00 UTC');
    expect(formatTime('2026-11-24T10:00:00-05:00')).toBe('2026-11-24 15:00 UTC');
    expect(formatTime(null)).toBe('time not charted');
    expect(formatTime('yesterday *evening*')).toBe('yesterday \\*evening\\*');
  });

  it("card times and the core's notes share one formatter, so a note's time reads like the card's", () => {
    for (const iso of ['2026-02-10T13:55:00+00:00', '2026-11-24T10:00:00-05:00'])
      expect(formatTime(iso)).toBe(displayTime(iso));
  });

  it('rounds rates, doses and volumes with the parameter steps, without binary noise', () => {
    const n = numbers(params, NOW);
    expect(n.rate(0.1 + 0.2)).toBe('0.3');
    expect(n.rate(0.1234)).toBe('0.12');
    expect(n.dose(179.9999982)).toBe('180');
    expect(n.volume(20.96)).toBe('21');
    expect(n.rate(-0.0001)).toBe('0');
    expect(n.ago('2026-11-24T10:00:00Z')).toBe('2.5 h ago');
    expect(n.ago('2026-11-21T12:30:00Z')).toBe('3 d ago');
  });

  it('a pain score charted at the evaluation time reads "just now", not "0 h ago"', () => {
    const n = numbers(params, NOW);
    expect(n.ago(NOW.toISOString())).toBe('just now');
  });
});

describe('summaries stay under the CDS Hooks limit', () => {
  it('S1 a summary listing many contraindications stays under 140 characters and says how many more there are', () => {
    const rec = recommendation({
      ruleId: 'S1',
      action: 'contraindicated',
      phase: 'not-started',
      contraindications: [
        { code: 'pregnancy-test-positive', display: 'x', time: null },
        { code: 'pregnancy-condition', display: 'x', time: null },
        { code: 'psychosis', display: 'x', time: null },
        { code: 'ketamine-allergy', display: 'x', time: null },
        { code: 'under-min-age', display: 'x', time: null },
        {
          code: 'vital-breach',
          vital: {
            kind: 'sbp',
            value: 190,
            unit: 'mm[Hg]',
            time: '2026-11-24T10:00:00Z',
            breach: { bound: 'high', limit: 180 },
          },
          time: '2026-11-24T10:00:00Z',
        },
      ],
    });
    const card = only(build({ recommendation: rec }));
    expect([...card.summary].length).toBeLessThan(140);
    expect(card.summary).toMatch(/^Protocol advises against starting ketamine: positive pregnancy test, pregnancy/);
    // Cut at a whole label, with the count of the rest visible (never a label cut in half with "…").
    const more = /^Protocol advises against starting ketamine: (.+) and (\d+) more$/.exec(card.summary);
    expect(more).not.toBeNull();
    const shown = (more?.[1] ?? '').split(', ');
    expect(shown.length + Number(more?.[2])).toBe(6);
    expect(card.summary).not.toContain('…');
  });

  it('S2 a summary that lists every missing item fits whole when it can', () => {
    const rec = recommendation({
      ruleId: 'S2',
      action: 'needs-data',
      phase: 'not-started',
      recommendedRate: null,
      missing: [{ code: 'weight-missing' }, { code: 'ekg-missing' }, { code: 'pregnancy-test-missing' }],
    });
    expect(only(build({ recommendation: rec })).summary).toBe(
      'Protocol suggests recording a current weight, EKG and pregnancy test before starting ketamine',
    );
  });
});
