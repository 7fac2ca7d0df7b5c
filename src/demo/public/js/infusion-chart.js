// The infusion chart (Chart.js): one time axis over three stacked lanes, each with its own scale —
//   rate   ketamine in mg/kg/h as a step line, with the hard maximum and the max tolerated rate as lines;
//   pain   pain scores on the 0–10 scale, with the target pain line;
//   events adverse effects and vital signs out of range, as markers with tooltips.
// Vertical lines mark "now" and the protocol's next review. Times are in the page's zone (time.js).
import { MS_PER_HOUR, fmtDay, fmtHour, fmtShort, fromWallClock, timeZone, zoneOffsetMs } from './time.js';

const TICK_HOURS = [1, 2, 3, 6, 12, 24, 48];
/** Room one time label needs on the axis: fewer ticks on a narrow chart, so labels never overlap. */
const PX_PER_TICK = 56;
const MAX_TICKS = 14;
/** A next review further than this from now does not stretch the time axis. */
const MAX_REVIEW_AHEAD = 24 * MS_PER_HOUR;

const COLORS = {
  rate: '#1f5fa8',
  rateFill: 'rgba(31,95,168,0.10)',
  hardMax: '#b71c1c',
  tolerated: '#8e1a8e',
  pain: '#c0262d',
  target: '#2e7d32',
  adverse: '#8e1a8e',
  vitals: '#b35c00',
  now: '#37474f',
  review: '#1f6fb2',
  laneBorder: '#9aa5b1',
};

/** Where the two kinds of event sit in the events lane. */
const EVENT_ROW = { adverse: 2, vitals: 1 };

/** Vertical lines with a label at the top (now, next review), and labels at the end of reference lines. */
const lineLabels = {
  id: 'lineLabels',
  afterDatasetsDraw(chart, _args, options) {
    const { ctx, chartArea, scales } = chart;
    ctx.save();
    ctx.font = '600 12px system-ui, sans-serif';
    for (const line of options.lines ?? []) {
      if (line.x === null || line.x === undefined) continue;
      const x = scales.x.getPixelForValue(line.x);
      if (x < chartArea.left || x > chartArea.right) continue;
      ctx.strokeStyle = line.color;
      ctx.lineWidth = 1.5;
      ctx.setLineDash(line.dash ?? []);
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      const width = ctx.measureText(line.label).width;
      const left = Math.max(x + 4 + width > chartArea.right ? x - 4 - width : x + 4, chartArea.left);
      const base = chartArea.top + 12 + (line.row ?? 0) * 14;
      ctx.fillStyle = 'rgba(255,255,255,0.85)';
      ctx.fillRect(left - 2, base - 11, width + 4, 14);
      ctx.fillStyle = line.color;
      ctx.fillText(line.label, left, base);
    }
    // Reference lines (datasets marked `reference`) name themselves at the left end (early in the course the
    // rate is low and pain high, far from these lines), just above the line, on a light backing.
    for (const dataset of chart.data.datasets) {
      if (!dataset.reference) continue;
      const scale = scales[dataset.yAxisID];
      const y = scale.getPixelForValue(dataset.data[0].y);
      if (y < scale.top || y > scale.bottom) continue;
      const width = ctx.measureText(dataset.reference).width;
      const left = chartArea.left + 4;
      const base = Math.max(y - 6, scale.top + 11);
      ctx.fillStyle = 'rgba(255,255,255,0.85)';
      ctx.fillRect(left - 2, base - 11, width + 4, 14);
      ctx.fillStyle = dataset.borderColor;
      ctx.fillText(dataset.reference, left, base);
    }
    ctx.restore();
  },
};

