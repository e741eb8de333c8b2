/**
 * Layer rules. Each layer imports only from the layers below it, and only through their entry
 * (`index.ts`): language → compiler → runtime → verify → serve → lsp → cli. Tests may also use
 * the test helpers of the layers below (their `test/` folders).
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
