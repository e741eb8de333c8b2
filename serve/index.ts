/**
 * The serve layer: triggers (schedules, events, API, conditions, chains) and the HTTP API over the
 * runtime. Input: `ServeCliOptions` (modules, address, journal); output: the exit code once the
 * server has stopped.
 */
export { runServe, runUi, ServeError, type ServeCliOptions, type UiCliOptions } from './main.js';
export { DEFAULT_LIMITS, type HttpLimits } from './http/app.js';
export { renderTimelineFile, type TimelineFileFormat } from './render/timeline-file.js';
export { originNote, starterLabel, starterIn, type OriginLike, type StarterLike } from './render/starter-label.js';
export { startServer, type RunningServer, type ServeOptions } from './server.js';
export type { RunStarter, RunView, RunSummary, JournalEntry, ControlResult } from './run-starter.js';
export { buildServer, type BuiltServer } from './server.js';
export { auditEntryJson, sinceOf } from './http/audit-routes.js';
export { allows, API_TRIGGER_ROUTE, requirementOf, ROLE_GRANTS, ROLE_TABLE, type Requirement } from './http/role-table.js';
export { openRuntimeStarter, type RuntimeStarterOptions } from './runtime-starter.js';
export { loadServeProgram } from './load.js';
export { planOfRun } from './journal-view.js';
