"""Writes an SGLang crash or request dump with CPython's own pickle, from a JSON spec on stdin:

    {"out": PATH, "kind": "crash"|"request", "model": "...", "tp": 2, "launch": "...",
     "requests": [{"rid": "...", "text": "...", "max_new_tokens": 8, "temperature": 0,
                   "output": "..." | null, "created": EPOCH_S, "finished": EPOCH_S}]}

A request with "output": null is unfinished (the crash dump's trigger candidates). The record shape is
SGLang's: (GenerateReqInput, out_dict, created_time, finished_time) under {"server_args", "requests",
"launch_command"} (srt/managers/tokenizer_manager.py dump_requests_before_crash / dump_requests).
"""
import json
import os
import pickle
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "pickles"))
from sglang_shim import GenerateReqInput, ServerArgs  # noqa: E402


def record(r):
    sampling = {"max_new_tokens": r.get("max_new_tokens", 8)}
    if "temperature" in r:
        sampling["temperature"] = r["temperature"]
    req = GenerateReqInput(text=r["text"], sampling_params=sampling, rid=r["rid"])
    out = {}
    if r.get("output") is not None:
        words = len(r["text"].split()) + 1
        out = {"text": r["output"], "output_ids": list(range(len(r["output"].split()))), "meta_info": {"id": r["rid"], "finish_reason": {"type": "length", "length": 8}, "prompt_tokens": words, "completion_tokens": len(r["output"].split()), "e2e_latency": r["finished"] - r["created"]}}
    return (req, out, r["created"], r["finished"])


def main():
    spec = json.load(sys.stdin)
    payload = {"server_args": ServerArgs(model_path=spec.get("model", "Qwen/Qwen3-8B"), tp_size=spec.get("tp", 1)), "requests": [record(r) for r in spec["requests"]]}
    if spec.get("kind", "crash") == "crash":
        payload["launch_command"] = spec.get("launch", "python -m sglang.launch_server --model-path Qwen/Qwen3-8B")
    os.makedirs(os.path.dirname(spec["out"]) or ".", exist_ok=True)
    with open(spec["out"] + ".tmp", "wb") as f:
        pickle.dump(payload, f, protocol=4)
    os.replace(spec["out"] + ".tmp", spec["out"])


if __name__ == "__main__":
    main()
