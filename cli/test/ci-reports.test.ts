/**
 * The reports `orch check` writes for CI, checked against what reads them: SARIF against the SARIF
 * 2.1.0 JSON Schema (vendored in test/schemas, source named there) and GitHub code scanning's
 * ingestion rules; GitHub workflow commands against the runner's escaping.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFiles } from '../../compiler/index.js';
import { ANNOTATIONS_SHOWN_PER_KIND, escapeData, escapeProperty, renderGithub } from '../render-github.js';
import { FINGERPRINT_KEY, renderSarif } from '../render-sarif.js';
import { readSarifSchema, validateSarif } from '../../test/support/sarif-schema.js';

const root = mkdtempSync(path.join(tmpdir(), 'orch-ci-reports-'));
const outside = mkdtempSync(path.join(tmpdir(), 'orch-ci-outside-'));

function write(file: string, text: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** Problems of several kinds: a syntax error, units, names, duplicates (with related locations), unused, and one in a file outside the repository. */
function corpus(prefix = ''): string[] {
  write(path.join(outside, 'dev.orch'), 'capability turn_off {\n  kind robot\n}\n');
  return [
    write(path.join(root, 'plans', 'units.orch'), `${prefix}plan p {\n  deadline 5usd\n  step a = nope(x: "é, ü: 100%")\n}\n`),
    write(path.join(root, 'plans', 'syntax.orch'), `${prefix}plan q {\n  step a = (\n}\n`),
    write(path.join(root, 'plans', 'sub dir', 'dupes.orch'), `${prefix}capability c {\n  kind tool\n}\ncapability c {\n  kind tool\n}\n`),
    write(path.join(root, 'uses-outside.orch'), `${prefix}import "${path.join(outside, 'dev.orch')}" as dev\nplan r { step a = dev.turn_off() }\n`),
  ];
}

async function sarifOf(files: readonly string[]) {
  const diagnostics = await checkFiles(files);
  return { diagnostics, log: JSON.parse(renderSarif(diagnostics, { root, version: '0.1.0', sources: new Map() })) };
}

describe('orch check --format sarif', () => {
  it('is valid SARIF 2.1.0 by the OASIS schema', async () => {
    const { diagnostics, log } = await sarifOf(corpus());
    expect(new Set(diagnostics.map((d) => d.code)).size).toBeGreaterThanOrEqual(4);
    expect(diagnostics.some((d) => (d.related ?? []).length > 0)).toBe(true);
    expect(validateSarif(log)).toEqual([]);
    // The schema is the real one: it rejects what SARIF forbids.
    expect(validateSarif({ ...log, version: '2.0.0' })).not.toEqual([]);
    expect(validateSarif({ ...log, runs: [{ ...log.runs[0], results: [{ ...log.runs[0].results[0], level: 'fatal' }] }] })).not.toEqual([]);
    expect(readSarifSchema().id).toMatch(/sarif-schema-2\.1\.0\.json$/);
  });

  it("keeps within GitHub code scanning's ingestion rules", async () => {
    const { log } = await sarifOf(corpus());
    expect(log.runs.length).toBeLessThanOrEqual(20);
    const [run] = log.runs;
    const rules = run.tool.driver.rules as any[];
    expect(rules.length).toBeLessThanOrEqual(25_000);
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    for (const r of rules) {
      // Stable ids (the diagnostic codes), and the texts an alert shows, all required by GitHub.
      expect(r.id).toMatch(/^[EWI]\d{4}$/);
      for (const text of [r.shortDescription.text, r.fullDescription.text, r.help.text]) expect(text.trim()).not.toBe('');
      expect(r.fullDescription.text).not.toContain('\n');
      expect((r.properties?.tags ?? []).length).toBeLessThanOrEqual(20);
    }
    expect(run.results.length).toBeGreaterThan(0);
    for (const res of run.results) {
      expect(rules[res.ruleIndex].id).toBe(res.ruleId);
      expect(res.message.text.trim()).not.toBe('');
      expect(res.locations.length).toBeGreaterThanOrEqual(1);
      expect(res.locations.length).toBeLessThanOrEqual(10);
      expect(Object.keys(res.partialFingerprints)).toEqual([FINGERPRINT_KEY]);
      for (const loc of [...res.locations, ...(res.relatedLocations ?? [])]) {
        const { artifactLocation: a, region } = loc.physicalLocation;
        expect(region.startLine).toBeGreaterThanOrEqual(1);
        if (a.uriBaseId === undefined) {
          // Outside the repository: an absolute file URI, never a path code scanning would misplace.
          expect(a.uri).toMatch(/^file:\/\//);
          expect(decodeURIComponent(new URL(a.uri).pathname)).toContain(outside.split(path.sep).join('/'));
        } else {
          expect(a.uriBaseId).toBe('%SRCROOT%');
          expect(a.uri).not.toMatch(/^(\/|\.\.|[a-z]+:)/i);
          expect(a.uri).not.toMatch(/[\\\s]/);
        }
      }
    }
    const uris = run.results.map((r: any) => r.locations[0].physicalLocation.artifactLocation.uri);
    expect(uris).toContain('plans/sub%20dir/dupes.orch');
    expect(uris).toContain('plans/units.orch');
  });

  it('gives every result a fingerprint that lines moving above it do not change', async () => {
    const fingerprints = (log: any) => log.runs[0].results.map((r: any) => `${r.ruleId} ${r.partialFingerprints[FINGERPRINT_KEY]}`);
    const before = await sarifOf(corpus());
    expect(new Set(fingerprints(before.log)).size).toBe(before.log.runs[0].results.length);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('\n', '// a comment\n', '   \n'), { minLength: 1, maxLength: 4 }), async (lines) => {
        const after = await sarifOf(corpus(lines.join('')));
        const startLines = (log: any) => log.runs[0].results.map((r: any) => r.locations[0].physicalLocation.region.startLine);
        expect(startLines(after.log)).not.toEqual(startLines(before.log));
        expect(fingerprints(after.log)).toEqual(fingerprints(before.log));
      }),
      { numRuns: 5 },
    );
    corpus();
  });
});

