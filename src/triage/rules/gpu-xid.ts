import { xidCommands } from '../rule-commands.js';
import type { Facts } from '../../contracts/report.js';
import { PRIORITY, type Rule } from '../rule.js';

/**
 * NVIDIA driver Xid lines. Hardware Xids (bus drop, ECC, NVLink, GSP) mean the GPU or host is at fault,
 * not the serving code: drain it. Application Xids (13, 31, 43) are handled by the kernel-fault rule as
 * supporting evidence.
 */
const HARDWARE_XID: Record<number, string> = {
  48: 'double-bit ECC error',
  61: 'internal micro-controller breakpoint',
  62: 'internal micro-controller halt',
  63: 'ECC page retirement / row remapping event',
  64: 'ECC page retirement / row remapping failure',
  74: 'NVLink error',
  79: 'GPU has fallen off the bus',
  92: 'high single-bit ECC error rate',
  94: 'contained ECC error',
  95: 'uncontained ECC error',
  119: 'GSP RPC timeout',
  120: 'GSP error',
  140: 'unrecovered ECC error',
};

export const gpuXidRule: Rule = {
  id: 'gpu-hardware-xid',
  evaluate(evidence, ctx) {
    for (const item of evidence.of('server-log')) {
      const xid = item.data.xids.find((x) => HARDWARE_XID[x.code] !== undefined);
      if (!xid) continue;
      const what = HARDWARE_XID[xid.code]!;
      const facts: Facts = { xid: xid.code, xidMeaning: what, gpuPciBus: xid.pci };
      return {
        rule: this.id,
        priority: PRIORITY.gpuFault,
        problemClass: 'crash',
        strongestSignal: `NVRM Xid ${xid.code} (${what}) on PCI ${xid.pci}`,
        bestGuess: `A GPU hardware/driver fault (${what}), not a serving bug: every CUDA error after it is a consequence.`,
        ruledOut: ['a kernel bug as first cause: the driver reported a hardware-class Xid'],
        nextStep: {
          skill: 'collect-more',
          why: 'Drain the GPU (or host) from serving, then collect the driver view for the hardware team; replaying on this GPU proves nothing.',
          commands: xidCommands(ctx),
        },
        productionRisk: 'high: the GPU may keep failing; take it out of rotation until the hardware check passes',
        facts,
        evidence: [{ file: item.file, fact: `Xid ${xid.code} (line ${xid.line}): ${xid.text}` }],
      };
    }
    return null;
  },
};
