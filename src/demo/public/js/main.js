// The sandbox page: a mini EHR. It reads and writes this server's FHIR data and calls the CDS service the
// way an EHR does (fhirServer + prefetch rendered from discovery), with a scenario clock for the demo.
import { createFhirClient } from './fhir.js';
import { createCdsClient } from './cds.js';
import { el, renderCards, renderMarkdown, sanitizeHtml } from './cards.js';
import { createInfusionChart } from './infusion-chart.js';
import * as R from './record.js';
import {
  MS_PER_HOUR,
  ago,
  fmtLong,
  fmtShort,
  fromLocalInput,
  iso,
  setTimeZone,
  timeZone,
  toLocalInput,
  toMs,
} from './time.js';

const USER_ID = 'Practitioner/demo-clinician';
const $ = (id) => document.getElementById(id);
/** A shallow copy without one key (a resource to POST loses its client-side id). */
const withoutKey = (object, key) => Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));

const state = {
  config: null,
  params: null,
  examples: [],
  patients: [],
  services: [],
  patientId: null,
  now: Date.now(),
  record: null,
  summary: null,
  /** The order being entered: { resource: MedicationRequest, stored: boolean } */
  draft: null,
  cards: [],
  nextReviewMs: null,
  /** The maximum tolerated rate (mg/kg/h) the latest patient-view card carries, or null. */
  maxToleratedRate: null,
  /** Only the latest hook call and the latest record load are shown (a slow earlier answer is dropped). */
  hookSeq: 0,
  loadSeq: 0,
  /**
   * The user's latest choice of patient and scenario time. Each choice replaces the one before: its reads
   * and hook calls are aborted and whatever they would still render is dropped, so the latest choice wins.
   */
  choice: { generation: 0, controller: new AbortController() },
  chart: null,
  fhir: null,
  cds: null,
};

// ---------- helpers ----------

/** A new choice of patient or time: the previous choice's requests are aborted, its answers ignored. */
function newChoice() {
  state.choice.controller.abort();
  state.choice = { generation: state.choice.generation + 1, controller: new AbortController() };
  return state.choice;
}
const isCurrent = (choice) => choice === state.choice;
const isAbort = (err) => err?.name === 'AbortError';

async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

function logActivity(message, kind = '') {
  const item = el('li', { class: kind }, el('span', { class: 'time', text: fmtShort(state.now) }), message);
  $('activity').prepend(item);
}

/**
 * Charting at a scenario time branches the scenario there: what the example charted later would contradict
 * the new course, so it is deleted from the FHIR server ("Reset data" brings it back).
 */
async function branchHere() {
  const r = state.record;
  if (!r) return;
  const later = [
    ...r.observations,
    ...r.administrations,
    ...r.requests,
    ...r.adverseEvents,
    ...r.consents,
    ...r.reports,
    ...r.conditions,
  ].filter((x) => (R.clinicalStart(x) ?? -Infinity) > state.now);
  if (!later.length) return;
  for (const x of later) await state.fhir.remove(`${x.resourceType}/${x.id}`);
  logActivity(
    `The scenario branches here: ${later.length} later entr${later.length === 1 ? 'y' : 'ies'} removed (Reset data restores them)`,
  );
  state.record = await R.loadRecord(state.fhir, state.patientId);
  state.summary = R.summarise(state.record, state.now, state.params);
}

function setStatus(message, isError = false) {
  const node = $('hook-status');
  node.textContent = message;
  node.classList.toggle('error', isError);
}

function serviceFor(hook) {
  const service = state.services.find((s) => s.hook === hook);
  if (!service)
    throw new Error(
      `The CDS service offers no ${hook} service (discovery lists ${state.services.map((s) => s.id).join(', ') || 'none'})`,
    );
  return service;
}

const encounterId = () => state.summary?.encounter?.id;

function baseContext() {
  const context = { userId: USER_ID, patientId: state.patientId };
  if (encounterId()) context.encounterId = encounterId();
  return context;
}

// ---------- patient list, header, chart, orders ----------

