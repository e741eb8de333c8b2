// Figures and a tiny SVG bar chart for the weekly_report example.

const round2 = (x) => Math.round(x * 100) / 100;

export async function compute({ rows, target }) {
  if (rows.length === 0) throw new Error('no rows for this week');
  const total = round2(rows.reduce((s, r) => s + r.amount, 0));
  const orders = rows.reduce((s, r) => s + r.orders, 0);
  const best = rows.reduce((a, b) => (b.amount > a.amount ? b : a));
  return {
    total,
    orders,
    vs_target: target > 0 ? round2(total / target) : 0,
    best_day: best.day,
    days: rows.map((r) => ({ day: r.day, amount: r.amount, orders: r.orders })),
  };
}

export async function chart({ days, title }) {
  const max = Math.max(...days.map((d) => d.amount), 1);
  const bars = days
    .map((d, i) => `<rect x="${i * 22}" y="${100 - Math.round((d.amount / max) * 100)}" width="18" height="${Math.round((d.amount / max) * 100)}"/>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${days.length * 22} 100"><title>${title}</title>${bars}</svg>`;
  return { svg, points: days.length };
}
