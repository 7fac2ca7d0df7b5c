/**
 * The protocol documentation page every card links to (DOCS_URL's default, `${CDS_PUBLIC_BASE_URL}/docs/protocol`):
 * a static HTML page generated at startup from the reviewed parameter file and the rule texts the cards
 * use, so what a clinician reads there is exactly what the service applies. No patient data, no script.
 */
import { numbers } from '../cards/format';
import { ruleMeaning, RULE_TITLES } from '../cards/text';
import type { ParameterFile, ProtocolParameters } from '../config/parameters';
import type { OrderRuleId, RuleId } from '../protocol/recommendation';

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const row = (cells: string[]) => `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;

export function renderProtocolPage(file: ParameterFile, values: ProtocolParameters, now: Date): string {
  const n = numbers(values, now);
  const rules = (Object.keys(RULE_TITLES) as Array<RuleId | OrderRuleId>).map((id) =>
    row([id, RULE_TITLES[id], ruleMeaning(id, values, n)]),
  );
  const parameters = Object.entries(file.parameters).map(([name, p]) =>
    row([name, String(p.value), p.unit, p.provenance, p.source, p.rationale]),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(file.title)} (protocol ${escapeHtml(file.protocolVersion)})</title>
<style>body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;line-height:1.4}
table{border-collapse:collapse;width:100%;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}</style>
</head>
<body>
<h1 id="protocol">${escapeHtml(file.title)}</h1>
<p>Protocol version ${escapeHtml(file.protocolVersion)}. ${escapeHtml(file.evidenceLevel)}.</p>
<p>Source: ${escapeHtml(file.citation)}</p>
${file.reviewedBy ? `<p><strong>Review status:</strong> ${escapeHtml(file.reviewedBy)}</p>` : ''}
<p>The service recommends; it never orders. Every card names the rule below that produced it.</p>
<h2 id="rules">Rules</h2>
<table><thead><tr><th>id</th><th>rule</th><th>meaning</th></tr></thead><tbody>
${rules.join('\n')}
</tbody></table>
<h2 id="parameters">Parameters</h2>
<table><thead><tr><th>name</th><th>value</th><th>unit</th><th>provenance</th><th>source</th><th>rationale</th></tr></thead><tbody>
${parameters.join('\n')}
</tbody></table>
</body>
</html>
`;
}
