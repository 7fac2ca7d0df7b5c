/**
 * Text helpers for card Markdown: escaping of chart text, readable times, rounded numbers with units.
 * Every number printed on a card goes through one of the rounding helpers (CH-C8: never "179.99999820").
 */
import type { ProtocolParameters } from '../config/parameters';
import { displayQuantity, displayTime } from '../protocol/display';
import { MS_PER_DAY, MS_PER_HOUR, roundTo, toMs } from '../protocol/units';

/** Characters that start Markdown inline markup (emphasis, code, links, images, strike, tables, headings). */
const MARKDOWN_PUNCTUATION = /[\\`*_[\]~|#]/g;

/**
 * Characters a reader cannot see or that reorder what they see: C0/C1 controls, every Unicode format
 * character (bidi embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, the marks U+200E,
 * U+200F and U+061C, zero-width U+200B–U+200D and U+2060–U+2064, U+FEFF, soft hyphen, tag characters…),
 * lone surrogates, the combining grapheme joiner and the Hangul fillers that render as nothing.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\u034F\u115F\u1160\u3164\uFFA0]/gu;

/**
 * GFM extended autolinks: `scheme://` (http, https, ftp…), `www.`, and e-mail addresses (also behind
 * `mailto:`/`xmpp:`). A backslash before the `:`, the `.` or the `@` (CommonMark lets any ASCII punctuation
 * be escaped) breaks the pattern without changing the text a reader sees.
 */
const AUTOLINK_TRIGGERS: Array<[RegExp, string]> = [
  [/:(?=\/\/)/g, '\\:'],
  [/(www)\./gi, '$1\\.'],
  [/@/g, '\\@'],
];

/**
 * Escape text that came from the chart (displays, units, notes) so it renders as the same plain text in
 * CommonMark and GitHub-flavored Markdown: no HTML, links (also no GFM autolinks: `https://…`, `www.…`,
 * e-mail addresses), images, emphasis, tables or new blocks. Line breaks are collapsed to spaces, so chart
 * text can never start a block (heading, list, quote) of its own, and invisible or direction-changing
 * characters (bidi overrides, zero-width characters, controls) are removed. The one escaping function
 * for chart text: every card string built from the record goes through it.
 */
export function escapeMarkdown(text: string): string {
  let out = text
    .replace(/[^\S\uFEFF]+/g, ' ') // whitespace (but the zero-width U+FEFF, removed next) → one space
    .replace(INVISIBLE, '')
    .replace(/ {2,}/g, ' ')
    .trim()
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(MARKDOWN_PUNCTUATION, '\\$&');
  for (const [pattern, replacement] of AUTOLINK_TRIGGERS) out = out.replace(pattern, replacement);
  // Text that would open a block at the start of a line: a bullet, a setext underline, an ordered list.
  // (only what CommonMark reads as one: "- x", "+", "---", "==", "1. x", "2)"; never "-5 mg" or "1.0.0").
  return out.replace(/^([-+=])(?=$| |\1+ *$)/, '\\$1').replace(/^(\d{1,9})([.)])(?= |$)/, '$1\\$2');
}

/**
 * "2026-11-24 15:00 UTC" (the core's displayTime, so card text and the core's notes read alike); an
 * unreadable time is shown as charted (escaped).
 */
export function formatTime(iso: string | null | undefined): string {
  return escapeMarkdown(displayTime(iso));
}

/** "118 mmHg", "82/min", "97%": a value with its unit as clinicians write it (displayQuantity), escaped. */
export function formatQuantity(value: string, unit: string | null | undefined): string {
  return escapeMarkdown(displayQuantity(value, unit));
}

/** "1 score", "3 scores". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Number formatting with the protocol's rounding steps. */
export interface Numbers {
  /** mg/kg/h, rounded to rateRounding. */
  rate(value: number): string;
  /** mg/h, rounded to doseRounding. */
  dose(value: number): string;
  /** mL/h, rounded to volumeRounding. */
  volume(value: number): string;
  /**
   * Other quantities (kg, vitals, pain, hours, mg/mL): rounded to doseRounding, the finest display
   * step the parameters define for a measured quantity.
   */
  plain(value: number): string;
  /** "3.5 h ago" / "2 d ago" relative to now; "" when the time is unreadable. */
  ago(iso: string | null | undefined): string;
}

export function numbers(params: ProtocolParameters, now: Date): Numbers {
  const fmt = (value: number, step: number) => String(roundTo(value, step) + 0);
  const plain = (value: number) => fmt(value, params.doseRounding);
  return {
    rate: (value) => fmt(value, params.rateRounding),
    dose: (value) => fmt(value, params.doseRounding),
    volume: (value) => fmt(value, params.volumeRounding),
    plain,
    ago(iso) {
      const ms = toMs(iso);
      if (ms === null) return '';
      const elapsed = now.getTime() - ms;
      if (elapsed < 0) return 'in the future';
      if (elapsed >= MS_PER_DAY) return `${plain(elapsed / MS_PER_DAY)} d ago`;
      const hours = plain(elapsed / MS_PER_HOUR);
      return hours === '0' ? 'just now' : `${hours} h ago`;
    },
  };
}
