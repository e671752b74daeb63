"""A torch.profiler trace of a small transformer-like decoder on the GPU, with record_function ranges."""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile, record_function


class Block(nn.Module):
    def __init__(self, d=1024, h=16):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.o = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.up = nn.Linear(d, 4 * d)
        self.down = nn.Linear(4 * d, d)

    def forward(self, x):
        b, s, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, s, 3, self.h, d // self.h).unbind(2)
        a = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True)
        x = x + self.o(a.transpose(1, 2).reshape(b, s, d))
        return x + self.down(F.gelu(self.up(self.ln2(x))))


class TinyDecoder(nn.Module):
    def __init__(self, layers=4, d=1024, vocab=32000):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d) for _ in range(layers))
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, ids):
        x = self.embed(ids)
        for blk in self.blocks:
            x = blk(x)
        return self.head(x[:, -1])


def step(model, ids):
    with record_function("forward"):
        logits = model(ids)
    with record_function("sample"):
        nxt = torch.argmax(torch.softmax(logits.float(), -1), -1)
    return nxt


def main(path):
    model = TinyDecoder().cuda().to(torch.bfloat16).eval()
    ids = torch.randint(0, 32000, (8, 512), device="cuda")
    with torch.no_grad():
        for _ in range(3):
            step(model, ids)
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA], record_shapes=True) as prof:
            for i in range(6):
                with record_function(f"step_{i}"):
                    step(model, ids)
                torch.cuda.synchronize()
                time.sleep(0.004)  # host-side gap: the GPU idles here
    prof.export_chrome_trace(path)
    print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=15), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
