"""Unseen-incident check: a device-side assert from an out-of-range embedding index.

A sampler produces a token id past the vocabulary for one request; the next embedding lookup
(torch index_select) trips its device-side bounds assertion.
"""
import sys

import torch


def main():
    vocab = 32000
    emb = torch.nn.Embedding(vocab, 256).cuda()
    for n in [9, 64, 2049]:
        print(f"[2026-11-28 02:11:00 TP0] Decode batch, #running-req: {n}, #token: {n * 40}, token usage: 0.31, cuda graph: True, gen throughput (token/s): 1520.44, #queue-req: 0", flush=True)
        ids = torch.randint(0, vocab, (n,), device="cuda")
        if n == 2049:
            ids[7] = vocab + 17  # the sampler's bad token id
        out = emb(ids)
        torch.cuda.synchronize()
        print(f"  ok {float(out.sum()):.3f}", flush=True)
    return 3


if __name__ == "__main__":
    sys.exit(main())