function ratePoints(segments, nowMs) {
  const points = [];
  segments.forEach((s, i) => {
    if (s.rate === null) return;
    points.push({
      x: s.start,
      y: s.rate,
      change: true,
      label: `Rate ${s.charted}${s.charted.startsWith(`${s.rate} `) ? '' : ` = ${s.rate.toFixed(2)} mg/kg/h`}`,
    });
    const next = segments[i + 1];
    const end = s.end ?? nowMs;
    if (s.end !== null && (!next || next.start > s.end))
      points.push({ x: s.end, y: 0, change: true, label: 'Infusion stopped' });
    else if (!next)
      points.push({ x: Math.max(end, s.start), y: s.rate, change: false, label: `Running at ${s.charted}` });
  });
  return points;
}

/** Ticks on whole hours of the page's zone, 1…48 h apart, as many as the axis has room for. */
function hourTicks(axis) {
  const room = Math.max(3, Math.min(MAX_TICKS, Math.floor((axis.width || axis.chart.width) / PX_PER_TICK)));
  const span = axis.max - axis.min;
  const hours = TICK_HOURS.find((h) => Math.floor(span / (h * MS_PER_HOUR)) <= room) ?? TICK_HOURS.at(-1);
  const step = hours * MS_PER_HOUR;
  const ticks = [];
  // Walk the zone's wall clock (offsets change at DST), then map each wall time back to an instant.
  const wallMin = axis.min + zoneOffsetMs(axis.min);
  const wallMax = axis.max + zoneOffsetMs(axis.max);
  for (let wall = Math.ceil(wallMin / step) * step; wall <= wallMax; wall += step) {
    const t = fromWallClock(wall);
    if (t >= axis.min && t <= axis.max) ticks.push({ value: t });
  }
  axis.ticks = ticks;
}

/** A horizontal reference line across the time axis, drawn and named but never a tooltip. */
function referenceLine({ label, name, axis, y, start, end, color, dash }) {
  return {
    label,
    reference: name,
    yAxisID: axis,
    data: [
      { x: start, y },
      { x: end, y },
    ],
    borderColor: color,
    backgroundColor: color,
    borderDash: dash,
    borderWidth: 1.5,
    pointRadius: 0,
    pointHitRadius: 0,
    pointStyle: 'line',
  };
}

/** A rate as a clinician writes it: 1.0, 0.35. */
const rate2 = (x) => (Number.isInteger(Math.round(x * 100) / 10) ? x.toFixed(1) : x.toFixed(2));
/** Rate axis ticks every 0.2 mg/kg/h (0.4 on a narrow chart): a display grid, not a protocol number. */
const RATE_TICK = 0.2;