function renderPatientList() {
  const list = $('patient-list');
  list.replaceChildren();
  const byId = new Map(state.patients.map((p) => [p.id, p]));
  const entries = [
    ...state.examples.map((e) => ({
      id: e.patientId,
      title: e.title,
      sub: [byId.get(e.patientId) ? R.patientName(byId.get(e.patientId)) : null, e.kind].filter(Boolean).join(' · '),
      description: e.description,
    })),
    ...state.patients
      .filter((p) => !state.examples.some((e) => e.patientId === p.id))
      .map((p) => ({ id: p.id, title: R.patientName(p), sub: `Patient/${p.id}` })),
  ];
  for (const entry of entries) {
    const button = el(
      'button',
      {
        type: 'button',
        title: entry.description ?? '',
        'data-patient': entry.id,
        'aria-current': String(entry.id === state.patientId),
      },
      el('span', { class: 'title', text: entry.title }),
      el('span', { class: 'sub', text: entry.sub }),
    );
    button.addEventListener('click', () => guarded(() => selectPatient(entry.id)));
    list.append(el('li', {}, button));
  }
  if (!entries.length) list.append(el('li', { class: 'muted', text: 'No patients on the FHIR server.' }));
  const current = entries.find((e) => e.id === state.patientId);
  $('patients-current').textContent = current ? current.title : `${entries.length} patients`;
}

/** On a narrow screen the patient list folds once a patient is chosen (it would fill the first screen). */
const NARROW = window.matchMedia('(max-width: 700px)');
function foldPatientListIfNarrow() {
  $('patients-box').open = !(NARROW.matches && state.patientId);
}

/** The clock and the chosen patient's scenario chips: rendered at once on every choice, before any load. */
function renderClock() {
  $('clock-now').textContent = fmtLong(state.now);
  $('clock-now').dataset.ms = String(state.now);
  // Never under the user's fingers: a time being typed is not overwritten by a render.
  if (document.activeElement !== $('clock-pick')) $('clock-pick').value = toLocalInput(state.now);
  const patientId = state.patientId;
  const example = state.examples.find((e) => e.patientId === patientId);
  const chips = $('scenario-times');
  // The chips are drawn anew: the one that had the keyboard focus keeps it (a key pressed on it still counts).
  const focusedAt = chips.contains(document.activeElement) ? document.activeElement.dataset.at : null;
  chips.replaceChildren();
  for (const t of example?.scenarioTimes ?? []) {
    const at = toMs(t.at);
    if (at === null) continue;
    const chip = el('button', {
      type: 'button',
      class: `chip${at === state.now ? ' met' : ''}`,
      title: t.expectedRuleId ? `Expected rule: ${t.expectedRuleId}` : '',
      'aria-pressed': String(at === state.now),
      'data-for-patient': patientId,
      'data-at': iso(at),
      text: `${fmtShort(at)} · ${t.label}${t.expectedRuleId ? ` (${t.expectedRuleId})` : ''}`,
    });
    // A chip belongs to its patient: a click on a chip left from another patient changes nothing.
    chip.addEventListener('click', () => guarded(() => setNow(at, patientId)));
    chips.append(chip);
    if (focusedAt === iso(at)) chip.focus();
  }
  if (state.patientId)
    history.replaceState(null, '', `#patient=${encodeURIComponent(state.patientId)}&t=${iso(state.now)}`);
}

function renderHeader() {
  const s = state.summary;
  const p = s.patient;
  $('patient-name').textContent = R.patientName(p);
  $('patient-demo').textContent = [
    p.gender ? p.gender[0].toUpperCase() + p.gender.slice(1) : 'Sex unknown',
    s.age !== null ? `${s.age} y` : null,
    p.birthDate ? `born ${p.birthDate}` : null,
    `Patient/${p.id}`,
  ]
    .filter(Boolean)
    .join(' · ');

  const fact = (label, value) => el('div', {}, el('b', { text: label }), value);
  const current = s.running;
  $('patient-facts').replaceChildren(
    fact('Weight', s.weight ? `${s.weight.value} ${s.weight.unit} (${ago(s.weight.time, state.now)})` : 'not charted'),
    fact(
      'Encounter',
      s.encounter
        ? `${s.encounter.class?.display ?? s.encounter.class?.code ?? 'encounter'} since ${fmtShort(R.clinicalStart(s.encounter))}`
        : 'no open encounter',
    ),
    fact('Diagnoses', s.diagnoses.join('; ') || 'none active'),
    fact('Allergies', s.allergies.join('; ') || 'none recorded'),
    fact(
      'Ketamine',
      current
        ? `running at ${current.charted} since ${fmtShort(current.start)}`
        : s.segments.length
          ? 'not running (infusion ended)'
          : 'not started',
    ),
    fact('Last pain', s.pain.length ? `${s.pain.at(-1).score}/10 (${ago(s.pain.at(-1).time, state.now)})` : 'none'),
  );
  $('prerequisites').replaceChildren(
    el('span', { class: 'small muted', text: 'Prerequisites (display only):' }),
    ...s.prerequisites.map((item) =>
      el('span', {
        class: `chip ${item.state}`,
        'data-state': item.state,
        text: `${item.state === 'met' ? '✓' : item.state === 'bad' ? '✗' : '!'} ${item.label}`,
      }),
    ),
  );
}

