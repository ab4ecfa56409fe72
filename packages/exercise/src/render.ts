import type { AfterActionReport, FlowKind } from './after-action.js';
import { reportFigures, type Axis, type Distribution, type Shares } from './figures.js';

export type Language = 'ja' | 'en';

const WORDS = {
  en: {
    report: 'After-action report',
    run: 'Run',
    speed: 'Speed',
    started: 'Started',
    ended: 'Ended',
    state: 'State',
    ackTitle: 'Time to acknowledge warnings',
    bySector: 'By sector',
    byOrganisation: 'By organisation',
    sector: 'Sector',
    organisation: 'Organisation',
    expected: 'Expected',
    acknowledged: 'Acknowledged',
    median: 'Median',
    expectations: 'Expectations',
    kind: 'Kind',
    participant: 'Participant',
    status: 'Status',
    taken: 'Time taken',
    met: 'met',
    late: 'late',
    missed: 'missed',
    pending: 'pending',
    flow: 'Flow of information',
    from: 'From',
    injects: 'Injects',
    reports: 'Reports',
    warnings: 'Warnings',
    acknowledgements: 'Acknowledgements',
    triage: 'Triage',
    comparison: 'Runs of this scenario',
    none: '—',
    scenarioTime: 'times are scenario time',
    banner: 'EXERCISE — not real traffic',
    alerts: 'Alerts',
    all: 'All',
    metShare: 'Met',
    thisRun: 'this run',
    noAck: 'no acknowledgement',
    boxLegend: 'box: middle half · bar: median · dots: each acknowledgement',
    acknowledge: 'acknowledge',
    'publish-warning': 'publish a warning',
    triageKind: 'triage',
    reportKind: 'report',
    timeline: 'Timeline',
    outcomes: 'Every expectation',
    count: 'count',
    medianAck: 'Median time to acknowledge',
  },
  ja: {
    report: '事後評価報告',
    run: '実施',
    speed: '速度',
    started: '開始',
    ended: '終了',
    state: '状態',
    ackTitle: '注意喚起の受領確認までの時間',
    bySector: '分野別',
    byOrganisation: '組織別',
    sector: '分野',
    organisation: '組織',
    expected: '対象',
    acknowledged: '受領確認',
    median: '中央値',
    expectations: '期待行動',
    kind: '種類',
    participant: '参加者',
    status: '結果',
    taken: '所要時間',
    met: '達成',
    late: '遅延',
    missed: '未達',
    pending: '未確定',
    flow: '情報の流れ',
    from: '開始時点',
    injects: '状況付与',
    reports: '報告',
    warnings: '注意喚起',
    acknowledgements: '受領確認',
    triage: 'トリアージ',
    comparison: '同じシナリオの実施',
    none: '—',
    scenarioTime: '時間はシナリオ上の時間',
    banner: '訓練 — 実際の事案ではありません',
    alerts: 'アラート',
    all: '全体',
    metShare: '達成率',
    thisRun: '今回',
    noAck: '受領確認なし',
    boxLegend: '箱: 中央の半数 · 太線: 中央値 · 点: 個々の受領確認',
    acknowledge: '受領確認',
    'publish-warning': '注意喚起の発出',
    triageKind: 'トリアージ',
    reportKind: '報告',
    timeline: '時系列',
    outcomes: '期待行動ごとの結果',
    count: '件数',
    medianAck: '受領確認までの時間 (中央値)',
  },
} as const;

