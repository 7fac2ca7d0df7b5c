// Cards shown the way EHRs show them. Markdown detail is rendered by marked with raw HTML escaped, then
// sanitized by DOMPurify (an allow-list of tags, http(s)/mailto links only): a card can never inject HTML.
// The one form control let through is a task-list box (`- [x] …`): a disabled checkbox, nothing else.
import { fmtShort, toMs } from './time.js';

const ALLOWED_TAGS = [
  'p',
  'br',
  'strong',
  'em',
  'del',
  'code',
  'pre',
  'blockquote',
  'ul',
  'ol',
  'li',
  'a',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'span',
  'input',
];
const ALLOWED_ATTR = ['href', 'title', 'align', 'colspan', 'rowspan', 'type', 'checked', 'disabled'];
/** Attributes allowed only on a task-list checkbox (`<input type="checkbox" checked disabled>`). */
const CHECKBOX_ATTR = new Set(['type', 'checked', 'disabled']);
const isCheckbox = (node) =>
  node.nodeName === 'INPUT' && (node.getAttribute('type') ?? '').trim().toLowerCase() === 'checkbox';
const SAFE_URL = /^(?:https?:|mailto:)/i;

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

let configured = false;
function configure() {
  if (configured) return;
  window.marked.use({
    gfm: true,
    breaks: false,
    renderer: {
      // Raw HTML in the Markdown is shown as text, never parsed.
      html(token) {
        return escapeHtml(token.text ?? token.raw ?? '');
      },
    },
  });
  // An <input> survives only as a checkbox; its three attributes exist on no other element.
  window.DOMPurify.addHook('uponSanitizeElement', (node, data) => {
    if (data.tagName === 'input' && !isCheckbox(node)) node.remove();
  });
  window.DOMPurify.addHook('uponSanitizeAttribute', (node, data) => {
    if (CHECKBOX_ATTR.has(data.attrName) && !isCheckbox(node)) data.keepAttr = false;
  });
  window.DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName === 'INPUT') {
      node.setAttribute('type', 'checkbox');
      node.setAttribute('disabled', '');
    }
    if (node.tagName === 'A') {
      const href = node.getAttribute('href') ?? '';
      if (!SAFE_URL.test(href)) node.removeAttribute('href');
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    }
  });
  configured = true;
}

/** Markdown → sanitized HTML string. */
export function renderMarkdown(markdown) {
  configure();
  return sanitizeHtml(window.marked.parse(String(markdown ?? ''), { async: false }));
}

/** HTML → the allow-listed subset (what marked's output goes through; exposed for the browser test). */
export function sanitizeHtml(html) {
  configure();
  // ALLOWED_URI_REGEXP applies to every attribute value not declared URI-safe: `type` (on a checkbox only,
  // see the hooks) is declared so, or `type="checkbox"` would fail the link pattern and the box lose its state.
  return window.DOMPurify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOWED_URI_REGEXP: SAFE_URL,
    ADD_URI_SAFE_ATTR: ['type'],
  });
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function safeLink(url, label) {
  if (!SAFE_URL.test(url ?? '')) return el('span', { text: label });
  return el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: label });
}

function protocolMeta(ext) {
  if (!ext) return [];
  const parts = [];
  if (ext.ruleId) parts.push(`Rule ${ext.ruleId}`);
  if (ext.action) parts.push(`action: ${ext.action}`);
  if (ext.phase) parts.push(`phase: ${ext.phase}`);
  if (ext.currentRate !== null && ext.currentRate !== undefined)
    parts.push(`current ${ext.currentRate} ${ext.unit ?? ''}`);
  if (ext.recommendedRate !== null && ext.recommendedRate !== undefined)
    parts.push(`recommended ${ext.recommendedRate} ${ext.unit ?? ''}`);
  if (ext.draftRate !== null && ext.draftRate !== undefined) parts.push(`draft ${ext.draftRate} ${ext.unit ?? ''}`);
  if (ext.nextReviewAt) parts.push(`next review ${fmtShort(toMs(ext.nextReviewAt))}`);
  if (ext.protocolVersion) parts.push(`protocol v${ext.protocolVersion}`);
  return parts.map((p) => el('span', { text: p }));
}

/**
 * One card element. `handlers.accept(card, suggestion)` and `handlers.override(card, reasonCoding, comment)`
 * return promises; the card shows the outcome, and at-most-one cards disable their other suggestions.
 */
