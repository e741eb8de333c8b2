/**
 * A small builder for one generated project: its `.orch` files (declarations and plans, with
 * nested blocks), its `orch.config.json`, its `orch.lock.json` and the handler module every
 * capability names. The corpus's tables (sources, sinks, hops) add to it; `files()` renders it.
 * Capability texts are kept by name per file, so two parts of a plan that need the same helper
 * declare it once.
 */
import { lockText, lockTool, LOCK_VERSION, type McpToolDescription } from '../../index.js';

export const HANDLER = './handlers.js#h';
export const HANDLERS_JS = 'export const h = async () => ({});\n';

/** A nested block of steps: the plan's body, a `for each`, a `race`, a `repeat`. */
export class Block {
  readonly items: (string | Block)[] = [];
  constructor(
    readonly header: string | null,
    readonly plan: PlanText,
    readonly parent: Block | null = null,
    /** A race's branches are its steps: nothing may be inserted there (a validator would race). */
    readonly raceBranches = false,
  ) {}

  add(step: string): void {
    this.items.push(step);
  }

  /** A step just before the nested block `child` (a validator for a race's branch). */
  insertBefore(child: Block, step: string): void {
    this.items.splice(this.items.indexOf(child), 0, step);
  }

  open(header: string, raceBranches = false): Block {
    const b = new Block(header, this.plan, this, raceBranches);
    this.items.push(b);
    return b;
  }

  render(indent: string): string[] {
    const inner = this.header === null ? indent : `${indent}  `;
    const lines: string[] = [];
    if (this.header !== null) lines.push(`${indent}${this.header} {`);
    for (const item of this.items) {
      if (typeof item === 'string') lines.push(...item.split('\n').map((l) => inner + l));
      else lines.push(...item.render(inner));
    }
    if (this.header !== null) lines.push(`${indent}}`);
    return lines;
  }
}

export class PlanText {
  /** Field name → its declaration (`u_text: string @untrusted`, markers included). */
  readonly input = new Map<string, string>();
  readonly attrs: string[] = [];
  readonly body: Block;
  output: string | null = null;

  constructor(
    readonly name: string,
    readonly file: OrchFile,
  ) {
    this.body = new Block(null, this);
  }

  /** How another plan of `from` calls this one: `run NAME(…)` or `run lib.NAME(…)`. */
  ref(from: OrchFile): string {
    if (from === this.file) return this.name;
    from.imports.add(`import "./${this.file.name}" as ${this.file.alias}`);
    return `${this.file.alias}.${this.name}`;
  }

  render(): string {
    const lines = [`plan ${this.name} {`];
    if (this.input.size) lines.push(`  input { ${[...this.input.values()].join(', ')} }`);
    for (const a of this.attrs) lines.push(`  ${a}`);
    lines.push(...this.body.render('  '));
    if (this.output) lines.push(`  output { ${this.output} }`);
    lines.push('}');
    return lines.join('\n');
  }
}

export class OrchFile {
  readonly imports = new Set<string>();
  readonly caps = new Map<string, string>();
  readonly resources = new Map<string, string>();
  /** Field name → its declaration, as plan input. */
  readonly context = new Map<string, string>();
  readonly plans: PlanText[] = [];

  constructor(
    readonly name: string,
    readonly alias: string,
  ) {}

  /** Declares capability NAME once per file (`text` is its body, without braces). */
  cap(name: string, body: string): string {
    if (!this.caps.has(name)) this.caps.set(name, `capability ${name} {\n${body.trim().split('\n').map((l) => `  ${l.trim()}`).join('\n')}\n}`);
    return name;
  }

  render(): string {
    const parts: string[] = [];
    if (this.imports.size) parts.push([...this.imports].sort().join('\n'));
    parts.push(...this.caps.values(), ...this.resources.values());
    if (this.context.size) parts.push(`context {\n${[...this.context.values()].map((d) => `  ${d}`).join('\n')}\n}`);
    parts.push(...this.plans.map((p) => p.render()));
    return `${parts.join('\n\n')}\n`;
  }
}

type Json = Record<string, unknown>;

export class Program {
  readonly main = new OrchFile('main.orch', 'main');
  readonly lib = new OrchFile('lib.orch', 'lib');
  readonly config: { channels?: Json; endpoints?: Json; prices?: Json; mcp?: Json } = {};
  readonly tools = new Map<string, McpToolDescription[]>();
  /** The machine every step runs on unless a sink needs another: what it provides, its model endpoint. */
  readonly laptop: { provides: Set<string>; endpoint: string | null } = { provides: new Set(['cpu', 'http']), endpoint: null };
  private readonly taken = new Set<string>();

  constructor() {
    this.main.resources.set('laptop', '');
  }

  /** A step or plan name not used yet in this program (`relay`, `relay_2`, …). */
  name(base: string): string {
    let n = base;
    for (let i = 2; this.taken.has(n); i++) n = `${base}_${i}`;
    this.taken.add(n);
    return n;
  }

  plan(file: OrchFile, base: string): PlanText {
    const p = new PlanText(this.name(base), file);
    file.plans.push(p);
    return p;
  }

  channel(name: string, entry: Json): void {
    (this.config.channels ??= {})[name] = entry;
  }

  endpoint(name: string, entry: Json): void {
    (this.config.endpoints ??= {})[name] = entry;
  }

  /** An MCP server of the config and the lock, with the tools it lists. */
  mcpServer(name: string, entry: Json, tools: McpToolDescription[]): void {
    (this.config.mcp ??= {})[name] = entry;
    const have = this.tools.get(name) ?? [];
    for (const t of tools) if (!have.some((h) => h.name === t.name)) have.push(t);
    this.tools.set(name, have);
  }

  /** Every file of the project, with the markers still in the `.orch` texts. */
  files(): Record<string, string> {
    const endpoint = this.laptop.endpoint ? `  endpoint "${this.laptop.endpoint}"` : '';
    this.main.resources.set('laptop', `resource laptop { kind local_device  provides ${[...this.laptop.provides].join(', ')}${endpoint} }`);
    const out: Record<string, string> = { 'main.orch': this.main.render(), 'handlers.js': HANDLERS_JS };
    if (this.lib.plans.length || this.lib.caps.size) out['lib.orch'] = this.lib.render();
    if (Object.keys(this.config).length) out['orch.config.json'] = `${JSON.stringify(this.config, null, 2)}\n`;
    if (this.tools.size) {
      const servers = Object.fromEntries([...this.tools].map(([name, tools]) => [name, { name, version: '1.0.0', tools: tools.map(lockTool) }]));
      out['orch.lock.json'] = lockText({ lockVersion: LOCK_VERSION, servers });
    }
    return out;
  }
}
