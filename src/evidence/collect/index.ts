export { runTool, type ToolOutcome, type ToolDeps } from './run-tool.js';
export { collectNvidiaSmi, type NvidiaSmiOutcomes } from './nvidia-smi.js';
export { collectPySpy, collectPySpyWithFallback } from './py-spy.js';
export { attachCudaGdb, inspectCoredump, attachArgs, coredumpArgs } from './cuda-gdb.js';
export { runUnderSanitizer } from './compute-sanitizer.js';
export { triggerUserCoredump, coredumpPipePath, type TriggerOutcome } from './coredump-trigger.js';
export { collectRankEvidence, type RankEvidence, type RankTarget } from './rank-evidence.js';
export { findCoredumps, findCoredumpsDetailed, sglangCoredumpPipe, type CoredumpCandidate, type FindCoredumpsOptions, type FindCoredumpsResult } from './coredump-find.js';
