// "Models" for the weekly_report example: a drafting writer and an independent checker. Both are
// deterministic; the checker re-derives every number the draft quotes from the metrics.

const money = (x) => `$${x.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: 0 })}`;

function summaryText(metrics, region) {
  const pct = Math.round(metrics.vs_target * 100);
  return [
    `Sales in ${region} totalled ${money(metrics.total)} from ${metrics.orders} orders,`,
    `${pct}% of target. The best day was ${metrics.best_day}.`,
  ].join(' ');
}

function wordCount(text) {
  return text.split(/\s+/).filter(Boolean).length;
}

// `notes`: the checker's issues with the previous draft (a redraft); this writer always quotes
// every figure from the metrics, so one redraft is enough.
export async function draft({ metrics, region, audience, notes = [] }) {
  const revised = notes.length > 0 ? 'Revised: ' : '';
  const text = `${revised}${audience === 'team' ? 'Team update: ' : ''}${summaryText(metrics, region)}`;
  return { text, word_count: wordCount(text), model: 'writer-a' };
}

export async function template({ metrics, region }) {
  const text = summaryText(metrics, region);
  return { text, word_count: wordCount(text), model: 'template' };
}

export async function verify({ text, metrics }) {
  const issues = [];
  if (!text.includes(money(metrics.total))) issues.push(`total ${money(metrics.total)} not quoted correctly`);
  if (!text.includes(`${metrics.orders} orders`)) issues.push(`order count ${metrics.orders} not quoted correctly`);
  if (!text.includes(`${Math.round(metrics.vs_target * 100)}%`)) issues.push('target ratio not quoted correctly');
  if (!text.includes(metrics.best_day)) issues.push('best day missing');
  return { consistent: issues.length === 0, issues, model: 'checker-b' };
}
