"""Unseen-incident check: a prefill that runs the GPU out of memory (torch.OutOfMemoryError)."""
import sys
import traceback

import torch


def forward_extend(n):
    # Activation blow-up for a long prompt: n x n attention scores in fp32.
    scores = torch.empty(n, n, 64, device="cuda")
    return scores.sum()


def main():
    for n in [128, 2048, 262144]:
        print(f"[2026-11-28 02:13:00 TP0] Prefill batch, #new-seq: 1, #new-token: {n}, #cached-token: 0, token usage: 0.88, #running-req: 3, #queue-req: 0, input throughput (token/s): 100.00, cuda graph: False", flush=True)
        try:
            forward_extend(n)
        except torch.OutOfMemoryError:
            print("[2026-11-28 02:13:01 TP0] Scheduler hit an exception: " + traceback.format_exc(), flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
