/**
 * The language server. Input: an LSP connection (stdio by default) and `ServerOptions`; output:
 * diagnostics, hover, completion, navigation, formatting and plan previews for the editor.
 */
export { startStdioServer } from './stdio.js';
export type { ServerOptions } from './server.js';
export { ParseCache } from './parse-cache.js';
