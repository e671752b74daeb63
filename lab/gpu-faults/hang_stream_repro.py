"""The single-GPU hang again, but the host waits in a stream synchronize on a non-default stream
(cudaStreamSynchronize), and the spinning kernel is launched from Triton-free torch code via CuPy on that stream."""
import faulthandler
import os
import signal

import cupy as cp
import torch

ART = os.environ.get("ART", "/tmp/gf-art")
SRC = r"""
extern "C" __global__ void poll_remote_prefill_done(volatile unsigned long long* seq, unsigned long long want) {
  while (seq[0] < want) { __nanosleep(100); }
}
"""


def wait_for_prefill(stream):
    stream.synchronize()


def main():
    os.makedirs(ART, exist_ok=True)
    with open(os.path.join(ART, "hang.pid"), "w") as f:
        f.write(str(os.getpid()))
    stack_file = open(os.path.join(ART, f"hang.pystack.{os.getpid()}.txt"), "w")
    faulthandler.register(signal.SIGUSR1, file=stack_file, all_threads=True)
    stream = torch.cuda.Stream()
    seq = cp.zeros(1, dtype=cp.uint64)
    kernel = cp.RawKernel(SRC, "poll_remote_prefill_done")
    with cp.cuda.ExternalStream(stream.cuda_stream):
        x = torch.randn(256, 256, device="cuda")
        print("[hang-stream] waiting for remote prefill seq 1", flush=True)
        kernel((132,), (128,), (seq, cp.uint64(1)))
    print("HANG-READY", flush=True)
    wait_for_prefill(stream)
    print("[hang-stream] done (no hang)", x.sum().item(), flush=True)


if __name__ == "__main__":
    main()