describe('orch check --format github', () => {
  /** What the runner does with a command's message and with its property values. */
  const unescapeData = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
  const unescapeProperty = (s: string) => unescapeData(s.replace(/%3A/g, ':').replace(/%2C/g, ','));

  it('escapes messages and properties so that the runner reads back exactly the text', () => {
    // The characters that matter, text that already looks escaped (`%2C`), and others.
    const text = fc.string({ unit: fc.oneof(fc.constantFrom('%', ',', ':', '\r', '\n', '%2C', '%0A', '%25'), fc.constantFrom('a', ' ', 'é', '2', 'C', '🙂')) });
    fc.assert(
      fc.property(text, (s) => {
        const property = escapeProperty(s);
        const data = escapeData(s);
        return !/[,:\r\n]/.test(property) && unescapeProperty(property) === s && !/[\r\n]/.test(data) && unescapeData(data) === s;
      }),
    );
  });

  it('one command per problem at its range, related notes in the message, then the totals', async () => {
    const files = corpus();
    const diagnostics = await checkFiles(files);
    const out = renderGithub(diagnostics, { root, fileCount: files.length }).trimEnd().split('\n');
    const commands = out.filter((l) => l.startsWith('::'));
    expect(commands).toHaveLength(diagnostics.length);
    const units = commands.find((c) => c.includes('title=E0203'))!;
    expect(units).toBe("::error file=plans/units.orch,line=2,endLine=2,col=12,endColumn=16,title=E0203::'deadline' needs a duration (e.g. 30s), found an amount of money '5usd'");
    const dupe = commands.find((c) => c.includes('title=E0102'))!;
    expect(dupe).toMatch(/^::error file=plans\/sub dir\/dupes\.orch,line=4,/);
    expect(unescapeData(dupe.split('::')[2]!)).toMatch(/\nnote: .* \(plans\/sub dir\/dupes\.orch:1:\d+\)$/);
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    expect(out.at(-1)).toMatch(new RegExp(`^orch check: ${errors} errors, \\d+ warnings?, \\d+ notes? in 4 files$`));
  });

  it(`past ${ANNOTATIONS_SHOWN_PER_KIND} of a kind, says how many GitHub leaves off and points to SARIF`, async () => {
    const many = write(path.join(root, 'many.orch'), `plan m {\n${Array.from({ length: 12 }, (_, i) => `  step s${i} = nope${i}()\n`).join('')}}\n`);
    const diagnostics = await checkFiles([many]);
    const out = renderGithub(diagnostics, { root, fileCount: 1 }).trimEnd().split('\n');
    expect(out.filter((l) => l.startsWith('::error ')).length).toBe(12);
    expect(out.at(-2)).toBe('orch check: 12 errors, 0 warnings, 0 notes in 1 file');
    expect(out.at(-1)).toContain('so 2 of the 12 errors are only in this log');
    expect(out.at(-1)).toContain('orch check --format sarif');
    // Under the limit: no such line.
    const few = renderGithub(diagnostics.slice(0, ANNOTATIONS_SHOWN_PER_KIND), { root, fileCount: 1 });
    expect(few).not.toContain('sarif');
  });
});
