export * from './model.js';
export { listDumpFiles, loadDumpFile, loadDumps, loadReplayRequests, replayRequestsOf, interpretDump, sortRecords, type LoadOptions, type ReplayLoad } from './load.js';
export { toGenerateBody, requestFacts, PREVIEW_CHARS } from './request.js';
export { summarizeDumps, summarizeInput } from './summary.js';
export { renderDumpSummary } from './render.js';
export { dumpRecognizer, describeDump, looksLikeDump } from './recognizer.js';
