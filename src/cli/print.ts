/**
 * Cards printed for a terminal, the way an EHR shows them: indicator, summary, the protocol's
 * machine-readable result, the Markdown detail as text, suggestions, override reasons and links.
 */
import type { Card, CardsResponse } from './ehr';

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  indicator(indicator: string, s: string): string;
}

const ESC = '\u001b[';
export const ANSI: Style = {
  bold: (s) => `${ESC}1m${s}${ESC}22m`,
  dim: (s) => `${ESC}2m${s}${ESC}22m`,
  indicator: (indicator, s) => {
    const colour = indicator === 'critical' ? '31' : indicator === 'warning' ? '33' : '36';
    return `${ESC}1;${colour}m${s}${ESC}0m`;
  },
};
export const PLAIN: Style = { bold: (s) => s, dim: (s) => s, indicator: (_i, s) => s };

const indent = (text: string, by = '    '): string =>
  text
    .split('\n')
    .map((line) => (line.trim() ? `${by}${line}` : ''))
    .join('\n');

function protocolLine(card: Card): string | null {
  const ext = card.extension?.['ketamine-protocol'];
  if (!ext) return null;
  const parts: string[] = [];
  if (ext.ruleId) parts.push(`rule ${String(ext.ruleId)}`);
  if (ext.action) parts.push(`action ${String(ext.action)}`);
  if (ext.phase) parts.push(`phase ${String(ext.phase)}`);
  const unit = typeof ext.unit === 'string' ? ` ${ext.unit}` : '';
  const current = ext.currentRate ?? null;
  const recommended = ext.recommendedRate ?? null;
  if (current !== null || recommended !== null) parts.push(`rate ${current ?? '–'} → ${recommended ?? '–'}${unit}`);
  if (ext.draftRate !== null && ext.draftRate !== undefined) parts.push(`draft ${String(ext.draftRate)}${unit}`);
  if (ext.nextReviewAt) parts.push(`next review ${String(ext.nextReviewAt)}`);
  if (ext.protocolVersion) parts.push(`protocol v${String(ext.protocolVersion)}`);
  return parts.join(' · ');
}

function formatCard(card: Card, index: number, style: Style): string {
  const lines: string[] = [];
  const label = `[${card.indicator.toUpperCase()}]`;
  lines.push(`${style.indicator(card.indicator, `${index + 1}. ${label}`)} ${style.bold(card.summary)}`);
  const protocol = protocolLine(card);
  if (protocol) lines.push(`    ${style.dim(protocol)}`);
  if (card.source?.label)
    lines.push(`    ${style.dim(`source: ${card.source.label}${card.source.url ? ` <${card.source.url}>` : ''}`)}`);
  if (card.detail) lines.push('', indent(card.detail.trim()), '');
  if (card.suggestions?.length) {
    lines.push(`    Suggestions${card.selectionBehavior ? ` (${card.selectionBehavior})` : ''}:`);
    for (const s of card.suggestions) {
      lines.push(`      • ${s.label}${s.isRecommended ? ' (recommended)' : ''}`);
      for (const a of s.actions ?? []) {
        const target = a.resource
          ? `${a.resource.resourceType}${a.resource.id ? `/${a.resource.id}` : ''}`
          : (a.resourceId ?? '');
        lines.push(`          ${a.type} ${target}${a.description ? ` — ${a.description}` : ''}`);
      }
    }
  }
  if (card.overrideReasons?.length) {
    lines.push(`    Override reasons: ${card.overrideReasons.map((r) => r.display ?? r.code ?? '').join('; ')}`);
  }
  for (const link of card.links ?? []) lines.push(`    Link: ${link.label} <${link.url}>`);
  return lines.join('\n');
}

export function formatResponse(response: CardsResponse, style: Style): string {
  if (response.cards.length === 0) return style.dim('No cards: the service has nothing to say for this context.');
  const parts = response.cards.map((card, i) => formatCard(card, i, style));
  if (response.systemActions?.length) parts.push(`System actions: ${response.systemActions.length}`);
  return parts.join('\n\n');
}
