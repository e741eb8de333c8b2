// Sales data access for the weekly_report example. The "warehouse" is the snapshot file plus a
// token check, so the example runs offline. The token comes from secret("WAREHOUSE_TOKEN"): the
// environment variable, else orch.config.json. Tokens must start with "wh_"; run with
// WAREHOUSE_TOKEN=expired to watch the retries and then the fallback to the snapshot.
import { readFile } from 'node:fs/promises';

const SNAPSHOT = new URL('../data/snapshot.json', import.meta.url);

async function rowsFor(region) {
  const all = JSON.parse(await readFile(SNAPSHOT, 'utf8'));
  const rows = all[region];
  if (!rows) throw new Error(`no sales data for region "${region}"`);
  return rows;
}

export async function fetch_sales({ region, token }) {
  if (typeof token !== 'string' || !token.startsWith('wh_')) {
    throw new Error('the warehouse rejected the token');
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