function renderChart() {
  if (!state.chart) state.chart = createInfusionChart($('chart'));
  const shown = state.chart.update(state.summary, state.now, state.params, {
    nextReviewMs: state.nextReviewMs,
    maxToleratedRate: state.maxToleratedRate,
  });
  const s = state.summary;
  $('chart-summary').textContent =
    `${s.segments.length} rate segment${s.segments.length === 1 ? '' : 's'} · ${s.pain.length} pain score${s.pain.length === 1 ? '' : 's'}` +
    (state.nextReviewMs ? ` · next review ${fmtShort(state.nextReviewMs)}` : '');
  $('chart').setAttribute('aria-label', shown.description);
  $('chart-legend').textContent =
    `Times in ${timeZone()}. Triangles mark rate changes; crosses adverse effects; diamonds vital signs out of range; ` +
    'dashed lines the hard maximum rate, the maximum tolerated rate (when a card reports one) and the target pain. ' +
    'Data after the scenario time is hidden.';
}

function renderOrders() {
  const list = $('orders');
  list.replaceChildren();
  for (const order of state.summary.orders) {
    const rate = R.orderRate(order);
    const item = el(
      'li',
      { 'data-order': order.id },
      el('span', { class: `status ${order.status}`, text: order.status }),
      el('span', { text: rate ? `${rate.value} ${rate.unit}` : 'no rate' }),
      el('span', {
        class: 'muted',
        text: `${order.authoredOn ? fmtShort(toMs(order.authoredOn)) : ''} · MedicationRequest/${order.id}`,
      }),
    );
    if (order.status === 'draft') {
      const load = el('button', { type: 'button', text: 'Open in order form', 'data-testid': 'open-draft' });
      load.addEventListener('click', () => setDraft({ resource: order, stored: true }));
      item.append(load);
    }
    list.append(item);
  }
  if (!state.summary.orders.length) list.append(el('li', { class: 'muted', text: 'No ketamine orders.' }));
}

function renderDraft() {
  const node = $('draft-status');
  node.replaceChildren();
  if (!state.draft) {
    node.textContent = 'No draft order. Fill in a rate and select or sign it.';
    return;
  }
  const rate = R.orderRate(state.draft.resource);
  node.append(
    `Draft: ketamine ${rate ? `${rate.value} ${rate.unit}` : '(no rate)'} — ${state.draft.stored ? `saved as MedicationRequest/${state.draft.resource.id}` : 'not saved yet'}. `,
  );
  const discard = el('button', { type: 'button', class: 'quiet', text: 'Discard draft' });
  discard.addEventListener('click', async () => {
    if (state.draft?.stored) await state.fhir.remove(`MedicationRequest/${state.draft.resource.id}`);
    state.draft = null;
    await refresh();
  });
  node.append(discard);
}

async function refresh(choice = state.choice) {
  if (!state.patientId) return;
  const seq = ++state.loadSeq;
  let record;
  try {
    record = await R.loadRecord(state.fhir, state.patientId, choice.controller.signal);
  } catch (err) {
    if (isCurrent(choice)) $('main').removeAttribute('aria-busy'); // failed, not replaced: show what there is
    throw err;
  }
  if (seq !== state.loadSeq || !isCurrent(choice)) return;
  $('main').removeAttribute('aria-busy');
  state.record = record;
  state.summary = R.summarise(state.record, state.now, state.params);
  for (const id of ['empty']) $(id).hidden = true;
  for (const id of ['patient', 'chart-panel', 'work']) $(id).hidden = false;
  renderClock();
  renderHeader();
  renderChart();
  renderOrders();
  renderDraft();
}

