// The CDS effectiveness report page: asks GET ../effectiveness for the period and version chosen (sending
// the reports credential when the service asks for one), then draws the charts (Chart.js, served with the
// page) and the tables. Only aggregates arrive here; every text is set with textContent, never as HTML.
// The credential is kept in this page's memory only (never in the URL or in storage).

const MS_PER_DAY = 86_400_000;
/** The period shown when the URL does not name one: the last year, up to today (UTC). */
const DEFAULT_DAYS = 365;
const COLORS = {
  accepted: '#2e7d32',
  overridden: '#b35c00',
  none: '#9aa5b1',
  rate: '#1f5fa8',
  reason: '#8e1a8e',
};

const $ = (id) => document.getElementById(id);
const state = { token: null, report: null, charts: {} };

const day = (ms) => new Date(ms).toISOString().slice(0, 10);
const percent = (x) => `${(x * 100).toFixed(1)} %`;
const rateText = (r) => (r ? `${percent(r.rate)} (${percent(r.low95)}–${percent(r.high95)})` : '–');

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function reasonLabel(r) {
  if (r.display) return r.display;
  if (r.code) return `${r.code} (${r.system})`;
  return 'No coded reason';
}

function setStatus(text, isError = false) {
  const status = $('status');
  status.textContent = text;
  status.classList.toggle('error', isError);
}

function query() {
  const params = new URLSearchParams();
  for (const name of ['from', 'to', 'version']) {
    const value = $(name).value;
    if (value) params.set(name, value);
  }
  return params;
}

async function request(params) {
  const url = new URL(`../effectiveness?${params}`, window.location.href);
  const headers = { Accept: params.get('format') === 'csv' ? 'text/csv' : 'application/json' };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  return fetch(url, { headers, cache: 'no-store' });
}

async function problem(res) {
  try {
    const outcome = await res.json();
    return outcome.issue?.[0]?.diagnostics ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

async function load() {
  document.body.dataset.ready = 'false';
  setStatus('Loading…');
  const res = await request(query());
  if (res.status === 401) {
    $('token-box').hidden = false;
    $('token').focus();
    setStatus(
      state.token ? 'The reports credential was refused.' : 'Reports need a credential: enter it and press Show.',
      true,
    );
    document.body.dataset.ready = 'true';
    return;
  }
  if (!res.ok) {
    setStatus(await problem(res), true);
    document.body.dataset.ready = 'true';
    return;
  }
  const report = await res.json();
  state.report = report;
  render(report);
  $('download-csv').disabled = false;
  const versions = report.protocolVersion ? `protocol ${report.protocolVersion}` : 'all protocol versions';
  setStatus(
    report.totals.calls === 0
      ? `No hook calls from ${report.period.from} to ${report.period.to} (${versions}).`
      : `${report.totals.calls} hook calls from ${report.period.from} to ${report.period.to}, ${versions}.`,
  );
  document.body.dataset.ready = 'true';
}

function fillVersions(report) {
  const select = $('version');
  const chosen = select.value;
  for (const option of [...select.options].slice(1)) option.remove();
  const versions = new Set(report.availableVersions);
  if (chosen) versions.add(chosen);
  for (const v of versions) {
    const option = document.createElement('option');
    option.value = v;
    option.textContent = v;
    select.append(option);
  }
  select.value = chosen;
}

function tiles(dl, items) {
  dl.replaceChildren(
    ...items.map(([label, value, sub]) => {
      const div = document.createElement('div');
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = value;
      if (sub) {
        const span = document.createElement('span');
        span.className = 'ci';
        span.textContent = sub;
        dd.append(span);
      }
      div.append(dt, dd);
      return div;
    }),
  );
}

function cell(text, className) {
  const td = document.createElement('td');
  if (text instanceof Node) td.append(text);
  else td.textContent = String(text);
  if (className) td.className = className;
  return td;
}

function fillTable(table, rows, columns) {
  const body = table.tBodies[0];
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement('tr');
      tr.append(...columns.map(([pick, className]) => cell(pick(row), className)));
      return tr;
    }),
  );
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell('None in this period.', 'muted');
    td.colSpan = table.tHead.rows[0].cells.length;
    tr.append(td);
    body.append(tr);
  }
}

