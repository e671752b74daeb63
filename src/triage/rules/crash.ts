import type { Facts } from '../../contracts/report.js';
import { PRIORITY, type Rule } from '../rule.js';
import { batchFact, hasReplayEvidence, replayFacts } from './gpu-evidence/common.js';
import { cudaCrashCommands } from './gpu-evidence/commands.js';
import { findGpuFault } from './gpu-evidence/fault.js';
import { upstreamHint } from './gpu-evidence/upstream.js';

/**
 * A CUDA kernel fault (cuda-gdb exception, driver coredump progress, compute-sanitizer memcheck,
 * device-side assert, or at least a CUDA error line) → crash → debug-cuda-crash, with the faulting
 * kernel, the exception, and the producer one kernel upstream as the root-cause suspect.
 */
export const cudaKernelFaultRule: Rule = {
  id: 'cuda-kernel-fault',
  evaluate(evidence, ctx) {
    const fault = findGpuFault(evidence);
    if (!fault) return null;
    const up = upstreamHint(fault);
    const facts: Facts = { rootCauseHint: up.hint };
    if (fault.kernel) facts.faultingKernel = fault.kernel;
    if (fault.deviceFunction) facts.deviceFunction = fault.deviceFunction;
    if (fault.signal) facts.signal = fault.signal;
    if (fault.exception) facts.cudaException = fault.exception;
    if (up.upstreamKernel) facts.upstreamKernel = up.upstreamKernel;
    if (fault.pc) facts.faultPc = fault.pc;
    if (fault.faultingSass) facts.faultingSass = fault.faultingSass;
    // facts hold bare kernel names; the mangled symbol (template args, params) is kept under its own name.
    if (fault.mangled) facts.mangledSymbol = fault.mangled;
    if (fault.launch) facts.launch = fault.launch;
    if (fault.coredumpPath) facts.coredump = fault.coredumpPath;
    if (fault.crashDump) facts.crashDump = fault.crashDump.path;
    if (fault.trigger) facts.triggerBatch = batchFact(fault.trigger.batch);
    facts.faultLocatedBy = fault.located;
    Object.assign(facts, replayFacts(evidence));

    const where = fault.kernel ? ` in ${fault.kernel}${fault.deviceFunction ? ` (device function ${fault.deviceFunction})` : ''}` : '';
    const how = { debugger: 'cuda-gdb on the coredump', driver: 'the CUDA driver while writing the coredump', sanitizer: `compute-sanitizer ${fault.sanitizer?.tool ?? 'memcheck'}`, assert: 'a device-side assertion', log: 'a CUDA error line in the log' }[fault.located];
    const trigger = fault.trigger?.batch.newToken !== undefined ? ` on a ${fault.trigger.batch.kind} batch of ${fault.trigger.batch.newToken} new token(s)` : '';
    const evidenceRefs = up.evidence ? [...fault.evidence, up.evidence] : fault.evidence;
    const hasReplay = hasReplayEvidence(evidence);
    const unreadCoredump = fault.located === 'debugger' ? undefined : evidence.of('cuda-coredump')[0]?.data.path;

    return {
      rule: this.id,
      priority: fault.located === 'log' ? PRIORITY.gpuFault - 1 : PRIORITY.gpuFault,
      problemClass: 'crash',
      strongestSignal: `${fault.exception ?? 'CUDA fault'}${where}${fault.faultingSass ? ` at SASS ${fault.faultingSass}` : ''} (from ${how})${trigger}`,
      bestGuess: fault.kernel
        ? `${fault.kernel} is where the GPU faulted, not necessarily what is wrong. ${up.hint}`
        : `A CUDA kernel faulted but no file names it yet. ${up.hint}`,
      ruledOut: [
        'a hang: the process died on a GPU fault instead of waiting on a collective',
        'host-side Python logic as the first cause: the failure is on the device',
        ...(evidence.of('server-log').some((i) => i.data.oom.length) ? [] : ['out of memory: no allocation failure in the evidence']),
      ],
      nextStep: {
        skill: 'debug-cuda-crash',
        why: `${fault.located === 'log' ? 'Only a CUDA error line so far: get the faulting kernel from a CUDA coredump. ' : ''}Replay the trigger on a clean target with SGLANG_KERNEL_API_LOGLEVEL (1 names, 3 inputs, 5 statistics, 10 crash-safe dumps; 10 here so the inputs survive the crash), SGLANG_KERNEL_API_LOGDEST / SGLANG_KERNEL_API_DUMP_DIR into the incident folder and SGLANG_CUDA_COREDUMP=1; open the coredump with cuda-gdb and check the inputs of the kernel one launch upstream; confirm with compute-sanitizer memcheck.`,
        commands: cudaCrashCommands(ctx, {
          hasReplay,
          ...(unreadCoredump ? { unreadCoredump } : {}),
          ...(fault.crashDump ? { crashDumpPath: fault.crashDump.path } : {}),
        }),
      },
      productionRisk: `high: the same request shape${trigger ? ` (${fault.trigger?.batch.kind} with ${fault.trigger?.batch.newToken} new tokens)` : ''} will crash the server again and lose every in-flight request; a CUDA fault also poisons the CUDA context, so the process must restart`,
      facts,
      evidence: evidenceRefs,
    };
  },
};
