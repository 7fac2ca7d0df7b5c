// The infusion chart (Chart.js): ketamine rate in mg/kg/h as a step line and pain scores on one time axis,
// with markers for rate changes, adverse effects and out-of-range vitals, the target pain line, "now",
// and the protocol's next review time.
import { MS_PER_HOUR, fmtDay, fmtHour, fmtShort } from './time.js';

const TICK_HOURS = [1, 2, 3, 6, 12, 24, 48];
/** A next review further than this from now does not stretch the time axis. */
const MAX_REVIEW_AHEAD = 24 * MS_PER_HOUR;

const COLORS = {
  rate: '#1f5fa8',
  rateFill: 'rgba(31,95,168,0.10)',
  pain: '#c0262d',
  target: '#2e7d32',
  adverse: '#8e1a8e',
  vitals: '#c77700',
  now: '#37474f',
  review: '#1f6fb2',
};

/** Vertical lines with a label at the top: now and next review. */
const markerLines = {
  id: 'markerLines',
  afterDatasetsDraw(chart, _args, options) {
    const { ctx, chartArea, scales } = chart;
    for (const line of options.lines ?? []) {
      if (line.x === null || line.x === undefined) continue;
      const x = scales.x.getPixelForValue(line.x);
      if (x < chartArea.left || x > chartArea.right) continue;
      ctx.save();
      ctx.strokeStyle = line.color;
      ctx.lineWidth = 1.5;
      ctx.setLineDash(line.dash ?? []);
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = line.color;
      ctx.font = '600 12px system-ui, sans-serif';
      const width = ctx.measureText(line.label).width;
      const left = Math.min(Math.max(x + 4, chartArea.left), chartArea.right - width - 2);
      ctx.fillText(line.label, left, chartArea.top + 12 + (line.row ?? 0) * 14);
      ctx.restore();
    }
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
      interaction: { mode: 'nearest', intersect: false, axis: 'x' },
      scales: {
        x: {
          type: 'linear',
          ticks: {
            callback: (value) => (fmtHour(value) === '00:00' ? `${fmtDay(value)}` : fmtHour(value)),
            maxRotation: 0,
            autoSkip: false,
          },
          // Ticks on whole UTC hours (1, 2, 3, 6, 12 or 24 h apart, at most ~14 of them).
          afterBuildTicks: (axis) => {
            const span = axis.max - axis.min;
            const hours = TICK_HOURS.find((h) => span / (h * MS_PER_HOUR) <= 14) ?? TICK_HOURS.at(-1);
            const step = hours * MS_PER_HOUR;
            const ticks = [];
            for (let t = Math.ceil(axis.min / step) * step; t <= axis.max; t += step) ticks.push({ value: t });
            axis.ticks = ticks;
          },
          grid: { color: (c) => (c.tick && fmtHour(c.tick.value) === '00:00' ? '#9aa5b1' : '#e6eaee') },
          title: { display: true, text: 'Scenario time (UTC)' },
        },
        rate: {
          type: 'linear',
          position: 'left',
          min: 0,
          suggestedMax: 0.5,
          title: { display: true, text: 'Ketamine (mg/kg/h)', color: COLORS.rate },
          ticks: { color: COLORS.rate },
        },
        pain: {
          type: 'linear',
          position: 'right',
          min: 0,
          max: 10,
          title: { display: true, text: 'Pain (0–10)', color: COLORS.pain },
          ticks: { color: COLORS.pain, stepSize: 1 },
          grid: { drawOnChartArea: false },
        },
      },
      plugins: {
        legend: { position: 'bottom', labels: { usePointStyle: true, boxHeight: 8 } },
        tooltip: {
          callbacks: {
            title: (items) => (items[0] ? fmtShort(items[0].parsed.x) : ''),
            label: (item) => item.raw?.label ?? `${item.dataset.label}: ${item.parsed.y}`,
          },
        },
        markerLines: { lines: [] },
      },
    },
    plugins: [markerLines],
  });

  return {
    chart,
    /** Redraw for a summary (record.js `summarise`) at `nowMs`, with the latest card's next review time. */
    update(summary, nowMs, params, nextReviewMs) {
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
      const maxRate = Math.max(0, ...rate.map((p) => p.y));
      chart.options.scales.rate.suggestedMax = Math.max(params.softMaxRate, maxRate + params.escalationStep);

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
        {
          label: `Target pain ≤ ${params.targetPain}`,
          yAxisID: 'pain',
          data: [
            { x: start, y: params.targetPain, label: `Target ≤ ${params.targetPain}/10` },
            { x: end, y: params.targetPain, label: `Target ≤ ${params.targetPain}/10` },
          ],
          borderColor: COLORS.target,
          borderDash: [6, 4],
          borderWidth: 1,
          pointRadius: 0,
        },
        {
          label: 'Adverse effect',
          yAxisID: 'pain',
          type: 'scatter',
          showLine: false,
          data: summary.adverse.map((a) => ({ x: a.time, y: 9.6, label: `Adverse effect: ${a.label}` })),
          clip: 12,
          pointStyle: 'crossRot',
          pointRadius: 9,
          borderWidth: 3,
          borderColor: COLORS.adverse,
          backgroundColor: COLORS.adverse,
        },
        {
          label: 'Vital sign out of range',
          yAxisID: 'pain',
          type: 'scatter',
          showLine: false,
          data: summary.breaches.map((b) => ({ x: b.time, y: 8.9, label: `Out of range: ${b.label}` })),
          clip: 10,
          pointStyle: 'rectRot',
          pointRadius: 7,
          borderColor: COLORS.vitals,
          backgroundColor: COLORS.vitals,
        },
      ];
      chart.options.plugins.markerLines.lines = [
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
    },
  };
}