function indicator(value) {
  const span = document.createElement('span');
  span.className = `indicator ${value}`;
  span.textContent = value;
  return span;
}

function reasonList(reasons) {
  if (reasons.length === 0) return '–';
  const ul = document.createElement('ul');
  ul.className = 'reasons';
  for (const r of reasons) {
    const li = document.createElement('li');
    li.textContent = `${reasonLabel(r)}: ${r.count}`;
    ul.append(li);
  }
  return ul;
}

const num = 'number';
/** Long category labels are shortened on the axis, more on a narrow chart (tooltips and tables carry them whole). */
const PX_PER_LABEL_CHAR = 14;
const MIN_LABEL = 12;
const shortLabels = {
  callback(value) {
    const label = String(this.getLabelForValue(value));
    const max = Math.max(MIN_LABEL, Math.floor(this.chart.width / PX_PER_LABEL_CHAR));
    return label.length > max ? `${label.slice(0, max - 1)}…` : label;
  },
};

function chart(id, config, label) {
  state.charts[id]?.destroy();
  const canvas = $(id);
  canvas.setAttribute('aria-label', label);
  state.charts[id] = new window.Chart(canvas, {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options },
  });
}

function render(report) {
  fillVersions(report);
  $('report').hidden = false;
  const t = report.totals;
  tiles($('totals'), [
    ['Hook calls', t.calls],
    ['Calls with cards', t.callsWithCards],
    ['Cards shown', t.cardsShown],
    ['Accepted', t.accepted],
    ['Overridden', t.overridden],
    ['No feedback', t.noFeedback],
    [
      'Acceptance rate',
      t.acceptanceRate ? percent(t.acceptanceRate.rate) : '–',
      t.acceptanceRate ? `95 % CI ${percent(t.acceptanceRate.low95)}–${percent(t.acceptanceRate.high95)}` : '',
    ],
    ['Median time to feedback', duration(t.medianSecondsToFeedback)],
    ['Degraded calls', t.degradedCalls],
    ['Failed calls', t.failedCalls],
  ]);
  tiles($('set-aside'), [
    ["Another patient's", report.setAside.otherPatient],
    ['Unreadable', report.setAside.unreadable],
    ['Dated after now', report.setAside.afterNow],
  ]);

  fillTable($('rules-table'), report.rules, [
    [(r) => r.ruleId],
    [(r) => indicator(r.indicator)],
    [(r) => r.cardsShown, num],
    [(r) => r.accepted, num],
    [(r) => r.overridden, num],
    [(r) => r.noFeedback, num],
    [(r) => rateText(r.acceptanceRate)],
    [(r) => duration(r.medianSecondsToFeedback), num],
    [(r) => reasonList(r.overriddenByReason)],
  ]);
  fillTable($('hooks-table'), report.hooks, [
    [(h) => h.hook],
    [(h) => h.calls, num],
    [(h) => h.degraded, num],
    [(h) => h.failed, num],
    [(h) => h.cardsShown, num],
    [(h) => h.accepted, num],
    [(h) => h.overridden, num],
    [(h) => rateText(h.acceptanceRate)],
  ]);
  fillTable($('degraded-table'), report.degradedCalls, [[(d) => d.outcome], [(d) => d.cause], [(d) => d.calls, num]]);
  fillTable($('versions-table'), report.versions, [
    [(v) => v.protocolVersion],
    [(v) => v.calls, num],
    [(v) => v.cardsShown, num],
    [(v) => v.accepted, num],
    [(v) => v.overridden, num],
    [(v) => rateText(v.acceptanceRate)],
  ]);

  const ruleLabels = report.rules.map((r) => `${r.ruleId} · ${r.indicator}`);
  chart(
    'chart-rules',
    {
      type: 'bar',
      data: {
        labels: ruleLabels,
        datasets: [
          { label: 'Accepted', data: report.rules.map((r) => r.accepted), backgroundColor: COLORS.accepted },
          { label: 'Overridden', data: report.rules.map((r) => r.overridden), backgroundColor: COLORS.overridden },
          { label: 'No feedback', data: report.rules.map((r) => r.noFeedback), backgroundColor: COLORS.none },
        ],
      },
      options: {
        indexAxis: 'y',
        scales: {
          x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
          y: { stacked: true, ticks: shortLabels },
        },
      },
    },
    `Cards shown by rule: ${report.rules
      .map(
        (r) =>
          `${r.ruleId} ${r.indicator}: ${r.accepted} accepted, ${r.overridden} overridden, ${r.noFeedback} no feedback`,
      )
      .join('; ')}`,
  );
  chart(
    'chart-reasons',
    {
      type: 'bar',
      data: {
        labels: report.overrideReasons.map(reasonLabel),
        datasets: [
          { label: 'Overrides', data: report.overrideReasons.map((r) => r.count), backgroundColor: COLORS.reason },
        ],
      },
      options: {
        indexAxis: 'y',
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { ticks: shortLabels } },
      },
    },
    `Override reasons: ${report.overrideReasons.map((r) => `${reasonLabel(r)}: ${r.count}`).join('; ') || 'none'}`,
  );
  chart(
    'chart-trend',
    {
      data: {
        labels: report.weekly.map((w) => w.weekStart),
        datasets: [
          {
            type: 'bar',
            label: 'Accepted',
            data: report.weekly.map((w) => w.accepted),
            backgroundColor: COLORS.accepted,
            stack: 'cards',
            order: 1,
          },
          {
            type: 'bar',
            label: 'Overridden',
            data: report.weekly.map((w) => w.overridden),
            backgroundColor: COLORS.overridden,
            stack: 'cards',
            order: 1,
          },
          {
            type: 'bar',
            label: 'No feedback',
            data: report.weekly.map((w) => w.noFeedback),
            backgroundColor: COLORS.none,
            stack: 'cards',
            order: 1,
          },
          {
            type: 'line',
            label: 'Acceptance rate (%)',
            data: report.weekly.map((w) => (w.acceptanceRate ? Math.round(w.acceptanceRate.rate * 1000) / 10 : null)),
            borderColor: COLORS.rate,
            backgroundColor: COLORS.rate,
            yAxisID: 'rate',
            spanGaps: true,
            order: 0, // drawn over the bars
          },
        ],
      },
      options: {
        scales: {
          x: { stacked: true },
          y: {
            stacked: true,
            beginAtZero: true,
            ticks: { precision: 0 },
            title: { display: true, text: 'Cards shown' },
          },
          rate: {
            position: 'right',
            min: 0,
            max: 100,
            grid: { drawOnChartArea: false },
            title: { display: true, text: '%' },
          },
        },
      },
    },
    `Weekly trend: ${report.weekly
      .map((w) => `week of ${w.weekStart}: ${w.cardsShown} cards, ${w.accepted} accepted, ${w.overridden} overridden`)
      .join('; ')}`,
  );
}

async function downloadCsv() {
  const params = query();
  params.set('format', 'csv');
  const res = await request(params);
  if (!res.ok) {
    setStatus(await problem(res), true);
    return;
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? 'cds-effectiveness.csv';
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await res.blob());
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 0);
}

function init() {
  const params = new URLSearchParams(window.location.search);
  const today = Date.now();
  $('to').value = params.get('to') ?? day(today);
  $('from').value = params.get('from') ?? day(today - (DEFAULT_DAYS - 1) * MS_PER_DAY);
  const version = params.get('version');
  if (version) {
    const option = document.createElement('option');
    option.value = version;
    option.textContent = version;
    $('version').append(option);
    $('version').value = version;
  }
  $('query').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token').value.trim();
    if (token) state.token = token;
    load().catch((err) => setStatus(`The report could not be loaded: ${err.message}`, true));
  });
  $('download-csv').addEventListener('click', () => {
    downloadCsv().catch((err) => setStatus(`The CSV could not be downloaded: ${err.message}`, true));
  });
  load().catch((err) => setStatus(`The report could not be loaded: ${err.message}`, true));
}

init();