// ---------- CDS Hooks ----------

async function fire(hook, extraContext = {}, choice = state.choice) {
  const service = serviceFor(hook);
  setStatus(`Calling ${service.id}…`);
  const context = { ...baseContext(), ...extraContext };
  const seq = ++state.hookSeq;
  const { response, ms } = await state.cds.call(service, context, state.now, choice.controller.signal);
  const cards = response.cards ?? [];
  if (seq !== state.hookSeq || !isCurrent(choice)) return cards;
  setStatus(
    `${hook}: ${cards.length} card${cards.length === 1 ? '' : 's'} from ${service.id} in ${ms} ms (at ${fmtShort(state.now)}).`,
  );
  logActivity(
    `${hook} → ${cards.length ? cards.map((c) => c.extension?.['ketamine-protocol']?.ruleId ?? c.indicator).join(', ') : 'no cards'}`,
  );
  state.cards = cards;
  const review = cards.map((c) => toMs(c.extension?.['ketamine-protocol']?.nextReviewAt)).find((t) => t !== null);
  if (hook === 'patient-view') {
    state.nextReviewMs = review ?? null;
    const tolerated = cards
      .map((c) => c.extension?.['ketamine-protocol']?.maxToleratedRate)
      .find((r) => typeof r === 'number');
    state.maxToleratedRate = tolerated ?? null;
  }
  renderCards($('cards'), cards, handlersFor(service));
  renderChart();
  return cards;
}

async function guarded(fn) {
  try {
    await fn();
  } catch (err) {
    if (isAbort(err)) return; // a newer choice replaced this one
    console.error(err);
    setStatus(err.message ?? String(err), true);
  }
}

const firePatientView = () => fire('patient-view');

async function afterChange() {
  await refresh();
  if ($('auto-refresh').checked) await firePatientView();
}

function setRate(order, rate, unit) {
  const instruction = order.dosageInstruction?.[0] ?? {};
  const current = R.orderRate(order);
  if (current && current.value === rate && current.unit === unit) return order;
  return {
    ...order,
    dosageInstruction: [
      {
        ...instruction,
        text: `Ketamine IV infusion at ${rate} ${unit}`,
        doseAndRate: [
          {
            type: {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/dose-rate-type', code: 'ordered', display: 'Ordered' },
              ],
            },
            rateQuantity: { value: rate, unit, system: R.SYSTEMS.ucum, code: unit },
          },
        ],
      },
    ],
  };
}

function setDraft(draft) {
  state.draft = draft;
  const rate = draft ? R.orderRate(draft.resource) : null;
  if (rate) {
    $('order-rate').value = String(rate.value);
    $('order-unit').value = rate.unit;
  }
  renderDraft();
}

/** The draft from the order form: the current draft with the form's rate, or a new one. */
function draftFromForm() {
  const rate = Number($('order-rate').value);
  const unit = $('order-unit').value;
  if (!Number.isFinite(rate) || rate < 0) throw new Error('Enter a rate for the order');
  const base = state.draft?.resource ?? {
    resourceType: 'MedicationRequest',
    id: `draft-${crypto.randomUUID()}`,
    status: 'draft',
    intent: 'order',
    medicationCodeableConcept: {
      coding: [R.ketamineCoding()],
      text: 'Ketamine continuous IV infusion',
    },
    subject: { reference: `Patient/${state.patientId}` },
    ...(encounterId() ? { encounter: { reference: `Encounter/${encounterId()}` } } : {}),
    requester: { reference: USER_ID },
    authoredOn: iso(state.now),
  };
  const resource = setRate(base, rate, unit);
  state.draft = { resource, stored: state.draft?.stored ?? false };
  renderDraft();
  return resource;
}

const orderContext = (order, hook) => ({
  draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: order }] },
  ...(hook === 'order-select' ? { selections: [`MedicationRequest/${order.id}`] } : {}),
});

async function fireOrderSelect() {
  const order = draftFromForm();
  await fire('order-select', orderContext(order, 'order-select'));
}

