"""A CUDA OOM inside a real nn.Module forward: attention scores for a long prefill do not fit."""
import torch
import torch.nn as nn


class NaiveSelfAttention(nn.Module):
    def __init__(self, d_model=1024, n_heads=16):
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x):
        b, s, d = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, self.n_heads, d // self.n_heads).unbind(2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-1, -2) / (d // self.n_heads) ** 0.5  # b x h x s x s
        return self.out((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, s, d))


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(32000, 1024)
        self.attn = NaiveSelfAttention()
        self.norm = nn.LayerNorm(1024)

    def forward(self, ids):
        return self.norm(self.attn(self.embed(ids)))


def main():
    model = TinyLM().cuda().to(torch.bfloat16)
    with torch.no_grad():
        for seq in (128, 2048, 131072):
            print(f"[oom] prefill seq_len={seq}", flush=True)
            ids = torch.randint(0, 32000, (1, seq), device="cuda")
            model(ids)
            torch.cuda.synchronize()


if __name__ == "__main__":
    main()
