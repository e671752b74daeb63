import type { IncidentRecord } from '../../src/incident/types.js';
import type { Report } from '../../src/contracts/report.js';

/** The TTFT-spike case study as the router reports it. */
export const SLOW_REPORT: Report = {
  problemClass: 'slow',
  checked: ['baseline/: /health=ok /health_generate=ok running=1 waiting=0 token_usage=0.410', 'baseline/metrics.txt: avg_ttft=3.210 s avg_queue=0.030 s'],
  strongestSignal: 'avg TTFT 3.210 s with avg queue time 0.030 s; prefill_forward 2.900 s dominates request_process 0.090 s',
  bestGuess: 'compute-side prefill slowness, not queue pressure',
  ruledOut: ['queue build-up (waiting=0)', 'KV pressure (token_usage 0.41 < 0.9)'],
  nextStep: {
    skill: 'llm-torch-profiler-analysis',
    why: 'The replay must reproduce the slow prefill before a profile is worth taking.',
    commands: [
      "curl -sS -X POST http://10.0.0.5:30000/configure_logging -H 'Content-Type: application/json' -d '{\"dump_requests_folder\":\"/tmp/sglang_request_dump\",\"dump_requests_threshold\":1}'",
      'triage replay /data/incidents/inc-1/dumps --target http://127.0.0.1:31000 --parallel 1',
    ],
  },
  productionRisk: 'medium: users see slow first tokens; nothing is down',
  facts: { dominantStage: 'prefill_forward', reproduced: false, rule: 'compute-slow' },
  evidence: [{ file: 'baseline/metrics.txt', fact: 'prefill_forward avg 2.900 s on tp_rank 0' }],
};

export function incidentRecord(overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  const base: IncidentRecord = {
    id: 'inc-20261128-0116-prod-a-3f9c',
    server: 'prod-a',
    host: 'gpu-1',
    channel: 'C0OPS',
    createdBy: 'U0ALICE',
    status: 'open',
    pipeline: 'capture',
    createdAt: '2026-11-28T01:16:00.000Z',
    updatedAt: '2026-11-28T01:17:30.000Z',
    threadTs: '1700000000.000001',
    statusTs: '1700000000.000002',
    jobId: 'inc-20261128-0116-prod-a-3f9c.capture.1',
    jobState: 'done',
    attempt: 1,
    problemClass: 'slow',
    nextSkill: 'llm-torch-profiler-analysis',
    incidentDir: '/data/incidents/inc-20261128-0116-prod-a-3f9c',
    steps: [
      { step: 'capture baseline bundle', state: 'done', detail: '8/8 endpoints ok in 1.2 s; 3 signals', at: '2026-11-28T01:16:05.000Z' },
      { step: 'route', state: 'done', detail: 'slow → llm-torch-profiler-analysis', at: '2026-11-28T01:16:06.000Z' },
    ],
    artifacts: ['/data/incidents/inc-20261128-0116-prod-a-3f9c/report.json'],
    report: SLOW_REPORT,
    timeline: [
      { at: '2026-11-28T01:16:00.000Z', kind: 'created', text: 'capture on prod-a asked for', by: 'U0ALICE', pipeline: 'capture' },
      { at: '2026-11-28T01:16:00.100Z', kind: 'queued', text: 'capture queued on gpu-1', by: 'U0ALICE', pipeline: 'capture' },
      { at: '2026-11-28T01:16:06.000Z', kind: 'done', text: 'capture done: slow → llm-torch-profiler-analysis', pipeline: 'capture' },
    ],
  };
  return { ...base, ...overrides } as IncidentRecord;
}

/** A report far past every Block Kit limit: the templates must cut it, not Slack. */
export function hugeReport(): Report {
  const long = (n: number, word: string) => Array.from({ length: n }, (_, i) => `${word}-${i}`).join(' ');
  return {
    ...SLOW_REPORT,
    strongestSignal: long(900, 'signal'),
    bestGuess: long(900, 'guess'),
    checked: Array.from({ length: 400 }, (_, i) => `checked item ${i}: ${long(20, 'x')}`),
    ruledOut: Array.from({ length: 300 }, (_, i) => `ruled out ${i} <script>&`),
    evidence: Array.from({ length: 300 }, (_, i) => ({ file: `stacks/rank${i}.txt`, fact: long(30, 'frame') })),
    nextStep: { ...SLOW_REPORT.nextStep, why: long(800, 'why'), commands: Array.from({ length: 200 }, (_, i) => `cmd ${i} ${long(20, 'arg')}`) },
    productionRisk: long(800, 'risk'),
    facts: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`fact${i}`, long(10, 'v')])),
  };
}
