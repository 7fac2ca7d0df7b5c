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
 * Escape text that came from the chart (displays, units, notes) so it renders as plain text in
 * GitHub-flavored Markdown: no HTML, links, images, emphasis, tables or new blocks. Line breaks are
 * collapsed to spaces, so chart text can never start a block (heading, list, quote) of its own.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(MARKDOWN_PUNCTUATION, '\\$&');
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