export function createInfusionChart(canvas) {
  const Chart = window.Chart;
  const chart = new Chart(canvas, {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      interaction: { mode: 'nearest', intersect: false, axis: 'xy' },
      scales: {
        x: {
          type: 'linear',
          ticks: {
            callback: (value) => (fmtHour(value) === '00:00' ? `${fmtDay(value)}` : fmtHour(value)),
            maxRotation: 0,
            autoSkip: true,
            autoSkipPadding: 8,
          },
          afterBuildTicks: hourTicks,
          grid: { color: (c) => (c.tick && fmtHour(c.tick.value) === '00:00' ? '#9aa5b1' : '#e6eaee') },
          title: { display: true, text: 'Scenario time (UTC)' },
        },
        // Stacked lanes: the first scale of a stack is drawn at the bottom.
        events: {
          type: 'linear',
          position: 'left',
          stack: 'lanes',
          stackWeight: 0.9,
          min: 0,
          max: 3,
          offset: false,
          ticks: {
            stepSize: 1,
            autoSkip: false,
            callback: (value) => (value === EVENT_ROW.adverse ? 'AE' : value === EVENT_ROW.vitals ? 'Vitals' : ''),
          },
          grid: { color: (c) => (c.tick?.value === 0 ? COLORS.laneBorder : 'transparent') },
          border: { color: COLORS.laneBorder },
        },
        pain: {
          type: 'linear',
          position: 'left',
          stack: 'lanes',
          stackWeight: 2,
          min: 0,
          max: 10,
          offset: true,
          title: { display: true, text: 'Pain 0–10', color: COLORS.pain },
          ticks: { color: COLORS.pain, stepSize: 2 },
          border: { color: COLORS.laneBorder },
        },
        rate: {
          type: 'linear',
          position: 'left',
          stack: 'lanes',
          stackWeight: 3.2,
          min: 0,
          offset: true,
          title: { display: true, text: 'Ketamine mg/kg/h', color: COLORS.rate },
          ticks: { color: COLORS.rate, stepSize: RATE_TICK },
          border: { color: COLORS.laneBorder },
        },
      },
      plugins: {
        legend: { position: 'bottom', labels: { usePointStyle: true, boxHeight: 8 } },
        tooltip: {
          filter: (item) => !item.dataset.reference,
          callbacks: {
            title: (items) => (items[0] ? fmtShort(items[0].parsed.x) : ''),
            label: (item) => item.raw?.label ?? `${item.dataset.label}: ${item.parsed.y}`,
          },
        },
        lineLabels: { lines: [] },
      },
    },
    plugins: [lineLabels],
  });

  return {
    chart,
    /**
     * Redraw for a summary (record.js `summarise`) at `nowMs`. `cards` carries what the latest patient-view
     * cards said: the next review time and the maximum tolerated rate (mg/kg/h), each null when unknown.
     * Returns what is drawn, in words (the canvas's accessible name) and as data (the browser test reads it).
     */
    update(summary, nowMs, params, { nextReviewMs = null, maxToleratedRate = null } = {}) {
      const narrow = canvas.clientWidth < 600;
      const rate = ratePoints(summary.segments, nowMs);
      const pain = summary.pain.map((p) => ({
        x: p.time,
        y: p.score,
        label: `Pain ${p.score}/10${p.charted ? ` (charted ${p.charted})` : ''}`,
      }));
      const times = [
        nowMs,
        ...rate.map((p) => p.x),
        ...pain.map((p) => p.x),
        ...summary.adverse.map((a) => a.time),
        ...summary.breaches.map((b) => b.time),
      ];
      const start = Math.min(...times, nowMs - 12 * MS_PER_HOUR) - MS_PER_HOUR;
      const review = nextReviewMs && nextReviewMs - nowMs <= MAX_REVIEW_AHEAD ? nextReviewMs : nowMs;
      const end = Math.max(nowMs, review) + 2 * MS_PER_HOUR;
      chart.options.scales.x.min = start;
      chart.options.scales.x.max = end;
      chart.options.scales.x.title.text = `Scenario time (${timeZone()})`;
      chart.options.scales.pain.ticks.stepSize = narrow ? 5 : 2;
      chart.options.scales.pain.ticks.autoSkip = narrow;
      const rateTick = narrow ? 2 * RATE_TICK : RATE_TICK;
      chart.options.scales.rate.ticks.stepSize = rateTick;
      // On a phone the legend would take half the chart: the text under the chart explains the marks.
      chart.options.plugins.legend.display = !narrow;
      chart.options.scales.rate.title.text = narrow ? 'mg/kg/h' : 'Ketamine mg/kg/h';
      chart.options.scales.pain.title.text = narrow ? 'Pain' : 'Pain 0–10';
      const maxRate = Math.max(0, ...rate.map((p) => p.y));
      // The hard maximum is always in view: every rate is read against it.
      const top = Math.max(params.hardMaxRate, maxRate, maxToleratedRate ?? 0);
      chart.options.scales.rate.max = rateTick * Math.ceil((top + rateTick / 2) / rateTick - 1e-9);

      const maxima = [
        referenceLine({
          label: `Hard maximum ${rate2(params.hardMaxRate)} mg/kg/h`,
          name: `hard maximum ${rate2(params.hardMaxRate)}`,
          axis: 'rate',
          y: params.hardMaxRate,
          start,
          end,
          color: COLORS.hardMax,
          dash: [8, 4],
        }),
      ];
      if (typeof maxToleratedRate === 'number') {
        maxima.push(
          referenceLine({
            label: `Max tolerated ${rate2(maxToleratedRate)} mg/kg/h`,
            name: `max tolerated ${rate2(maxToleratedRate)}`,
            axis: 'rate',
            y: maxToleratedRate,
            start,
            end,
            color: COLORS.tolerated,
            dash: [3, 3],
          }),
        );
      }

      chart.data.datasets = [
        {
          label: 'Ketamine rate (mg/kg/h)',
          yAxisID: 'rate',
          data: rate,
          stepped: 'before',
          borderColor: COLORS.rate,
          backgroundColor: COLORS.rateFill,
          fill: 'origin',
          borderWidth: 2.5,
          pointRadius: rate.map((p) => (p.change ? 5 : 0)),
          pointStyle: 'triangle',
          pointBackgroundColor: COLORS.rate,
        },
        ...maxima,
        {
          label: 'Pain score',
          yAxisID: 'pain',
          data: pain,
          borderColor: COLORS.pain,
          backgroundColor: COLORS.pain,
          pointRadius: 4,
          borderWidth: 1.5,
          tension: 0,
          clip: 8,
        },
        referenceLine({
          label: `Target pain ≤ ${params.targetPain}`,
          name: `target ≤ ${params.targetPain}`,
          axis: 'pain',
          y: params.targetPain,
          start,
          end,
          color: COLORS.target,
          dash: [6, 4],
        }),
        {
          label: 'Adverse effect',
          yAxisID: 'events',
          type: 'scatter',
          showLine: false,
          data: summary.adverse.map((a) => ({
            x: a.time,
            y: EVENT_ROW.adverse,
            label: `Adverse effect: ${a.label}`,
          })),
          clip: 12,
          pointStyle: 'crossRot',
          pointRadius: 8,
          pointHoverRadius: 10,
          borderWidth: 3,
          borderColor: COLORS.adverse,
          backgroundColor: COLORS.adverse,
        },
        {
          label: 'Vital sign out of range',
          yAxisID: 'events',
          type: 'scatter',
          showLine: false,
          data: summary.breaches.map((b) => ({ x: b.time, y: EVENT_ROW.vitals, label: `Out of range: ${b.label}` })),
          clip: 10,
          pointStyle: 'rectRot',
          pointRadius: 6,
          pointHoverRadius: 8,
          borderColor: COLORS.vitals,
          backgroundColor: COLORS.vitals,
        },
      ];
      chart.options.plugins.lineLabels.lines = [
        { x: nowMs, label: 'now', color: COLORS.now },
        ...(nextReviewMs
          ? [
              {
                x: nextReviewMs,
                label: `next review ${fmtHour(nextReviewMs)}`,
                color: COLORS.review,
                dash: [5, 4],
                row: 1,
              },
            ]
          : []),
      ];
      chart.update();

      const running = summary.running?.rate;
      const lastPain = summary.pain.at(-1);
      const description = [
        `Infusion chart to ${fmtShort(nowMs)} (${timeZone()}):`,
        typeof running === 'number' ? `ketamine running at ${rate2(running)} mg/kg/h;` : 'no ketamine running;',
        `hard maximum ${rate2(params.hardMaxRate)} mg/kg/h;`,
        typeof maxToleratedRate === 'number' ? `maximum tolerated rate ${rate2(maxToleratedRate)} mg/kg/h;` : '',
        lastPain ? `last pain ${lastPain.score}/10 (target ≤ ${params.targetPain});` : 'no pain score;',
        `${summary.adverse.length} adverse effect(s), ${summary.breaches.length} vital sign(s) out of range.`,
      ]
        .filter(Boolean)
        .join(' ');
      return { description, hardMaxRate: params.hardMaxRate, maxToleratedRate };
    },
  };
}
