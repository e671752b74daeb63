#!/usr/bin/env python3
"""A clean replay target for the closed-loop GPU run, started by `triage run` from servers.yaml
`replay.launch` (managed: true).

An HTTP front end answers the SGLang endpoints the pipeline reads (/health, /health_generate, /metrics,
/server_info, /model_info, /v1/loads, /generate), and one scheduler thread runs every request on the GPU
with kernels of our own (CuPy RawKernel). One request shape (--trigger-tokens, default 769 prompt tokens)
faults for real:
  --mode crash  `route_tokens_kernel` writes through an out-of-range index: a CUDA exception; the driver
                writes the coredump and aborts the process (as SGLang's scheduler dies on one).
  --mode hang   `spin_until_ready_kernel` waits on a flag nobody sets; the scheduler thread blocks in a
                device synchronize and the process stays alive at 100 % GPU.

Coredump settings follow SGLang's (srt/environ.py + srt/debug_utils/cuda_coredump.py for
SGLANG_CUDA_COREDUMP/SGLANG_CUDA_COREDUMP_DIR; srt/server_args.py `_handle_crash_dump_env` for
--crash-dump-folder), applied before CUDA initialises. Before the faulting launch it writes SGLang's crash
dump (<folder>/<host>/crash_dump_*.pkl, CPython pickle, the shim classes of test/fixtures/pickles) and the
"Dumped N finished and M unfinished requests before crash to PATH" line: a driver abort would give
no later chance.
"""
import argparse
import faulthandler
import json
import os
import pickle
import queue
import signal
import socket
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FLAGS = "skip_nonrelocated_elf_images,skip_global_memory,skip_shared_memory,skip_local_memory,skip_constbank_memory"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "fixtures", "pickles"))
sys.dont_write_bytecode = True

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, default=31000)
p.add_argument("--mode", choices=["crash", "hang"], required=True)
p.add_argument("--trigger-tokens", type=int, default=769)
p.add_argument("--crash-dump-folder")
p.add_argument("--model-path", default="lab/closed-loop-target")
args = p.parse_args()
HOST = socket.gethostname()


def log(msg):
    print(f"[{datetime.now().strftime('%Y-%m-%d %H:%M:%S')} TP0] {msg}", flush=True)


# SGLang's coredump environment, set before CUDA starts (setdefault: an explicit setting wins, as in SGLang).
if os.environ.get("SGLANG_CUDA_COREDUMP") == "1":
    d = os.environ.get("SGLANG_CUDA_COREDUMP_DIR") or "/tmp/sglang_cuda_coredumps"
    os.makedirs(d, exist_ok=True)
    for k, v in {"CUDA_ENABLE_COREDUMP_ON_EXCEPTION": "1", "CUDA_COREDUMP_SHOW_PROGRESS": "1", "CUDA_COREDUMP_GENERATION_FLAGS": FLAGS, "CUDA_COREDUMP_FILE": f"{d}/cuda_coredump_%h.%p.%t"}.items():
        os.environ.setdefault(k, v)
if args.crash_dump_folder:
    for k, v in {"CUDA_ENABLE_COREDUMP_ON_EXCEPTION": "1", "CUDA_ENABLE_USER_TRIGGERED_COREDUMP": "1", "CUDA_COREDUMP_SHOW_PROGRESS": "1", "CUDA_COREDUMP_GENERATION_FLAGS": FLAGS,
                 "CUDA_COREDUMP_FILE": f"{args.crash_dump_folder}/%h/core.cuda.%t.%p", "CUDA_COREDUMP_PIPE": "/tmp/corepipe.cuda.%h.%p"}.items():
        if k not in os.environ:
            os.environ[k] = v
            log(f"Auto-set {k}={v} (from --crash-dump-folder)")
    os.makedirs(os.path.join(args.crash_dump_folder, HOST), exist_ok=True)

faulthandler.register(signal.SIGUSR1, all_threads=True)

import cupy as cp  # noqa: E402  (after the environment above)

SRC = r"""
extern "C" __global__ void route_tokens_kernel(const int* token_ids, const int* expert_of, float* out, long long n, long long bias) {
  long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (i >= n) return;
  long long slot = (long long)expert_of[token_ids[i] % 64] + bias;   // bias is 0 except for the trigger shape
  out[slot * 128 + (i % 128)] += 1.0f;
}
extern "C" __global__ void spin_until_ready_kernel(volatile int* ready, float* out) {
  while (*ready == 0) { out[threadIdx.x] += 1.0f; }
}
"""
mod = cp.RawModule(code=SRC)
route = mod.get_function("route_tokens_kernel")
spin = mod.get_function("spin_until_ready_kernel")
expert_of = cp.arange(64, dtype=cp.int32)
scratch = cp.zeros(64 * 128, dtype=cp.float32)

jobs = queue.Queue()
seen = []  # (rid, text, max_new_tokens, created, finished | None, output | None)