async function fireOrderSign() {
  const order = draftFromForm();
  const cards = await fire('order-sign', orderContext(order, 'order-sign'));
  if (cards.length === 0) {
    await signDraft();
    return;
  }
  const signAnyway = el('button', { type: 'button', 'data-testid': 'sign-anyway', text: 'Sign anyway' });
  signAnyway.addEventListener('click', () => guarded(signDraft));
  $('draft-status').append(' The service has cards for this order: accept a suggestion, or ', signAnyway);
}

/** Sign the draft: it becomes the active order (the previous active ketamine order completes) and the infusion runs at its rate. */
async function signDraft() {
  if (!state.draft) throw new Error('No draft order to sign');
  await branchHere();
  const draft = state.draft;
  const previous = state.summary.orders.filter((o) => o.status === 'active' && o.id !== draft.resource.id);
  const signed = { ...draft.resource, status: 'active', authoredOn: iso(state.now) };
  let saved;
  if (draft.stored) saved = await state.fhir.update(signed);
  else {
    saved = await state.fhir.create(withoutKey(signed, 'id'));
  }
  for (const order of previous) await state.fhir.update({ ...order, status: 'completed' });
  const rate = R.orderRate(saved);
  state.draft = null;
  logActivity(`Signed MedicationRequest/${saved.id} at ${rate ? `${rate.value} ${rate.unit}` : '(no rate)'}`);
  if (rate) await changeRate(rate.value, rate.unit, saved.id);
  await afterChange();
}

/** A rate change is a new MedicationAdministration; the running one ends now. 0 stops the infusion. */
async function changeRate(rate, unit, requestId) {
  const running = state.summary.running
    ? state.record.administrations.find((a) => a.id === state.summary.running.id)
    : null;
  if (running) {
    await state.fhir.update({
      ...running,
      status: 'completed',
      effectivePeriod: { ...running.effectivePeriod, end: iso(state.now) },
    });
  }
  if (rate > 0) {
    const activeOrder = requestId ?? state.summary.orders.find((o) => o.status === 'active')?.id;
    await state.fhir.create(R.administration(state.patientId, encounterId(), rate, unit, state.now, activeOrder));
    logActivity(`Infusion ${running ? 'changed' : 'started'}: ${rate} ${unit}`);
  } else {
    logActivity(running ? 'Infusion stopped' : 'No infusion was running');
  }
}

async function applyAction(action) {
  const resource = action.resource ? structuredClone(action.resource) : null;
  const isDraft = (id) => state.draft && state.draft.resource.id === id;
  if (action.type === 'create' && resource) {
    const created = await state.fhir.create(withoutKey(resource, 'id'));
    logActivity(`Created ${created.resourceType}/${created.id}${created.status ? ` (${created.status})` : ''}`);
    if (created.resourceType === 'MedicationRequest' && created.status === 'draft')
      setDraft({ resource: created, stored: true });
  } else if (action.type === 'update' && resource) {
    if (isDraft(resource.id) && !state.draft.stored) {
      setDraft({ resource, stored: false });
      logActivity('Draft order updated');
    } else {
      const updated = await state.fhir.update(resource);
      if (isDraft(resource.id)) setDraft({ resource: updated, stored: true });
      logActivity(`Updated ${updated.resourceType}/${updated.id}${updated.status ? ` (${updated.status})` : ''}`);
    }
  } else if (action.type === 'delete' && action.resourceId) {
    const id = action.resourceId.split('/')[1];
    if (isDraft(id)) {
      if (state.draft.stored) await state.fhir.remove(action.resourceId);
      state.draft = null;
    } else {
      await state.fhir.remove(action.resourceId);
    }
    logActivity(`Deleted ${action.resourceId}`);
  } else {
    throw new Error(`Cannot apply a "${action.type}" action`);
  }
}

