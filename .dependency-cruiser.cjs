/**
 * Layer rules. Each layer imports only from the layers below it, and only through their entry
 * (`index.ts`): language → compiler → runtime → verify → serve → lsp → cli. Tests may also use
 * the test helpers of the layers below (their `test/` folders). Inside the runtime, the stores of
 * each backend (`runtime/backend/sqlite|pg|memory/`) are reached only through `runtime/backend/`
 * (a `Backend`), the scheduler core imports no models, people or backend code, and no module takes
 * part in an import cycle.
 */
const LAYERS = ['language', 'compiler', 'runtime', 'verify', 'serve', 'lsp', 'cli'];

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `${layer}-imports-a-higher-layer`,
  comment: `${layer}/ sits below ${LAYERS.slice(i + 1).join(', ')}: it may not import them`,
  severity: 'error',
  from: { path: `^${layer}/` },
  to: { path: `^(${LAYERS.slice(i + 1).join('|')})/` },
}));

const internals = LAYERS.map((layer) => ({
  name: `into-${layer}-internals`,
  comment: `other layers use ${layer}/ through ${layer}/index.ts only`,
  severity: 'error',
  from: { path: '^', pathNot: `^${layer}/` },
  to: { path: `^${layer}/`, pathNot: [`^${layer}/index\\.ts$`, `^${layer}/test/`] },
}));

module.exports = {
  forbidden: [
    ...upward,
    ...internals,
    {
      name: 'backend-stores-outside-the-seam',
      comment: 'the stores of each backend are reached through runtime/backend/ (a Backend), never directly; tests of a store may',
      severity: 'error',
      from: { path: '^', pathNot: ['^runtime/backend/', '/test/'] },
      to: { path: '^runtime/backend/(sqlite|pg|memory)/' },
    },
    {
      name: 'no-circular',
      comment: 'no module imports itself through others (a cycle): move what both sides need into a module both import, named for what it is',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'scheduler-core-stays-pure',
      comment: 'the scheduler core decides from its state alone: it imports no model code, no people code and no backend (it owns interfaces such as ModelCalls instead)',
      severity: 'error',
      from: { path: '^runtime/scheduler/core/' },
      to: { path: '^runtime/(models|people|backend)/' },
    },
    {
      name: 'compiler-opens-no-connection',
      comment: 'LANGUAGE.md §9.4: `orch check` judges source blocks and their connections from the files alone; the language and the compiler open no socket (no broker, no endpoint, no MCP server)',
      severity: 'error',
      from: { path: '^(language|compiler)/', pathNot: '/test/' },
      to: { path: '^(node:)?(net|tls|dgram|http|https|http2)$|node_modules/(mqtt|pg|undici|ws|@modelcontextprotocol)/' },
    },
    {
      name: 'check-bundle-stays-compiler-only',
      comment: '`orch check` runs from one bundled script (cli/bundle-check.mjs) that holds the language and the compiler: a module of the runtime or above reached from its entry brings native packages esbuild cannot bundle (argon2) and the runtime\'s start-up into every check',
      severity: 'error',
      from: { path: '^cli/check-main\\.ts$' },
      to: { path: '^(runtime|verify|serve|lsp)/', reachable: true },
    },
    {
      name: 'test-helpers-outside-tests',
      comment: 'a layer\'s test/ folder is for tests and benches, never for the product',
      severity: 'error',
      from: { path: '^(language|compiler|runtime|verify|serve|lsp|cli|stdlib)/', pathNot: '/test/' },
      to: { path: '/test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