/** Minutes and seconds of scenario time: `12m 05s`. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h > 0 ? `${h}h ` : ''}${m}m ${String(s).padStart(2, '0')}s`;
}

/** One row per expectation and participant: what a spreadsheet wants. */
export function afterActionCsv(report: AfterActionReport): string {
  const rows = [
    ['run', 'scenario', 'expectation', 'kind', 'participant', 'status', 'taken_ms', 'due_at', 'responded_at'],
    ...report.outcomes.map((outcome) => [
      report.run.id,
      `${report.run.scenario.id}@${report.run.scenario.version}`,
      outcome.expectation,
      outcome.kind,
      outcome.participant,
      outcome.status,
      outcome.takenMs === null ? '' : String(outcome.takenMs),
      outcome.dueAt ?? '',
      outcome.respondedAt ?? '',
    ]),
  ];
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

function csvField(value: string): string {
  // A leading =, +, - or @ would be a formula to a spreadsheet.
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const SECTOR_NAMES_JA: Record<string, string> = {
  telecom: '情報通信',
  finance: '金融',
  aviation: '航空',
  railway: '鉄道',
  electricity: '電力',
  gas: 'ガス',
  'local-government': '地方公共団体',
  healthcare: '医療',
  water: '水道',
  logistics: '物流',
  chemical: '化学',
  'credit-card': 'クレジット',
  petroleum: '石油',
  'central-government': '政府・行政',
  other: 'その他',
};

const STATUS_COLOURS = { met: '#2e7d32', late: '#e0a100', missed: '#c62828', pending: '#9e9e9e' } as const;
const FLOW_COLOURS: Record<FlowKind, string> = {
  injects: '#6a1b9a',
  reports: '#1565c0',
  alerts: '#c62828',
  warnings: '#ef6c00',
  acknowledgements: '#2e7d32',
  triage: '#00838f',
};

type Words = (typeof WORDS)[Language];

/**
 * A page to read and print, in Japanese or English, drawn from the report
 * alone: inline CSS and SVG, no script, nothing fetched, every text from the
 * report escaped. Charts: time to acknowledge per sector and organisation
 * (every value, the middle half, the median), expectations met, late, missed
 * and pending, the timeline of what flowed, and this run beside earlier runs
 * of its scenario.
 */
export function afterActionHtml(report: AfterActionReport, language: Language): string {
  const w = WORDS[language];
  const figures = reportFigures(report);
  const { run } = report;
  const sector = (id: string) => (language === 'ja' ? (SECTOR_NAMES_JA[id] ?? id) : id);
  const kindName = (kind: string) =>
    kind === 'triage' ? w.triageKind : kind === 'report' ? w.reportKind : (w[kind as 'acknowledge'] ?? kind);
  const status = (value: 'met' | 'late' | 'missed' | 'pending') => w[value];
  const table = (head: string[], rows: string[][], rowClass?: (index: number) => string) =>
    `<table><thead><tr>${head.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr></thead><tbody>${rows
      .map(
        (row, index) =>
          `<tr${rowClass?.(index) ? ` class="${rowClass(index)}"` : ''}>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`,
      )
      .join('')}</tbody></table>`;
  const percent = (share: number | null) => (share === null ? w.none : `${Math.round(share * 100)}%`);

  const sectorRows = figures.acknowledgement.bySector.map((row) => [
    sector(row.label),
    String(row.expected),
    String(row.acknowledged),
    formatDuration(row.box?.median ?? null),
  ]);
  const organisationRows = figures.acknowledgement.byOrganisation.map((row) => [
    row.label,
    sector(row.sector),
    String(row.expected),
    String(row.acknowledged),
    formatDuration(row.box?.median ?? null),
  ]);
  const outcomeRows = report.outcomes.map((outcome) => [
    outcome.expectation,
    kindName(outcome.kind),
    outcome.participant,
    status(outcome.status),
    formatDuration(outcome.takenMs),
  ]);
  const flowRows = report.flow.map((slice) => [
    formatDuration(slice.fromMs),
    String(slice.injects),
    String(slice.reports),
    String(slice.alerts ?? 0),
    String(slice.warnings),
    String(slice.acknowledgements),
    String(slice.triage),
  ]);
  const comparisonRows = figures.comparison.map((row) => [
    `${row.runId.slice(0, 8)}${row.current ? ` (${w.thisRun})` : ''}`,
    row.startedAt ?? w.none,
    `×${row.speed}`,
    formatDuration(row.medianAckMs),
    `${percent(row.metShare)} (${row.met}/${row.total})`,
    String(row.late),
    String(row.missed),
  ]);
  const e = figures.expectations.all;

  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${w.report}: ${run.scenario.title[language]}`)}</title>
<style>
@page{size:A4;margin:14mm}
body{font-family:system-ui,"Noto Sans CJK JP","Noto Sans JP",sans-serif;margin:1.5rem auto;color:#111;background:#fff;max-width:52rem;padding:0 1rem;font-size:14px}
h1{font-size:1.45rem;margin:.4rem 0}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ccc;padding-bottom:.2rem}
.banner{background:#fff3cd;border:2px solid #e0a100;color:#5c4400;font-weight:700;text-align:center;padding:.35rem;letter-spacing:.05em}
.meta{color:#333}.note{color:#555;font-size:.85rem}
table{border-collapse:collapse;margin:.5rem 0;width:100%;font-size:.9rem}th,td{border:1px solid #aaa;padding:.2rem .45rem;text-align:left}
th{background:#eee}tr.current td{font-weight:700;background:#f3f7fd}
svg{max-width:100%;height:auto;display:block;margin:.4rem 0}svg text{font-family:inherit}
.figures{display:flex;gap:1.5rem;flex-wrap:wrap}.figure{font-size:1.6rem;font-weight:700}.figure small{display:block;font-size:.8rem;font-weight:400;color:#444}
section{break-inside:avoid}
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid}table,svg,section{break-inside:avoid}.banner{-webkit-print-color-adjust:exact;print-color-adjust:exact}svg{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
</style>
</head>
<body>
<div class="banner">${escapeHtml(w.banner)}</div>
<h1>${escapeHtml(w.report)}: ${escapeHtml(run.scenario.title[language])}</h1>
<p class="meta">${escapeHtml(`${w.run} ${run.id} · ${run.scenario.id} v${run.scenario.version} · ${w.state}: ${run.state} · ${w.speed} ×${run.speed}`)}<br>${escapeHtml(`${w.started}: ${run.startedAt ?? w.none} · ${w.ended}: ${run.endedAt ?? w.none}`)}</p>
<div class="figures">
<div class="figure">${escapeHtml(formatDuration(report.acknowledgement.medianMs))}<small>${escapeHtml(`${w.ackTitle} (${w.median})`)}</small></div>
<div class="figure">${escapeHtml(percent(e.total === 0 ? null : e.met.share))}<small>${escapeHtml(`${w.expectations}: ${e.met.count}/${e.total} ${w.met}`)}</small></div>
<div class="figure">${e.late.count} / ${e.missed.count}<small>${escapeHtml(`${w.late} / ${w.missed}`)}</small></div>
</div>
<p class="note">${escapeHtml(w.scenarioTime)}</p>

<section>
<h2>${escapeHtml(w.ackTitle)} — ${escapeHtml(w.bySector)}</h2>
${distributionChart(
  figures.acknowledgement.bySector.map((row) => ({ ...row, label: sector(row.label) })),
  figures.acknowledgement.axis,
  w,
)}
${table([w.sector, w.expected, w.acknowledged, w.median], sectorRows)}
</section>
<section>
<h2>${escapeHtml(w.ackTitle)} — ${escapeHtml(w.byOrganisation)}</h2>
${distributionChart(figures.acknowledgement.byOrganisation, figures.acknowledgement.axis, w)}
<p class="note">${escapeHtml(w.boxLegend)}</p>
${table([w.organisation, w.sector, w.expected, w.acknowledged, w.median], organisationRows)}
</section>
<section>
<h2>${escapeHtml(w.expectations)}: ${e.met.count} ${escapeHtml(w.met)} · ${e.late.count} ${escapeHtml(w.late)} · ${e.missed.count} ${escapeHtml(w.missed)} · ${e.pending.count} ${escapeHtml(w.pending)}</h2>
${sharesChart([{ label: w.all, shares: e }, ...figures.expectations.byKind.map((row) => ({ label: kindName(row.kind), shares: row.shares }))], w)}
</section>
<section>
<h2>${escapeHtml(w.flow)}</h2>
${timelineChart(figures.timeline, w)}
${table([w.from, w.injects, w.reports, w.alerts, w.warnings, w.acknowledgements, w.triage], flowRows)}
</section>
<section>
<h2>${escapeHtml(w.comparison)}</h2>
${comparisonChart(figures.comparison, w)}
${table([w.run, w.started, w.speed, w.medianAck, w.metShare, w.late, w.missed], comparisonRows, (index) => (figures.comparison[index]!.current ? 'current' : ''))}
</section>
<section>
<h2>${escapeHtml(w.outcomes)}</h2>
${table([w.expectations, w.kind, w.participant, w.status, w.taken], outcomeRows)}
</section>
</body>
</html>
`;
}

const LABEL_W = 170;
const PLOT_X = 180;
const PLOT_W = 420;
const CHART_W = 820;

/** Minutes (and hours) for axis ticks: `0`, `5m`, `1h 30m`. */
function tickLabel(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes === 0) return '0';
  return minutes >= 60
    ? `${Math.floor(minutes / 60)}h${minutes % 60 ? ` ${minutes % 60}m` : ''}`
    : `${minutes}m`;
}

function axisMarks(axis: Axis, top: number, bottom: number): string {
  const x = (ms: number) => PLOT_X + (ms / axis.maxMs) * PLOT_W;
  let marks = '';
  for (let at = 0; at <= axis.maxMs; at += axis.tickMs) {
    marks += `<line x1="${x(at).toFixed(1)}" y1="${top}" x2="${x(at).toFixed(1)}" y2="${bottom}" stroke="#ddd"/><text x="${x(at).toFixed(1)}" y="${bottom + 14}" font-size="11" text-anchor="middle" fill="#444">${escapeHtml(tickLabel(at))}</text>`;
  }
  return marks;
}

/** A strip plot with a box per row: every value a dot, the middle half a box, the median a bar with its value. */
function distributionChart(rows: readonly Distribution[], axis: Axis, w: Words): string {
  if (rows.length === 0) return '';
  const rowH = 30;
  const top = 6;
  const height = top + rows.length * rowH + 24;
  const x = (ms: number) => (PLOT_X + (ms / axis.maxMs) * PLOT_W).toFixed(1);
  const body = rows
    .map((row, index) => {
      const mid = top + index * rowH + rowH / 2;
      const label = `<text x="${LABEL_W}" y="${mid + 4}" font-size="12" text-anchor="end">${escapeHtml(row.label)}</text>`;
      const counts = `${row.acknowledged}/${row.expected}`;
      if (!row.box) {
        return `${label}<text x="${PLOT_X + 4}" y="${mid + 4}" font-size="11" fill="#c62828">${escapeHtml(w.noAck)}</text><text x="${PLOT_X + PLOT_W + 10}" y="${mid + 4}" font-size="11" fill="#444">${escapeHtml(counts)}</text>`;
      }
      const { min, q1, median, q3, max } = row.box;
      const dots = row.valuesMs
        .map(
          (value, n) =>
            `<circle cx="${x(value)}" cy="${mid + ((n % 3) - 1) * 4}" r="3.5" fill="#1565c0" fill-opacity="0.55"><title>${escapeHtml(formatDuration(value))}</title></circle>`,
        )
        .join('');
      return `${label}<line x1="${x(min)}" y1="${mid}" x2="${x(max)}" y2="${mid}" stroke="#555"/><rect x="${x(q1)}" y="${mid - 9}" width="${Math.max(1, Number(x(q3)) - Number(x(q1))).toFixed(1)}" height="18" fill="#bbdefb" stroke="#1565c0"/>${dots}<line x1="${x(median)}" y1="${mid - 12}" x2="${x(median)}" y2="${mid + 12}" stroke="#0d2a5c" stroke-width="3"/><text x="${PLOT_X + PLOT_W + 10}" y="${mid + 4}" font-size="11"><tspan font-weight="700">${escapeHtml(formatDuration(median))}</tspan> · ${escapeHtml(counts)}</text>`;
    })
    .join('');
  return `<svg role="img" viewBox="0 0 ${CHART_W} ${height}" width="${CHART_W}" height="${height}" xmlns="http://www.w3.org/2000/svg">${axisMarks(axis, top, top + rows.length * rowH)}${body}</svg>`;
}

/** One stacked bar per row: met, late, missed, pending, each with its count where it fits, and a legend. */
function sharesChart(rows: readonly { label: string; shares: Shares }[], w: Words): string {
  const rowH = 28;
  const statuses = ['met', 'late', 'missed', 'pending'] as const;
  const height = rows.length * rowH + 30;
  const body = rows
    .map((row, index) => {
      const y = index * rowH + 4;
      let at = PLOT_X;
      const segments = statuses
        .map((status) => {
          const { count, share } = row.shares[status];
          if (count === 0) return '';
          const width = share * PLOT_W;
          const segment = `<rect x="${at.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="20" fill="${STATUS_COLOURS[status]}"><title>${escapeHtml(`${w[status]}: ${count}`)}</title></rect>${width >= 18 ? `<text x="${(at + width / 2).toFixed(1)}" y="${y + 14}" font-size="11" fill="#fff" text-anchor="middle">${count}</text>` : ''}`;
          at += width;
          return segment;
        })
        .join('');
      const empty =
        row.shares.total === 0
          ? `<rect x="${PLOT_X}" y="${y}" width="${PLOT_W}" height="20" fill="#eee"/>`
          : '';
      return `<text x="${LABEL_W}" y="${y + 14}" font-size="12" text-anchor="end">${escapeHtml(row.label)}</text>${empty}${segments}<text x="${PLOT_X + PLOT_W + 10}" y="${y + 14}" font-size="11">${escapeHtml(`${Math.round(row.shares.met.share * 100)}% ${w.met}`)}</text>`;
    })
    .join('');
  const legendY = rows.length * rowH + 18;
  const legend = statuses
    .map(
      (status, index) =>
        `<rect x="${PLOT_X + index * 100}" y="${legendY - 10}" width="12" height="12" fill="${STATUS_COLOURS[status]}"/><text x="${PLOT_X + index * 100 + 16}" y="${legendY}" font-size="11">${escapeHtml(w[status])}</text>`,
    )
    .join('');
  return `<svg role="img" viewBox="0 0 ${CHART_W} ${height}" width="${CHART_W}" height="${height}" xmlns="http://www.w3.org/2000/svg">${body}${legend}</svg>`;
}

/** One lane per kind of event, a tick at each event's scenario time, with its count. */
function timelineChart(timeline: ReturnType<typeof reportFigures>['timeline'], w: Words): string {
  const rowH = 24;
  const top = 6;
  const height = top + timeline.lanes.length * rowH + 24;
  const x = (ms: number) => (PLOT_X + (ms / timeline.axis.maxMs) * PLOT_W).toFixed(1);
  const body = timeline.lanes
    .map((lane, index) => {
      const mid = top + index * rowH + rowH / 2;
      const marks = lane.timesMs
        .map(
          (at) =>
            `<rect x="${(Number(x(at)) - 1.5).toFixed(1)}" y="${mid - 8}" width="3" height="16" fill="${FLOW_COLOURS[lane.kind]}" fill-opacity="0.8"><title>${escapeHtml(formatDuration(at))}</title></rect>`,
        )
        .join('');
      return `<text x="${LABEL_W}" y="${mid + 4}" font-size="12" text-anchor="end">${escapeHtml(w[lane.kind])}</text><line x1="${PLOT_X}" y1="${mid}" x2="${PLOT_X + PLOT_W}" y2="${mid}" stroke="#e4e4e4"/>${marks}<text x="${PLOT_X + PLOT_W + 10}" y="${mid + 4}" font-size="11">${lane.timesMs.length}</text>`;
    })
    .join('');
  return `<svg role="img" viewBox="0 0 ${CHART_W} ${height}" width="${CHART_W}" height="${height}" xmlns="http://www.w3.org/2000/svg">${axisMarks(timeline.axis, top, top + timeline.lanes.length * rowH)}${body}</svg>`;
}

/** Per run of the scenario: the share met as a bar and the median time to acknowledge beside it. */
function comparisonChart(rows: ReturnType<typeof reportFigures>['comparison'], w: Words): string {
  if (rows.length === 0) return '';
  const rowH = 24;
  const height = rows.length * rowH + 8;
  const body = rows
    .map((row, index) => {
      const y = index * rowH + 4;
      const share = row.metShare ?? 0;
      const label = `${row.runId.slice(0, 8)}${row.current ? ` (${w.thisRun})` : ''}`;
      return `<text x="${LABEL_W}" y="${y + 13}" font-size="12" text-anchor="end"${row.current ? ' font-weight="700"' : ''}>${escapeHtml(label)}</text><rect x="${PLOT_X}" y="${y}" width="${PLOT_W}" height="16" fill="#eee"/><rect x="${PLOT_X}" y="${y}" width="${(share * PLOT_W).toFixed(1)}" height="16" fill="${row.current ? '#2e7d32' : '#81c784'}"/><text x="${PLOT_X + PLOT_W + 10}" y="${y + 13}" font-size="11">${escapeHtml(`${row.metShare === null ? w.none : `${Math.round(share * 100)}%`} ${w.met} · ${w.median} ${formatDuration(row.medianAckMs)}`)}</text>`;
    })
    .join('');
  return `<svg role="img" viewBox="0 0 ${CHART_W} ${height}" width="${CHART_W}" height="${height}" xmlns="http://www.w3.org/2000/svg">${body}</svg>`;
}
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
