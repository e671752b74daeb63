"""
Reference side of bench/replay-first.bench.ts: what SGLang's trusted replay script
(.claude/skills/sglang-prod-incident-triage/scripts/replay_trusted_request_dump.py in sgl-project/sglang)
does before its first request, written here from its documented behaviour (not copied):
pickle.load the whole dump, take payload["requests"], sort by record[-2], then a thread pool sends
each record's dataclass (dataclasses.asdict) as JSON to /generate with requests.post.

    python3 bench/replay_reference.py DUMP URL

Prints {"t0": <epoch seconds>} just before loading; the bench notes when the first request arrives.
"""
import dataclasses
import json
import os
import pickle
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "pickles"))
import sglang_shim  # noqa: E402,F401  (the classes the dump names)


def body_of(req):
    body = dict(req) if isinstance(req, dict) else dataclasses.asdict(req)
    for key in ("image_data", "video_data", "audio_data"):
        value = body.get(key)
        if isinstance(value, dict) and "url" in value:
            body[key] = value["url"]
    return body


def send(record, url, started, base):
    wait = (record[-2] - base) - (time.time() - started)
    if wait > 0:
        time.sleep(wait)
    body = body_of(record[0])
    requests.post(url, json=body, timeout=120, stream=bool(body.get("stream")))


def main():
    path, url = sys.argv[1], sys.argv[2]
    print(json.dumps({"t0": time.time()}), flush=True)
    with open(path, "rb") as f:
        payload = pickle.load(f)
    records = payload["requests"] if isinstance(payload, dict) and "requests" in payload else payload
    records.sort(key=lambda r: r[-2])
    base = records[0][-2]
    started = time.time()
    with ThreadPoolExecutor(max_workers=1) as pool:
        for record in records:
            pool.submit(send, record, url, started, base)


if __name__ == "__main__":
    main()
