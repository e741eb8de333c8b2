/** The server's version: the `version` of the orch package it ships in (the .vsix copies it). */
import { readFileSync } from 'node:fs';
import { packagePath } from '../compiler/index.js';

let cached: string | undefined;

export function serverVersion(): string {
  if (cached) return cached;
  try {
    const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
