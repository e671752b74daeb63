"""A single-GPU hang: a kernel waits on a flag that nothing sets, the host waits in cudaDeviceSynchronize.

Writes its pid to $ART/hang.pid, prints HANG-READY once the kernel is in flight, and dumps all
Python threads to $ART/hang.pystack.txt on SIGUSR1 (faulthandler).
"""
import faulthandler
import os
import signal
import threading
import time

import cupy as cp
import torch

ART = os.environ.get("ART", "/tmp/gf-art")
SRC = r"""
extern "C" __global__ void wait_kv_transfer_done(volatile int* ready, float* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  while (ready[0] == 0) { }   // the producer never signals
  if (i < n) out[i] = 1.0f;
}
"""


def heartbeat():
    while True:
        time.sleep(0.5)


class Decoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(1024, 1024, device="cuda")
        self.wait = cp.RawKernel(SRC, "wait_kv_transfer_done")
        self.ready = cp.zeros(1, dtype=cp.int32)
        self.out = cp.zeros(1 << 16, dtype=cp.float32)

    def forward(self, x, step):
        y = self.proj(x)
        if step == 3:  # the transfer for this step never completes
            self.wait((256,), (256,), (self.ready, self.out, cp.int32(self.out.size)))
        return y


def run_batch(model, x, step):
    y = model(x, step)
    torch.cuda.synchronize()
    return y


def event_loop(model):
    x = torch.randn(64, 1024, device="cuda")
    for step in range(1, 6):
        print(f"[hang] decode step {step}, batch 64", flush=True)
        if step == 3:
            print("HANG-READY", flush=True)
        run_batch(model, x, step)
    print("[hang] finished (no hang)", flush=True)


def main():
    os.makedirs(ART, exist_ok=True)
    with open(os.path.join(ART, "hang.pid"), "w") as f:
        f.write(str(os.getpid()))
    stack_file = open(os.path.join(ART, f"hang.pystack.{os.getpid()}.txt"), "w")
    faulthandler.register(signal.SIGUSR1, file=stack_file, all_threads=True)
    threading.Thread(target=heartbeat, name="heartbeat", daemon=True).start()
    event_loop(Decoder())


if __name__ == "__main__":
    main()
