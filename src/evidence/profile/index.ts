export { readTrace, type ReadTraceOptions } from './read-trace.js';
export { torchTraceRecognizer, describeTrace, looksLikeTorchTrace } from './recognizer.js';
export type { TraceSummary, KernelShare, DeviceActivity, RangeTime } from './trace-summary.js';
