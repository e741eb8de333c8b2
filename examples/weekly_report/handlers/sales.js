// Sales data access for the weekly_report example. The "warehouse" is the snapshot file plus a
// token check, so the example runs offline; without WAREHOUSE_TOKEN the warehouse call fails and
// the plan's fallback reads the snapshot instead.
import { readFile } from 'node:fs/promises';

const SNAPSHOT = new URL('../data/snapshot.json', import.meta.url);

async function rowsFor(region) {
  const all = JSON.parse(await readFile(SNAPSHOT, 'utf8'));
  const rows = all[region];
  if (!rows) throw new Error(`no sales data for region "${region}"`);
  return rows;
}

export async function fetch_sales({ region, token }) {
  if (typeof token !== 'string' || token.length === 0 || token === '***') {
    throw new Error('the warehouse rejected the request: missing or redacted token');
  }
  return { rows: await rowsFor(region), source: 'warehouse' };
}

export async function read_snapshot({ region }) {
  return { rows: await rowsFor(region), source: 'snapshot' };
}

export async function send_report({ to, subject }) {
  if (to.length === 0) throw new Error('no recipients');
  if (subject.length === 0) throw new Error('empty subject');
  return { delivered: to.length };
}
