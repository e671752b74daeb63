"""Unseen-incident check: a decode-shaped TP hang on 2 GPUs where RANK 1 skips an all_reduce.

For a decode batch of 33 requests, rank 1 takes a fast path that skips the MLP all_reduce and
waits on its next step; rank 0 enters the NCCL AllReduce and blocks. (The fixture has rank 0
skipping an AllGather in prefill; this is the mirror image with another collective.)
"""
import datetime
import faulthandler
import os
import signal
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

ART = os.environ.get("ART", "/tmp/art")
BATCHES = [4, 16, 33, 8]


def tensor_model_parallel_all_reduce(x, rank, bs):
    if rank == 1 and bs == 33:  # injected divergence
        return x
    dist.all_reduce(x)
    return x


def forward_decode(rank, bs):
    hidden = torch.randn(bs, 4096, device="cuda")
    out = hidden @ torch.ones(4096, 4096, device="cuda")
    return tensor_model_parallel_all_reduce(out, rank, bs)


def run_batch(rank, bs):
    forward_decode(rank, bs)
    ev = torch.cuda.Event()
    ev.record()
    ev.synchronize()


def event_loop_normal(rank):
    for bs in BATCHES:
        print(f"[2026-11-28 02:12:00 TP{rank}] Decode batch, #running-req: {bs}, #token: {bs * 100}, token usage: 0.05, cuda graph: False, gen throughput (token/s): 640.00, #queue-req: 0", flush=True)
        run_batch(rank, bs)
        if rank == 1 and bs == 33:
            while True:
                time.sleep(0.05)  # waits for a next step that never comes


def run(rank, world):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = "29541"
    torch.cuda.set_device(rank)
    stack_file = open(os.path.join(ART, f"stack-r{rank}.txt"), "w")
    faulthandler.register(signal.SIGUSR1, file=stack_file, all_threads=True)
    with open(os.path.join(ART, f"rank{rank}.pid"), "w") as f:
        f.write(str(os.getpid()))
    dist.init_process_group("nccl", rank=rank, world_size=world, timeout=datetime.timedelta(minutes=30), device_id=torch.device("cuda", rank))
    event_loop_normal(rank)


if __name__ == "__main__":
    os.makedirs(ART, exist_ok=True)
    mp.spawn(run, args=(2,), nprocs=2, join=True)
