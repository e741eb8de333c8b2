/**
 * The dashboard's calls to its own server: same origin, the session cookie rides along, and
 * every POST carries the CSRF token (read from the `orch_csrf` cookie, echoed in a header).
 */
import type { StarterLike } from '../render/starter-label.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function csrf(): string {
  const m = /(?:^|;\s*)orch_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]!) : '';
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method === 'POST') {
    headers['x-csrf-token'] = csrf();
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(path, { method, headers, body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined, credentials: 'same-origin' });
  if (res.status === 401) {
    location.assign('/login');
    throw new ApiError(401, 'signed out');
  }
  const text = await res.text();
  const data = text ? (JSON.parse(text) as unknown) : null;
  if (!res.ok) throw new ApiError(res.status, (data as { error?: string } | null)?.error ?? res.statusText);
  return data as T;
}

export const get = <T>(path: string) => call<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => call<T>('POST', path, body);

export interface RunSummary {
  runId: string;
  planId: string;
  status: string;
  startedAt?: string | null;
  completedAt?: string | null;
  cost?: number;
  trigger?: string | null;
}

export interface StepView {
  stepId: string;
  status: string;
  output?: unknown;
  error?: unknown;
  attempts?: number;
  resource?: string | null;
  startedAt?: string | null;
  completedAt?: string | null;
  /** v0.3: actual cost of every attempt; tokens when a model reported them. */
  cost?: number;
  /** A null count: an attempt's endpoint did not report it (unknown, not 0). */
  usage?: { input_tokens: number | null; output_tokens: number | null; model: string | null; endpoint: string | null };
}

export interface RunView {
  planId: string;
  runId: string;
  status: string;
  steps: StepView[];
  output?: unknown;
  error?: unknown;
  trigger?: string | null;
  /** LANGUAGE.md §9.1: who started the run. */
  started_by?: StarterLike;
  metadata?: { totalCost?: number; totalDuration?: number };
  startedAt?: string | null;
  completedAt?: string | null;
}

export interface TimelineEvent {
  seq: number;
  at: string;
  type: string;
  stepId: string | null;
  [key: string]: unknown;
}

export interface PlanStep {
  id: string;
  deps: string[];
  resource: string | null;
  capability: string | null;
  kind?: string | null;
  action: { type: string };
}

export interface LiveMessage {
  runId: string;
  planId: string;
  event: TimelineEvent;
}
