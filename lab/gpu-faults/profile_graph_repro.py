"""A second torch.profiler trace, shaped unlike the first: CUDA-graph decode steps, a side stream
copying host→device while the main stream computes, and the profiler's own schedule
(wait/warmup/active → ProfilerStep#N ranges), written by tensorboard_trace_handler(use_gzip=True)."""
import sys

import torch
import torch.nn as nn
from torch.profiler import ProfilerActivity, profile, record_function, schedule, tensorboard_trace_handler


class MLPDecoder(nn.Module):
    def __init__(self, d=2048, layers=6):
        super().__init__()
        self.layers = nn.ModuleList(nn.Sequential(nn.Linear(d, 4 * d), nn.SiLU(), nn.Linear(4 * d, d)) for _ in range(layers))
        self.norm = nn.RMSNorm(d)

    def forward(self, x):
        for layer in self.layers:
            x = x + layer(self.norm(x))
        return x


def main(out_dir):
    model = MLPDecoder().cuda().to(torch.bfloat16).eval()
    static_in = torch.randn(32, 2048, device="cuda", dtype=torch.bfloat16)
    side = torch.cuda.Stream()
    host = torch.randn(64, 1 << 20, dtype=torch.bfloat16).pin_memory()
    dev = torch.empty_like(host, device="cuda")
    with torch.no_grad():
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                model(static_in)
        torch.cuda.current_stream().wait_stream(s)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = model(static_in)
        prefill_in = torch.randn(16, 256, 2048, device="cuda", dtype=torch.bfloat16)
        sched = schedule(wait=1, warmup=1, active=3, repeat=1)
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA], schedule=sched,
                     on_trace_ready=tensorboard_trace_handler(out_dir, worker_name="rank0", use_gzip=True)) as prof:
            for step in range(6):
                with record_function("prefill"):
                    model(prefill_in)
                with torch.cuda.stream(side):
                    with record_function("kv_offload_copy"):
                        dev.copy_(host, non_blocking=True)
                with record_function("decode_graph"):
                    for _ in range(8):
                        graph.replay()
                torch.cuda.synchronize()
                prof.step()
    print("static_out", float(static_out.float().abs().mean()), flush=True)
    print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=12), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
