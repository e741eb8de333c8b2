import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check, compile, preview, renderPreviewText, validatePlanIR } from '../index.js';
import { diskHost } from '../load.js';
import type { Diagnostic } from '../../language/index.js';
import { checkText, codes, compileText, covered } from './helpers.js';

const SUMMARIZE = `
capability summarize {
  kind llm
  input  { text: string, audience: "exec" | "team" = "team" }
  output { title: string, bullets: list<string> }
  system "You write short, factual summaries."
  prompt "Summarize for the \${input.audience}:\\n\${upper(input.text)}"
  model "gpt-4o-mini"
  temperature 0.2
  max_tokens 800
  cost 0.002usd
  data internal
  requires llm
}
resource cloud_model { kind cloud_region  provides llm  endpoint "openai"  model "gpt-4o-mini" }
resource local_model { kind local_device  provides llm  endpoint "ollama"  model "llama3.2" }
plan p {
  input { text: string }
  step s = summarize(text: input.text)
  output { t: s.output.title }
}
`;

describe('kind llm capabilities (§8.1)', () => {
  it('compile to IR with llm { prompt, system, model, temperature, max_tokens } and resources with endpoint/model; the IR validates', () => {
    const out = compileText(SUMMARIZE);
    expect(codes(out.diagnostics).filter((c) => c.startsWith('E'))).toEqual([]);
    const ir = out.plans[0]!;
    expect(validatePlanIR(JSON.parse(JSON.stringify(ir))).ok).toBe(true);
    const cap = Object.values(ir.capabilities).find((c) => c.name.endsWith('summarize'))!;
    expect(cap.llm).toMatchObject({ model: 'gpt-4o-mini', temperature: 0.2, max_tokens: 800 });
    expect(cap.llm!.system).toEqual({ op: 'lit', value: 'You write short, factual summaries.' });
    expect(cap.llm!.prompt).toMatchObject({ op: 'concat' });
    expect(cap.handler).toBeNull();
    expect(ir.resources.cloud_model).toMatchObject({ endpoint: 'openai', model: 'gpt-4o-mini' });
    expect(ir.resources.local_model).toMatchObject({ endpoint: 'ollama', model: 'llama3.2' });
  });

  it('E0801: both prompt and handler, neither, a prompt reading a step/context/secret, temperature and max_tokens out of range', () => {
    const src = `
context { temperature: number }
capability both { kind llm  input { t: string }  output { text: string }  prompt "x"  handler "./h.js" }
capability neither { kind llm  input { t: string }  output { text: string } }
capability reads { kind llm  input { t: string }  output { text: string }  prompt "\${context.temperature} \${secret("KEY")}"  system "\${run.cost}" }
capability ranges { kind llm  input { t: string }  output { text: string }  prompt "ok \${len(input.t)}"  temperature 2.5  max_tokens 0 }
capability tooly { kind tool  input { t: string }  output { text: string }  prompt "x" }
`;
    const diags = checkText(src).filter((d) => d.code === 'E0801');
    const spans = diags.map((d) => covered(src, d));
    expect(spans).toContain('"./h.js"');
    expect(spans).toContain('neither');
    expect(spans).toContain('context');
    expect(spans).toContain('secret("KEY")');
    expect(spans).toContain('run');
    expect(spans).toContain('2.5');
    expect(spans).toContain('0');
    expect(diags.some((d) => /kind llm capabilities/.test(d.message) && covered(src, d) === '"x"')).toBe(true);
    // The time is no input and no pure built-in: a prompt reading it is not what the capability was given.
    const timed = `capability timed { kind llm  input { t: string }  output { text: string }  prompt "\${input.t} at \${format(now())}"  system "Today: \${now()}" }`;
    expect(checkText(timed).filter((d) => d.code === 'E0801').map((d) => [covered(timed, d), d.message])).toEqual([
      ['now()', 'a prompt may read only input, literals and pure built-ins, not now(): its value changes with time'],
      ['now()', 'a system may read only input, literals and pure built-ins, not now(): its value changes with time'],
    ]);
    // A prompt that reads a field the input does not have is a normal type error.
    expect(codes(checkText(`capability c { kind llm  input { t: string }  output { text: string }  prompt "\${input.nope}" }`))).toContain('E0201');
  });

  it('the bounds themselves are allowed: temperature 0 and 2, max_tokens 1; a handler alone is no E0801', () => {
    const src = `
capability cold { kind llm  input { t: string }  output { text: string }  prompt "\${input.t}"  temperature 0  max_tokens 1 }
capability hot { kind llm  input { t: string }  output { text: string }  prompt "\${input.t}"  temperature 2 }
capability coded { kind llm  input { t: string }  output { text: string }  handler "./h.js" }
`;
    expect(checkText(src).filter((d) => d.code === 'E0801')).toEqual([]);
  });

  it('a refinement merges model properties (its own win, the base\'s stay) and is checked as a declared capability (E0801)', () => {
    const base = 'capability summarize { kind llm input { text: string } output { text: string } prompt "x ${input.text}" model "gpt-4o-mini" endpoint "e" temperature 0.1 }\n';
    const src = `${base}
capability warm from summarize { temperature 0.9  max_tokens 5  model "other"  system "SYS"  prompt "refined \${input.text}" }
capability keep from summarize { max_tokens 7 }
capability hand from summarize { handler "./h.js#f" }
capability hot from summarize { temperature 5 }
capability p2 from summarize { prompt "y \${context.temp}" }
capability notllm from summarize { kind agent }
capability twice from warm { data internal }
context { temp: number }
plan p { step a = warm(text:"a") step k = keep(text:"a") step t = twice(text:"a")
  output { a: a.output, k: k.output, t: t.output } }
`;
    const diags = checkText(src).filter((d) => d.code === 'E0801');
    const at = (name: string) => {
      const start = src.indexOf(`capability ${name} `);
      return diags.filter((d) => d.range.start.offset >= start && d.range.start.offset < src.indexOf('\n', start));
    };
    expect(at('hand').map((d) => covered(src, d))).toEqual(['"./h.js#f"']);
    expect(at('hot').map((d) => covered(src, d))).toEqual(['5']);
    expect(at('p2').map((d) => covered(src, d))).toEqual(['context']);
    expect(at('notllm')).toHaveLength(1);
    expect(at('notllm')[0]!.message).toMatch(/kind agent but inherits prompt, model, endpoint, temperature from (main\.)?summarize/);
    expect(at('warm')).toEqual([]);
    expect(at('keep')).toEqual([]);
    expect(at('twice')).toEqual([]);
    expect(diags).toHaveLength(4);
    const ok = compileText(src.replace(/capability (hand|hot|p2|notllm) .*\n/g, ''));
    expect(codes(ok.diagnostics).filter((c) => c.startsWith('E'))).toEqual([]);
    const caps = ok.plans[0]!.capabilities;
    const capOf = (n: string) => Object.values(caps).find((c) => c.name.endsWith(n))!;
    expect(capOf('warm').llm).toMatchObject({ model: 'other', temperature: 0.9, max_tokens: 5, system: { op: 'lit', value: 'SYS' } });
    expect(JSON.stringify(capOf('warm').llm!.prompt)).toContain('refined ');
    expect(capOf('keep').llm).toMatchObject({ model: 'gpt-4o-mini', temperature: 0.1, max_tokens: 7, system: null });
    expect(JSON.stringify(capOf('keep').llm!.prompt)).toContain('"x "');
    // A refinement of a refinement inherits what the middle one merged.
    expect(capOf('twice').llm).toEqual(capOf('warm').llm);
    expect(capOf('twice').data).toBe('internal');
  });

  it('a negative temperature or max_tokens, and a fractional max_tokens, is E0801 only, at the value (no parse error), and formats back', async () => {
    const src = `
capability lo { kind llm  input { t: string }  output { text: string }  prompt "x"  temperature -0.1 }
capability neg { kind llm  input { t: string }  output { text: string }  prompt "x"  max_tokens -3 }
capability frac { kind llm  input { t: string }  output { text: string }  prompt "x"  max_tokens 1.5 }
`;
    const diags = checkText(src).filter((d) => d.severity === 'error');
    expect(codes(diags)).toEqual(['E0801', 'E0801', 'E0801']);
    expect(diags.map((d) => covered(src, d))).toEqual(['-0.1', '-3', '1.5']);
    const { format, parseViaCst } = await import('../../language/index.js');
    const once = format('x.orch', src).text;
    expect(once).toContain('temperature -0.1');
    expect(once).toContain('max_tokens -3');
    expect(format('x.orch', once).text).toBe(once);
    // The CST build (used for a file with errors) reads the sign too.
    const viaCst = parseViaCst({ file: 'x.orch', text: src });
    expect(codes(viaCst.diagnostics)).toEqual([]);
    const lo = viaCst.module.declarations.find((d) => d.kind === 'CapabilityDecl' && d.name.name === 'lo') as { temperature?: { value: number; range: Diagnostic['range'] } } | undefined;
    expect(lo?.temperature?.value).toBe(-0.1);
    expect(src.slice(lo!.temperature!.range.start.offset, lo!.temperature!.range.end.offset)).toBe('-0.1');
  });

  it('E0801 for secret(…) in an argument of a model-answered call (directly or inside an expression), not for a handler-backed one', () => {
    const src = `
capability chat { kind llm  input { text: string }  output { text: string }  prompt "Say: \${input.text}"  model "m"  endpoint "e" }
capability loose { kind llm  input { text: any }  output { text: string }  prompt "Say: \${input.text}"  model "m"  endpoint "e" }
capability coded { kind llm  input { text: string }  output { text: string }  handler "./h.js#f" }
plan p {
  step a = chat(text: secret("MYSEC"))
  step b = loose(text: upper("k \${secret("MYSEC")}"))
  step c = chat(text: "plain") { fallback loose(text: secret("MYSEC")) }
  step d = coded(text: secret("MYSEC"))
  output { a: a.output.text, b: b.output.text, c: c.output.text, d: d.output.text }
}
`;
    const diags = checkText(src).filter((d) => d.code === 'E0801');
    expect(diags.map((d) => covered(src, d))).toEqual(['secret("MYSEC")', 'upper("k ${secret("MYSEC")}")', 'secret("MYSEC")']);
    expect(diags[0]!.message).toMatch(/argument "text" of .*chat reads a secret: .*no secret is ever sent to a model/);
    expect(diags.every((d) => d.range.start.offset < src.indexOf('step d'))).toBe(true);
  });

  it('round-trips through the formatter', async () => {
    const { format } = await import('../../language/index.js');
    const once = format('x.orch', SUMMARIZE).text;
    expect(format('x.orch', once).text).toBe(once);
    expect(once).toContain('max_tokens 800');
    expect(once).toContain('endpoint "openai"');
  });
});