function handlersFor(service) {
  return {
    async accept(card, suggestion) {
      await branchHere();
      for (const action of suggestion.actions ?? []) await applyAction(action);
      if (card.uuid) {
        await state.cds.feedback(
          service.id,
          [
            {
              card: card.uuid,
              outcome: 'accepted',
              ...(suggestion.uuid ? { acceptedSuggestions: [{ id: suggestion.uuid }] } : {}),
              outcomeTimestamp: iso(state.now),
            },
          ],
          state.now,
        );
        logActivity(`Feedback sent: accepted "${suggestion.label}"`);
      }
      await refresh();
    },
    async override(card, reason, comment) {
      if (!card.uuid) throw new Error('the card has no uuid');
      const overrideReason = {};
      if (reason) overrideReason.reason = { system: reason.system, code: reason.code, display: reason.display };
      if (comment) overrideReason.userComment = comment;
      await state.cds.feedback(
        service.id,
        [
          {
            card: card.uuid,
            outcome: 'overridden',
            ...(Object.keys(overrideReason).length ? { overrideReason } : {}),
            outcomeTimestamp: iso(state.now),
          },
        ],
        state.now,
      );
      logActivity(`Feedback sent: overridden${reason ? ` (${reason.display ?? reason.code})` : ''}`);
    },
  };
}

// ---------- clock and patient selection ----------

/** What the page knew from cards at the previous choice no longer holds. */
function forgetCards() {
  state.nextReviewMs = null;
  state.maxToleratedRate = null;
}

/** A new scenario time (for `patientId` when given: a chip of another patient changes nothing). */
async function setNow(ms, patientId = state.patientId) {
  if (ms === null || Number.isNaN(ms) || patientId !== state.patientId) return;
  const choice = newChoice();
  state.now = ms;
  forgetCards();
  renderClock();
  $('main').setAttribute('aria-busy', 'true');
  await refresh(choice);
  if (isCurrent(choice) && $('auto-refresh').checked) await fire('patient-view', {}, choice);
}

async function selectPatient(id, atMs = null) {
  const choice = newChoice();
  state.patientId = id;
  state.draft = null;
  state.cards = [];
  forgetCards();
  $('cards').replaceChildren();
  $('activity').replaceChildren();
  setStatus('');
  const example = state.examples.find((e) => e.patientId === id);
  const first = toMs(example?.scenarioTimes?.[0]?.at);
  state.now = atMs ?? first ?? Math.floor(Date.now() / MS_PER_HOUR) * MS_PER_HOUR;
  // The new patient's name, clock and chips at once: a chip clicked now is this patient's.
  const patient = state.patients.find((p) => p.id === id);
  $('patient-name').textContent = patient ? R.patientName(patient) : (example?.title ?? id);
  $('main').setAttribute('aria-busy', 'true');
  renderPatientList();
  renderClock();
  foldPatientListIfNarrow();
  await refresh(choice);
}

function numberOrUndefined(id) {
  const value = $(id).value.trim();
  return value === '' ? undefined : Number(value);
}

