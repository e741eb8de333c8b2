/**
 * The command line. Input: `argv`; output: the exit code (0 success, 1 the checked or run thing
 * failed, 2 usage or I/O error). One module per command in `commands/`, loaded when invoked.
 */
export { main, buildProgram } from './main.js';