describe('W0803 against the project config (files only)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-w0803-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (config: object | null) => {
    const sub = mkdtempSync(join(dir, 'p-'));
    if (config) writeFileSync(join(sub, 'orch.config.json'), JSON.stringify(config));
    writeFileSync(join(sub, 'main.orch'), SUMMARIZE);
    return check({ entry: join(sub, 'main.orch'), host: diskHost }).filter((d) => d.code === 'W0803').map((d) => d.message);
  };

  it('warns for an endpoint and a model price the config does not define', () => {
    const msgs = run({ endpoints: { openai: { api: 'openai' } }, prices: { 'gpt-4o-mini': { input_per_mtok: 0.15, output_per_mtok: 0.6 } } });
    expect(msgs).toHaveLength(2);
    expect(msgs.some((m) => m.includes('endpoint "ollama"'))).toBe(true);
    expect(msgs.some((m) => m.includes('model "llama3.2"'))).toBe(true);
  });

  it('preview shows what a priced model call with max_tokens reserves per attempt', () => {
    const sub = mkdtempSync(join(dir, 'pv-'));
    writeFileSync(join(sub, 'orch.config.json'), JSON.stringify({ endpoints: { openai: {}, ollama: {} }, prices: { 'gpt-4o-mini': { input_per_mtok: 0.15, output_per_mtok: 0.6 } } }));
    writeFileSync(join(sub, 'main.orch'), SUMMARIZE.replace('cost 0.002usd', 'cost 0.0001usd').replace('resource local_model', 'policy lean { strategy cost  budget cost <= 1usd }\nresource local_model').replace('  input { text: string }\n  step', '  input { text: string }\n  policy lean\n  step'));
    const out = compile({ entry: join(sub, 'main.orch'), host: diskHost });
    const p = preview(out.plans[0]!);
    const r = p.steps[0]!.reservation;
    expect(p.steps[0]!.resource).toBe('cloud_model');
    expect(r.model).toBe('gpt-4o-mini');
    // 800 output tokens × 0.6/M alone is 0.00048; the literal prompt, schema and framing add a little.
    expect(r.cost).toBeGreaterThan(0.00048);
    expect(r.cost).toBeLessThan(0.0006);
    expect(r.per_input_byte).toBeCloseTo(0.15 / 1e6, 12);
    expect(renderPreviewText(p, false)).toMatch(/reserves: 0\.000\d+usd per attempt \(gpt-4o-mini, max_tokens\)/);
  });

  it("preview adds the per-KB figure to the model's worst case, not to an estimate that is more (§8.2: the more of the two)", () => {
    const sub = mkdtempSync(join(dir, 'pv-'));
    writeFileSync(join(sub, 'orch.config.json'), JSON.stringify({ endpoints: { openai: {}, ollama: {} }, prices: { 'gpt-4o-mini': { input_per_mtok: 0.15, output_per_mtok: 0.6 } } }));
    // The spec's summarize: cost 0.002usd, max_tokens 800 — 800 × 0.6/M is 0.00048, so the estimate wins.
    writeFileSync(join(sub, 'main.orch'), SUMMARIZE);
    const p = preview(compile({ entry: join(sub, 'main.orch'), host: diskHost }).plans[0]!);
    const r = p.steps[0]!.reservation;
    expect(r.cost).toBe(0.002);
    expect(r.worst_case).toBeGreaterThan(0.00048);
    expect(r.worst_case).toBeLessThan(0.0006);
    const line = renderPreviewText(p, false).split('\n').find((l) => l.includes('reserves:'))!;
    // Not "0.002 per attempt … + 0.00015 per KB": 1 KB of input leaves the reservation at 0.002.
    expect(line).not.toMatch(/^\s*reserves: 0\.002 per attempt \(gpt-4o-mini, max_tokens\) \+/);
    expect(line).toMatch(/reserves: 0\.002 per attempt \(the estimate, or gpt-4o-mini's worst case with max_tokens when more: 0\.000\d+ \+ 0\.00015 per KB of input in the prompt\)/);
  });

  it('a JSON config that does not parse is one W0803 at the config file, where it breaks — only for a plan whose checks need it', () => {
    const sub = mkdtempSync(join(dir, 'bad-'));
    const config = join(sub, 'orch.config.json');
    writeFileSync(config, '{\n  "endpoints": {},\n  "prices": {,\n}');
    writeFileSync(join(sub, 'main.orch'), SUMMARIZE);
    const w = check({ entry: join(sub, 'main.orch'), host: diskHost }).filter((d) => d.code === 'W0803');
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ file: config, severity: 'warning', range: { start: { line: 3, column: 14 } } });
    expect(w[0]!.message).toMatch(/^\/.*orch\.config\.json cannot be read: .*not checked against it \(orch run refuses it\)$/);
    // A plan that reads nothing of the config is not warned about it.
    writeFileSync(join(sub, 'plain.orch'), 'plan plain {\n  step a = log(message: "hi")\n}\n');
    expect(check({ entry: join(sub, 'plain.orch'), host: diskHost }).filter((d) => d.code === 'W0803')).toEqual([]);
  });

  it('an unreadable config is named as the plans that read it are: relative to where they are, from a folder of the project too', () => {
    const sub = mkdtempSync(join(dir, 'rel-'));
    mkdirSync(join(sub, 'plans'));
    writeFileSync(join(sub, 'orch.config.json'), '[1]');
    writeFileSync(join(sub, 'plans', 'main.orch'), SUMMARIZE);
    const project = relative(process.cwd(), sub);
    const w = check({ entry: join(project, 'plans', 'main.orch'), host: diskHost }).filter((d) => d.code === 'W0803');
    expect(w.map((d) => [d.file, d.message])).toEqual([
      [join(project, 'orch.config.json'), `${join(project, 'orch.config.json')} must hold an object: the endpoints, prices, channels and MCP servers plans use are not checked against it (orch run refuses it)`],
    ]);
  });

  it('an entry orch run refuses defines nothing: a price that is not two numbers ≥ 0, an endpoint that is no object or names another api (§8.9)', () => {
    const msgs = run({
      endpoints: { openai: { api: 'grpc' }, ollama: null },
      prices: { 'gpt-4o-mini': { input_per_mtok: '0.15', output_per_mtok: 0.6 }, 'llama3.2': { input_per_mtok: -1, output_per_mtok: 0 } },
    });
    expect(msgs).toEqual(expect.arrayContaining([
      'endpoint "openai" has "api": "grpc", which is neither openai nor anthropic: orch run refuses the config',
      'endpoint "ollama" is not an object in orch.config "endpoints": orch run refuses the config',
      'model "gpt-4o-mini" has a price in orch.config "prices" that is not input_per_mtok and output_per_mtok as numbers ≥ 0: orch run refuses the config',
      'model "llama3.2" has a price in orch.config "prices" that is not input_per_mtok and output_per_mtok as numbers ≥ 0: orch run refuses the config',
    ]));
    // The ledger reserves no worst case from such a price (a negative one made it smaller than the estimate).
    const sub = mkdtempSync(join(dir, 'neg-'));
    writeFileSync(join(sub, 'orch.config.json'), JSON.stringify({ endpoints: { openai: {}, ollama: {} }, prices: { 'gpt-4o-mini': { input_per_mtok: -1000, output_per_mtok: 0.6 } } }));
    writeFileSync(join(sub, 'main.orch'), SUMMARIZE);
    const step = preview(compile({ entry: join(sub, 'main.orch'), host: diskHost }).plans[0]!).steps[0]!;
    expect(step.reservation).toMatchObject({ model: null, cost: step.estimate.cost });
  });

  it('is silent when everything is defined, and with a JS config it cannot read', () => {
    expect(run({ endpoints: { openai: {}, ollama: {} }, prices: { 'gpt-4o-mini': { input_per_mtok: 1, output_per_mtok: 1 }, 'llama3.2': { input_per_mtok: 0, output_per_mtok: 0 } } })).toEqual([]);
    const sub = mkdtempSync(join(dir, 'js-'));
    writeFileSync(join(sub, 'orch.config.mjs'), 'export default {}');
    writeFileSync(join(sub, 'main.orch'), SUMMARIZE);
    expect(check({ entry: join(sub, 'main.orch'), host: diskHost }).filter((d) => d.code === 'W0803')).toEqual([]);
    expect(compile({ entry: join(sub, 'main.orch'), host: diskHost }).plans).toHaveLength(1);
  });
});