function wire() {
  for (const button of document.querySelectorAll('[data-advance]')) {
    button.addEventListener('click', () =>
      guarded(() => setNow(state.now + Number(button.dataset.advance) * MS_PER_HOUR)),
    );
  }
  $('clock-set').addEventListener('click', () => guarded(() => setNow(fromLocalInput($('clock-pick').value))));
  $('clock-pick').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') guarded(() => setNow(fromLocalInput($('clock-pick').value)));
  });
  $('reset-data').addEventListener('click', () =>
    guarded(async () => {
      await fetch('demo/api/reset', { method: 'POST' });
      state.draft = null;
      logActivity('FHIR data reset to the examples');
      await refresh();
    }),
  );
  $('fire-patient-view').addEventListener('click', () => guarded(firePatientView));
  $('fire-order-select').addEventListener('click', () => guarded(fireOrderSelect));
  $('fire-order-sign').addEventListener('click', () => guarded(fireOrderSign));

  $('nurse-pain').addEventListener('submit', (e) => {
    e.preventDefault();
    guarded(async () => {
      const score = Number($('pain-score').value);
      await branchHere();
      await state.fhir.create(R.painObservation(state.patientId, encounterId(), score, state.now));
      logActivity(`Pain score ${score}/10 recorded`);
      $('pain-score').value = '';
      await afterChange();
    });
  });
  $('nurse-vitals').addEventListener('submit', (e) => {
    e.preventDefault();
    guarded(async () => {
      const vitals = {
        sbp: Number($('vital-sbp').value),
        dbp: Number($('vital-dbp').value),
        hr: Number($('vital-hr').value),
      };
      await branchHere();
      for (const resource of R.vitalObservations(state.patientId, encounterId(), vitals, state.now))
        await state.fhir.create(resource);
      logActivity(`Vitals recorded: BP ${vitals.sbp}/${vitals.dbp} mmHg, HR ${vitals.hr}/min`);
      for (const id of ['vital-sbp', 'vital-dbp', 'vital-hr']) $(id).value = '';
      await afterChange();
    });
  });
  $('nurse-rate').addEventListener('submit', (e) => {
    e.preventDefault();
    guarded(async () => {
      await branchHere();
      await changeRate(Number($('rate-value').value), $('rate-unit').value);
      await afterChange();
    });
  });
  $('nurse-vitals').addEventListener('submit', (e) => {
    e.preventDefault();
    guarded(async () => {
      const v = {
        sbp: numberOrUndefined('v-sbp'),
        dbp: numberOrUndefined('v-dbp'),
        hr: numberOrUndefined('v-hr'),
        rr: numberOrUndefined('v-rr'),
        spo2: numberOrUndefined('v-spo2'),
      };
      const observations = R.vitalsObservations(state.patientId, encounterId(), v, state.now);
      if (!observations.length) throw new Error('Enter at least one vital sign');
      await branchHere();
      for (const o of observations) await state.fhir.create(o);
      logActivity(
        `Vitals recorded: ${Object.entries(v)
          .filter(([, x]) => x !== undefined)
          .map(([k, x]) => `${k.toUpperCase()} ${x}`)
          .join(', ')}`,
      );
      for (const id of ['v-sbp', 'v-dbp', 'v-hr', 'v-rr', 'v-spo2']) $(id).value = '';
      await afterChange();
    });
  });
  $('nurse-adverse').addEventListener('submit', (e) => {
    e.preventDefault();
    guarded(async () => {
      const select = $('adverse-code');
      const display = select.selectedOptions[0]?.textContent ?? select.value;
      await branchHere();
      await state.fhir.create(
        R.adverseEvent(
          state.patientId,
          encounterId(),
          select.value,
          display,
          $('adverse-note').value.trim(),
          state.now,
          state.summary.running?.id,
        ),
      );
      logActivity(`Adverse effect recorded: ${display}`);
      $('adverse-note').value = '';
      await afterChange();
    });
  });
}

async function init() {
  state.config = await getJson('demo/api/config');
  const zone = setTimeZone(state.config.timeZone);
  for (const node of document.querySelectorAll('[data-zone]')) node.textContent = zone;
  $('clock-pick').setAttribute('aria-label', `Pick a scenario time (${zone})`);
  state.params = (await getJson('demo/api/parameters')).values;
  R.useValueSets(await getJson('demo/api/value-sets'));
  $('adverse-code').replaceChildren(
    ...R.adverseEffectChoices().map(({ code, display }) => {
      const option = document.createElement('option');
      option.value = code;
      option.textContent = display;
      return option;
    }),
  );
  state.examples = await getJson('demo/api/examples');
  state.fhir = createFhirClient(new URL(state.config.fhirPath, location.href).href);
  state.cds = createCdsClient({
    cdsBase: new URL(state.config.cdsPath, location.href).href,
    demoNowHeader: state.config.demoNowHeader,
    fhir: state.fhir,
  });
  $('server-info').textContent = `FHIR server: ${state.fhir.base}`;
  try {
    state.services = await state.cds.discover();
  } catch (err) {
    setStatus(`CDS discovery failed: ${err.message}`, true);
  }
  try {
    state.patients = await state.fhir.search('Patient', '_count=200');
  } catch {
    state.patients = [];
  }
  wire();
  renderPatientList();
  const hash = new URLSearchParams(location.hash.slice(1));
  const patient = hash.get('patient');
  if (patient) await selectPatient(patient, toMs(hash.get('t')));
  document.body.dataset.ready = 'true';
}

window.sandbox = { state, renderMarkdown, sanitizeHtml };
NARROW.addEventListener('change', foldPatientListIfNarrow);
init().catch((err) => {
  console.error(err);
  setStatus(`The sandbox could not start: ${err.message}`, true);
  document.body.dataset.ready = 'error';
});
