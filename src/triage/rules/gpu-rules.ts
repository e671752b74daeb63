import type { Rule } from '../rule.js';
import { unreadCoredumpRule } from './coredump-unread.js';
import { cpuExceptionRule } from './cpu-exception.js';
import { cudaKernelFaultRule } from './crash.js';
import { gpuXidRule } from './gpu-xid.js';
import { collectiveHangRule } from './hang.js';
import { kernelRaceRule } from './kernel-race.js';
import { oomRule } from './oom.js';
import { schedulerStallRule } from './scheduler-stall.js';
import { stuckKernelRule } from './stuck-kernel.js';
import { liveUnresponsiveRule } from './live-unresponsive.js';

/** The GPU-evidence rules, in tie-break order (a hardware Xid explains the CUDA errors after it). */
export const GPU_RULES: readonly Rule[] = [gpuXidRule, cudaKernelFaultRule, oomRule, cpuExceptionRule, collectiveHangRule, stuckKernelRule, schedulerStallRule, liveUnresponsiveRule, kernelRaceRule, unreadCoredumpRule];
