"""
Helper for bench/pickle.bench.ts.

    python3 bench/pickle_dump.py make OUT.pkl REQUESTS TARGET_MB   write an SGLang-shaped crash dump
    python3 bench/pickle_dump.py load FILE REPEATS                 time CPython's C pickle.load on it

`load` prints one JSON line: the best wall time of pickle.load alone (interpreter start-up and the
class set-up excluded) and the peak RSS growth during the loads.
"""
import json
import os
import pickle
import random
import resource
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "pickles"))
from sglang_shim import GenerateReqInput, ServerArgs  # noqa: E402

WORDS = (
    "the model server request token batch prefill decode cache kernel tensor parallel "
    "attention layer weight output input prompt sequence memory scheduler latency stream "
    "incident replay crash dump trace profile metric throughput queue worker rank device"
).split()
CJK = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可也你"


def corpus(rng, size):
    words = []
    total = 0
    while total < size:
        w = rng.choice(WORDS)
        words.append(w)
        total += len(w) + 1
    return " ".join(words)


def make(out, n_requests, target_mb):
    rng = random.Random(1234)
    base = corpus(rng, 2_000_000)
    cjk = "".join(rng.choice(CJK) for _ in range(200_000))
    per_request = int(target_mb * 1024 * 1024 / n_requests)
    prompt_len = max(1000, per_request - 3000)
    t0 = 1_760_000_000.0
    records = []
    for i in range(n_requests):
        rid = f"{i:08x}{rng.getrandbits(64):016x}"
        start = rng.randrange(0, len(base) - prompt_len)
        if i % 10 == 0:  # some prompts are not ASCII
            prompt = f"[{i}] " + cjk[: prompt_len // 6] + base[start : start + prompt_len // 2]
        else:
            prompt = f"[{i}] " + base[start : start + prompt_len]
        ids_only = i % 20 == 7
        req = GenerateReqInput(
            text=None if ids_only else prompt,
            input_ids=[rng.randrange(0, 150_000) for _ in range(prompt_len // 5)] if ids_only else None,
            sampling_params={"max_new_tokens": 512, "temperature": 0.7, "top_p": 0.95, "stop": ["</s>"]},
            rid=rid,
            stream=i % 3 == 0,
            received_time=t0 + i * 0.05,
        )
        completion = rng.randrange(50, 400)
        unfinished = i >= n_requests - 10
        out_dict = (
            {}
            if unfinished
            else {
                "text": base[start : start + completion * 5],
                "output_ids": [rng.randrange(0, 150_000) for _ in range(completion)],
                "meta_info": {
                    "id": rid,
                    "finish_reason": {"type": "length", "length": completion},
                    "prompt_tokens": prompt_len // 4,
                    "completion_tokens": completion,
                    "cached_tokens": rng.randrange(0, 100),
                    "e2e_latency": rng.random() * 10,
                },
            }
        )
        records.append((req, out_dict, t0 + i * 0.05, t0 + i * 0.05 + rng.random() * 10))
    payload = {
        "server_args": ServerArgs(tp_size=8, dp_size=2, api_key="sk-bench-secret"),
        "requests": records,
        "launch_command": "python -m sglang.launch_server --model-path Qwen/Qwen2.5-72B --tp 8 --dp 2 --api-key sk-bench-secret",
    }
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump(payload, f)  # default protocol, as SGLang writes it
    os.replace(tmp, out)


def load(path, repeats):
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    cpu = []
    for _ in range(repeats):
        t = time.perf_counter()
        c = time.process_time()
        with open(path, "rb") as f:
            obj = pickle.load(f)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        del obj
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": min(times), "first": times[0], "cpuSeconds": min(cpu), "peakRssGrowthBytes": (peak_kb - baseline_kb) * 1024, "pythonVersion": sys.version.split()[0]}))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif sys.argv[1] == "load":
        load(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit(__doc__)
