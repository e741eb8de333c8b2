/**
 * `orch check --format sarif`: SARIF 2.1.0 as GitHub code scanning ingests it — every rule with
 * the descriptions and help it shows on an alert, results at repository-relative URIs, and a
 * partial fingerprint per result so an alert keeps its identity when lines above it move.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allExplanations, type Explanation } from '../compiler/index.js';
import type { Diagnostic, Range, Severity } from '../language/index.js';
import { pathUnder } from './report-paths.js';

export interface SarifOptions {
  /** What relative URIs are relative to (`%SRCROOT%`): see report-paths.ts. */
  readonly root: string;
  readonly version: string;
  /** Source text per file, for fingerprints; other files are read when needed. */
  readonly sources: ReadonlyMap<string, string>;
}

/** The property of `partialFingerprints` Orch fills (SARIF names them as versioned strings). */
export const FINGERPRINT_KEY = 'orchDiagnostic/v1';

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  error: 'error',
  warning: 'warning',
  info: 'note',
  hint: 'note',
};

type ArtifactLocation = { readonly uri: string; readonly uriBaseId?: string };

/**
 * A file inside the root is a relative URI against `%SRCROOT%`, the repository root; one outside
 * it (a file imported from elsewhere) an absolute `file:` URI, which code scanning ignores rather
 * than pinning on the wrong file.
 */
function artifactLocation(file: string, root: string): ArtifactLocation {
  const rel = pathUnder(file, root);
  if (rel === undefined) return { uri: pathToFileURL(resolve(file)).href };
  return { uri: rel.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
}

function region(range: Range) {
  const { start, end } = range;
  // An empty range on one line still marks one column.
  const endColumn = end.line === start.line ? Math.max(end.column, start.column + 1) : end.column;
  return { startLine: start.line, startColumn: start.column, endLine: end.line, endColumn };
}

/** `unit mismatch (duration / money)` → `UnitMismatchDurationMoney` (a SARIF rule name). */
function pascalCase(title: string): string {
  return title
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

/** The explanation's first paragraph, on one line. */
function firstParagraph(details: string): string {
  return details.split(/\n\s*\n/)[0]!.replace(/\s*\n\s*/g, ' ').trim();
}

function rule(e: Explanation) {
  const more = `Run \`orch explain ${e.code}\` for this text with an example.`;
  return {
    id: e.code,
    name: pascalCase(e.title),
    shortDescription: { text: e.title },
    fullDescription: { text: firstParagraph(e.details) },
    help: {
      text: `${e.details}\n\n${more}`,
      markdown: `${e.details}\n\nProduces ${e.code}:\n\n\`\`\`orch\n${e.trigger.trim()}\n\`\`\`\n\nFixed:\n\n\`\`\`orch\n${e.fix.trim()}\n\`\`\`\n\n${more}`,
    },
    defaultConfiguration: { level: SARIF_LEVEL[e.severity] },
  };
}

/**
 * A fingerprint that survives edits elsewhere in the file: the code, the file, the first line of
 * the text the diagnostic points at (whitespace collapsed) and how many results before it in the
 * file had the same three — never the line number.
 */
function fingerprinter(sources: ReadonlyMap<string, string>): (d: Diagnostic, uri: string) => string {
  const texts = new Map<string, string | undefined>();
  const seen = new Map<string, number>();
  const textOf = (file: string): string | undefined => {
    if (!texts.has(file)) {
      let text = sources.get(file);
      if (text === undefined) {
        try {
          text = readFileSync(file, 'utf8');
        } catch {
          text = undefined;
        }
      }
      texts.set(file, text);
    }
    return texts.get(file);
  };
  return (d, uri) => {
    const text = textOf(d.file);
    const subject = text === undefined ? d.message : text.slice(d.range.start.offset, Math.max(d.range.end.offset, d.range.start.offset)).split('\n')[0]!;
    const key = [d.code, uri, subject.replace(/\s+/g, ' ').trim()].join('\0');
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    return createHash('sha256').update(`${key}\0${n}`).digest('hex').slice(0, 32);
  };
}

export function renderSarif(diagnostics: readonly Diagnostic[], options: SarifOptions): string {
  const rules = allExplanations().map(rule);
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const fingerprint = fingerprinter(options.sources);
  const results = diagnostics.map((d) => {
    const artifact = artifactLocation(d.file, options.root);
    return {
      ruleId: d.code,
      ...(ruleIndex.has(d.code) ? { ruleIndex: ruleIndex.get(d.code) } : {}),
      level: SARIF_LEVEL[d.severity],
      message: { text: d.message },
      locations: [{ physicalLocation: { artifactLocation: artifact, region: region(d.range) } }],
      ...(d.related?.length
        ? {
            relatedLocations: d.related.map((r, id) => ({
              id,
              message: { text: r.message },
              physicalLocation: { artifactLocation: artifactLocation(r.file, options.root), region: region(r.range) },
            })),
          }
        : {}),
      partialFingerprints: { [FINGERPRINT_KEY]: fingerprint(d, artifact.uri) },
    };
  });
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'orch', version: options.version, semanticVersion: options.version, rules } },
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
