import type { AfterActionReport } from './after-action.js';

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

/** A page to read and print, with its charts drawn in SVG: no script, nothing fetched. */
export function afterActionHtml(report: AfterActionReport, language: Language): string {
  const w = WORDS[language];
  const { run } = report;
  const status = (value: keyof typeof w & ('met' | 'late' | 'missed' | 'pending')) => w[value];
  const table = (head: string[], rows: string[][]) =>
    `<table><thead><tr>${head.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr></thead><tbody>${rows
      .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
      .join('')}</tbody></table>`;
  const sectorRows = report.acknowledgement.bySector.map((row) => [
    row.sector,
    String(row.expected),
    String(row.acknowledged),
    formatDuration(row.medianMs),
  ]);
  const organisationRows = report.acknowledgement.byOrganisation.map((row) => [
    row.organisationId,
    row.sector,
    String(row.expected),
    String(row.acknowledged),
    formatDuration(row.medianMs),
  ]);
  const outcomeRows = report.outcomes.map((outcome) => [
    outcome.expectation,
    outcome.kind,
    outcome.participant,
    status(outcome.status),
    formatDuration(outcome.takenMs),
  ]);
  const flowRows = report.flow.map((slice) => [
    formatDuration(slice.fromMs),
    String(slice.injects),
    String(slice.reports),
    String(slice.warnings),
    String(slice.acknowledgements),
    String(slice.triage),
  ]);
  const comparisonRows = report.comparison.map((summary) => [
    summary.runId.slice(0, 8),
    summary.startedAt ?? w.none,
    `×${summary.speed}`,
    formatDuration(summary.medianAckMs),
    `${summary.expectations.met}/${summary.expectations.total}`,
    String(summary.expectations.late),
    String(summary.expectations.missed),
  ]);
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<title>${escapeHtml(`${w.report}: ${run.scenario.title[language]}`)}</title>
<style>
body{font-family:system-ui,"Noto Sans CJK JP",sans-serif;margin:2rem;color:#111;background:#fff;max-width:60rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;width:100%}th,td{border:1px solid #999;padding:.25rem .5rem;text-align:left}
th{background:#eee}.note{color:#444;font-size:.9rem}svg{max-width:100%}
@media print{body{margin:0}h2{break-after:avoid}table{break-inside:avoid}}
</style>
</head>
<body>
<h1>${escapeHtml(w.report)}: ${escapeHtml(run.scenario.title[language])}</h1>
<p>${escapeHtml(`${w.run} ${run.id} · ${run.scenario.id} v${run.scenario.version} · ${w.state}: ${run.state} · ${w.speed} ×${run.speed} · ${w.started}: ${run.startedAt ?? w.none} · ${w.ended}: ${run.endedAt ?? w.none}`)}</p>
<p class="note">${escapeHtml(w.scenarioTime)}</p>
<h2>${escapeHtml(w.ackTitle)}: ${escapeHtml(w.median)} ${escapeHtml(formatDuration(report.acknowledgement.medianMs))}</h2>
${barChart(
  report.acknowledgement.bySector.map((row) => ({ label: row.sector, value: row.medianMs ?? 0 })),
  formatDuration,
)}
<h2>${escapeHtml(w.bySector)}</h2>
${table([w.sector, w.expected, w.acknowledged, w.median], sectorRows)}
<h2>${escapeHtml(w.byOrganisation)}</h2>
${table([w.organisation, w.sector, w.expected, w.acknowledged, w.median], organisationRows)}
<h2>${escapeHtml(w.expectations)}: ${report.expectations.met} ${escapeHtml(w.met)} · ${report.expectations.late} ${escapeHtml(w.late)} · ${report.expectations.missed} ${escapeHtml(w.missed)} · ${report.expectations.pending} ${escapeHtml(w.pending)}</h2>
${table([w.expectations, w.kind, w.participant, w.status, w.taken], outcomeRows)}
<h2>${escapeHtml(w.flow)}</h2>
${barChart(
  report.flow.map((slice) => ({
    label: formatDuration(slice.fromMs),
    value: slice.injects + slice.reports + slice.warnings + slice.acknowledgements + slice.triage,
  })),
  String,
)}
${table([w.from, w.injects, w.reports, w.warnings, w.acknowledgements, w.triage], flowRows)}
<h2>${escapeHtml(w.comparison)}</h2>
${table([w.run, w.started, w.speed, w.median, w.met, w.late, w.missed], comparisonRows)}
</body>
</html>
`;
}

/** Horizontal bars, one per row, scaled to the largest. */
function barChart(rows: { label: string; value: number }[], format: (value: number) => string): string {
  if (rows.length === 0) return '';
  const largest = Math.max(...rows.map((row) => row.value), 1);
  const height = 22;
  const bars = rows
    .map((row, index) => {
      const width = Math.round((row.value / largest) * 380);
      const y = index * height;
      return `<text x="0" y="${y + 15}" font-size="12">${escapeHtml(row.label)}</text><rect x="170" y="${y + 4}" width="${width}" height="14" fill="#2f6db5"/><text x="${176 + width}" y="${y + 15}" font-size="12">${escapeHtml(format(row.value))}</text>`;
    })
    .join('');
  return `<svg role="img" width="640" height="${rows.length * height + 4}" xmlns="http://www.w3.org/2000/svg">${bars}</svg>`;
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
