export { runPipeline } from './runner.js';
export { PIPELINES, type PipelineDefinition } from './definitions.js';
export type { PipelineDeps, PipelineRequest, PipelineResult, ProgressSink } from './types.js';