function renderCard(card, handlers) {
  const indicator = ['info', 'warning', 'critical'].includes(card.indicator) ? card.indicator : 'info';
  const ext = card.extension?.['ketamine-protocol'];
  const node = el('article', {
    class: `card indicator-${indicator}`,
    'data-rule': ext?.ruleId,
    'data-action': ext?.action,
    'data-testid': 'card',
  });

  node.append(
    el(
      'div',
      { class: 'card-head' },
      el('span', { class: 'badge', text: indicator }),
      el('span', { class: 'summary', text: card.summary }),
    ),
  );
  const meta = el('div', { class: 'meta' }, ...protocolMeta(ext));
  if (card.source?.label)
    meta.append(
      el('span', {}, 'Source: ', card.source.url ? safeLink(card.source.url, card.source.label) : card.source.label),
    );
  node.append(meta);

  if (card.detail) {
    const detail = el('div', { class: 'detail' });
    detail.innerHTML = renderMarkdown(card.detail); // sanitized above
    // A checklist box is named by its item's text (read-only: the state comes from the record).
    for (const box of detail.querySelectorAll('input[type="checkbox"]'))
      box.setAttribute('aria-label', (box.parentElement?.textContent ?? '').trim() || 'checklist item');
    node.append(detail);
  }
  if (card.links?.length) {
    node.append(
      el(
        'div',
        { class: 'links' },
        ...card.links.map((l) =>
          l.type === 'smart'
            ? el('span', {
                class: 'muted',
                title: 'SMART app links are not launched by this sandbox',
                text: `${l.label} (SMART app)`,
              })
            : safeLink(l.url, l.label),
        ),
      ),
    );
  }

  const outcome = el('div', { class: 'outcome', role: 'status' });
  const actions = el('div', { class: 'actions' });
  const buttons = [];
  const finish = (text, cls) => {
    outcome.textContent = text;
    outcome.className = `outcome ${cls}`;
    node.classList.add('done');
  };

  for (const suggestion of card.suggestions ?? []) {
    const button = el('button', {
      type: 'button',
      class: `suggestion${suggestion.isRecommended ? ' recommended' : ''}`,
      'data-testid': 'suggestion',
      text: suggestion.label,
      title: (suggestion.actions ?? [])
        .map((a) => a.description)
        .filter(Boolean)
        .join('\n'),
    });
    button.addEventListener('click', async () => {
      for (const b of buttons) b.disabled = true;
      try {
        await handlers.accept(card, suggestion);
        finish(`Accepted: ${suggestion.label}`, 'accepted');
        if (card.selectionBehavior === 'any') for (const b of buttons) if (b !== button) b.disabled = false;
      } catch (err) {
        finish(`Could not apply: ${err.message}`, 'error');
        for (const b of buttons) b.disabled = false;
      }
    });
    buttons.push(button);
    actions.append(button);
  }

  const reasons = card.overrideReasons ?? [];
  if (card.suggestions?.length || reasons.length) {
    const overrideButton = el('button', { type: 'button', 'data-testid': 'override', text: 'Override…' });
    const form = el('div', { class: 'override', hidden: true });
    const select = el(
      'select',
      { 'aria-label': 'Override reason' },
      ...(reasons.length ? [] : [el('option', { value: '', text: '(no reason offered)' })]),
      ...reasons.map((r, i) => el('option', { value: String(i), text: r.display ?? r.code })),
    );
    const comment = el('input', {
      type: 'text',
      placeholder: 'comment (optional)',
      maxlength: '500',
      'aria-label': 'Override comment',
    });
    const send = el('button', { type: 'button', 'data-testid': 'send-override', text: 'Send override' });
    send.addEventListener('click', async () => {
      const reason = reasons[Number(select.value)] ?? null;
      send.disabled = true;
      try {
        await handlers.override(card, reason, comment.value.trim());
        for (const b of [...buttons, overrideButton]) b.disabled = true;
        form.hidden = true;
        finish(`Overridden${reason ? `: ${reason.display ?? reason.code}` : ''}`, 'overridden');
      } catch (err) {
        finish(`Feedback failed: ${err.message}`, 'error');
        send.disabled = false;
      }
    });
    form.append(select, comment, send);
    overrideButton.addEventListener('click', () => {
      form.hidden = !form.hidden;
    });
    actions.append(overrideButton);
    node.append(actions, form);
  } else if (buttons.length) {
    node.append(actions);
  }
  node.append(outcome);
  return node;
}

export function renderCards(container, cards, handlers) {
  container.replaceChildren();
  if (!cards.length) {
    container.append(
      el('p', {
        class: 'no-cards',
        'data-testid': 'no-cards',
        text: 'No cards: the protocol has nothing to add here.',
      }),
    );
    return;
  }
  for (const card of cards) container.append(renderCard(card, handlers));
}

export { el };