def write_crash_dump(trigger):
    if not args.crash_dump_folder:
        return
    from sglang_shim import GenerateReqInput, ServerArgs  # CPython pickle of SGLang's class paths

    records = []
    for rid, text, mnt, created, finished, output in seen + [trigger]:
        out = {} if output is None else {"text": output, "meta_info": {"id": rid, "finish_reason": {"type": "length", "length": mnt}, "prompt_tokens": len(text.split()) + 1, "completion_tokens": mnt}}
        records.append((GenerateReqInput(text=text, sampling_params={"max_new_tokens": mnt}, rid=rid), out, created, finished or time.time()))
    path = os.path.join(args.crash_dump_folder, HOST, f"crash_dump_{datetime.now().strftime('%Y-%m-%d_%H-%M-%S')}.pkl")
    log(f"Dumping requests before crash. self.crash_dump_folder={args.crash_dump_folder!r}")
    with open(path, "wb") as f:
        pickle.dump({"server_args": ServerArgs(model_path=args.model_path, tp_size=1), "requests": records, "launch_command": " ".join(sys.argv)}, f)
    log(f"Dumped {len(seen)} finished and 1 unfinished requests before crash to {path}")


def scheduler():
    while True:
        body, done = jobs.get()
        text = body.get("text") or ""
        tokens = len(text.split()) + 1
        mnt = int((body.get("sampling_params") or {}).get("max_new_tokens") or 8)
        rid = body.get("rid") or f"r{len(seen)}"
        created = time.time()
        log(f"Prefill batch, #new-seq: 1, #new-token: {tokens}, #cached-token: 0, #running-req: 0, #queue-req: {jobs.qsize()}")
        ids = cp.arange(tokens, dtype=cp.int32)
        if tokens >= args.trigger_tokens and args.mode == "crash":
            write_crash_dump((rid, text, mnt, created, None, None))
            route((max(1, (tokens + 127) // 128),), (128,), (ids, expert_of, scratch, cp.int64(tokens), cp.int64(1 << 40)))
            cp.cuda.Device().synchronize()  # the CUDA exception: the driver writes the coredump and aborts
        elif tokens >= args.trigger_tokens and args.mode == "hang":
            ready = cp.zeros(1, dtype=cp.int32)
            log("Decode batch stuck: spin_until_ready_kernel launched")
            spin((1,), (32,), (ready, scratch))
            cp.cuda.Device().synchronize()  # never returns
        route((max(1, (tokens + 127) // 128),), (128,), (ids, expert_of, scratch, cp.int64(tokens), cp.int64(0)))
        cp.cuda.Device().synchronize()
        output = "tok " * mnt
        if not body.get("_probe"):
            seen.append((rid, text, mnt, created, time.time(), output))
        done.put({"text": output, "meta_info": {"id": rid, "prompt_tokens": tokens, "completion_tokens": mnt, "finish_reason": {"type": "length", "length": mnt}, "e2e_latency": time.time() - created}})


threading.Thread(target=scheduler, name="scheduler", daemon=True).start()
PROBE_S = float(os.environ.get("SGLANG_HEALTH_CHECK_TIMEOUT", "20"))


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else (json.dumps(body) if ctype == "application/json" else body).encode()
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path in ("/health", "/health_generate"):
            # SGLang's probe: one token through the scheduler within SGLANG_HEALTH_CHECK_TIMEOUT, else 503.
            done = queue.Queue()
            jobs.put(({"text": "ping", "sampling_params": {"max_new_tokens": 1}, "_probe": True}, done))
            try:
                done.get(timeout=PROBE_S)
                return self.send(200, b"", "text/plain")
            except queue.Empty:
                return self.send(503, b"", "text/plain")
        if path == "/metrics":
            return self.send(200, f"sglang:num_running_reqs{{model_name=\"{args.model_path}\"}} {0 if jobs.empty() else 1}\nsglang:num_queue_reqs{{model_name=\"{args.model_path}\"}} {jobs.qsize()}\n", "text/plain")
        if path in ("/server_info", "/get_server_info"):
            return self.send(200, {"model_path": args.model_path, "tp_size": 1, "dp_size": 1, "pp_size": 1, "ep_size": 1, "crash_dump_folder": args.crash_dump_folder, "version": "closed-loop-target"})
        if path in ("/model_info", "/get_model_info"):
            return self.send(200, {"model_path": args.model_path, "is_generation": True, "weight_version": "default"})
        if path == "/v1/loads":
            return self.send(200, {"timestamp": datetime.now().isoformat(), "loads": [{"dp_rank": 0, "num_running_reqs": 0, "num_waiting_reqs": jobs.qsize(), "token_usage": 0.0}]})
        return self.send(404, {"detail": "Not Found"})

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path.split("?")[0] != "/generate":
            return self.send(404, {"detail": "Not Found"})
        done = queue.Queue()
        jobs.put((body, done))
        return self.send(200, done.get())


log(f"closed-loop target ({args.mode}) on 127.0.0.1:{args.port}, trigger >= {args.trigger_tokens} prompt tokens")
ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
