"""
Hostile pickles for the bounds tests (issue 12, points 4 and 9), written by CPython in test set-up.

    python3 test/pickle/hostile_pickles.py OUT_DIR

Most are ordinary `pickle.dump` output whose CPython memo makes them small (one object referenced
from many places); the few that need a shape CPython's pickler never writes (a copy bomb, repeated
BUILDs, a key set 20 000 times) are assembled from opcodes with `pickle`'s own opcode constants.
Writes OUT_DIR/<name>.pkl and OUT_DIR/hostile.json (what each file is).
"""
import dataclasses
import json
import os
import pickle
import struct
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "pickles"))
from sglang_shim import GenerateReqInput, ServerArgs  # noqa: E402

T0 = 1_760_000_000.0
SECRET = "sk-live-abcdefghijklmnop0123456789"


def dump(out, name, payload, protocol=4):
    with open(os.path.join(out, name), "wb") as f:
        pickle.dump(payload, f, protocol=protocol)


def record(req, out_dict=None, i=0):
    return (req, out_dict if out_dict is not None else {"meta_info": {"finish_reason": {"type": "length"}, "completion_tokens": 1}}, T0 + i, T0 + i + 1)


def crash_dump(records, server_args=None):
    return {"server_args": server_args, "requests": records, "launch_command": "python -m sglang.launch_server --model-path m"}


def laughs(levels, width=10):
    """[[[...]*width]*width...]: `levels` deep, width**levels leaves, a few hundred bytes pickled."""
    value = [1]
    for _ in range(levels):
        value = [value] * width
    return value


def binunicode(text):
    data = text.encode("utf-8")
    return pickle.BINUNICODE + struct.pack("<I", len(data)) + data


def long_binget(i):
    return pickle.LONG_BINGET + struct.pack("<I", i)


def main(out):
    os.makedirs(out, exist_ok=True)
    about = {}

    # 1. A 64 KiB prompt memo'd once and used by 100 000 records (CPython memoizes the one str).
    prompt = "p" * 65536
    dump(out, "memo_prompt_100k.pkl", crash_dump([record({"text": prompt, "rid": i}, i=i) for i in range(100_000)]))
    about["memo_prompt_100k.pkl"] = "100k records sharing one 64 KiB prompt"

    # 2. builtins.list applied 10 000 times to one memo'd 1M-item list (a copy bomb of about 1 MB).
    body = bytearray(pickle.PROTO + b"\x04" + pickle.EMPTY_LIST + pickle.MEMOIZE)
    for _ in range(1000):
        body += pickle.MARK + pickle.NONE * 1000 + pickle.APPENDS
    body += pickle.POP + pickle.EMPTY_LIST
    for _ in range(10_000):
        body += pickle.GLOBAL + b"builtins\nlist\n" + long_binget(0) + pickle.TUPLE1 + pickle.REDUCE + pickle.APPEND
    body += pickle.STOP
    with open(os.path.join(out, "list_copy_bomb.pkl"), "wb") as f:
        f.write(body)
    about["list_copy_bomb.pkl"] = "builtins.list of a memo'd 1M-item list, 10k times"

    # 3. One 64 KiB text used as a dict key 20 000 times.
    body = bytearray(pickle.PROTO + b"\x04" + binunicode("k" * 65536) + pickle.MEMOIZE + pickle.POP + pickle.EMPTY_DICT)
    for _ in range(20_000):
        body += long_binget(0) + pickle.NONE + pickle.SETITEM
    body += pickle.STOP
    with open(os.path.join(out, "text_key_20k.pkl"), "wb") as f:
        f.write(body)
    about["text_key_20k.pkl"] = "a 64 KiB str as a dict key 20k times"

    # 4. Billion laughs in a request's sampling_params (a memo bomb for the replay bodies).
    dump(out, "laughs_sampling_params.pkl", crash_dump([record(GenerateReqInput(text="hi", rid="r0", sampling_params={"stop": laughs(9)}))]))
    about["laughs_sampling_params.pkl"] = "sampling_params of 10**9 leaves"

    # 5. A few hundred bytes whose server_args would print as ~480 MB of JSON.
    dump(out, "laughs_server_args.pkl", crash_dump([record({"text": "hi", "rid": "a"})], server_args={"model_path": "m", "x": laughs(8)}))
    about["laughs_server_args.pkl"] = "server_args of 10**8 leaves"

    # 6. One million records (one memo'd record referenced a million times).
    rec = record({"text": "hello", "rid": "same"})
    dump(out, "million_records.pkl", crash_dump([rec] * 1_000_000))
    about["million_records.pkl"] = "1M records"

    # 7. A rid of 8 MiB (the mechanism that bounds a 512 MiB one).
    dump(out, "huge_rid.pkl", crash_dump([record({"text": "hello", "rid": "r" * (8 * 1024 * 1024)})]))
    about["huge_rid.pkl"] = "an 8 MiB rid"

    # 8a. 100 000 BUILDs merging one key each into an object whose state has 100 000 fields.
    big_state = {f"f{i}": i for i in range(100_000)}
    body = bytearray(pickle.dumps(big_state, protocol=4)[:-1])  # the dict, without STOP
    body = bytearray(pickle.PROTO + b"\x04" + pickle.GLOBAL + b"m\nC\n" + pickle.EMPTY_TUPLE + pickle.NEWOBJ) + body[2:] + pickle.BUILD
    for i in range(100_000):
        body += pickle.EMPTY_DICT + pickle.SHORT_BINUNICODE + bytes([1]) + b"z" + pickle.BININT1 + bytes([i & 0xFF]) + pickle.SETITEM + pickle.BUILD
    body += pickle.STOP
    with open(os.path.join(out, "build_merge.pkl"), "wb") as f:
        f.write(body)
    about["build_merge.pkl"] = "100k BUILD merges into one 100k-field object"

    # 8b. 20 000 objects each adopting one memo'd 100 000-field state and merging one more field.
    body = bytearray(pickle.dumps(big_state, protocol=4)[2:-1])
    body = bytearray(pickle.PROTO + b"\x04") + body + pickle.MEMOIZE + pickle.POP + pickle.EMPTY_LIST
    memo_index = 0
    for i in range(20_000):
        body += pickle.GLOBAL + b"m\nC\n" + pickle.EMPTY_TUPLE + pickle.NEWOBJ
        body += long_binget(memo_index) + pickle.BUILD
        body += pickle.EMPTY_DICT + pickle.SHORT_BINUNICODE + bytes([1]) + b"z" + pickle.NONE + pickle.SETITEM + pickle.BUILD + pickle.APPEND
    body += pickle.STOP
    with open(os.path.join(out, "build_copy_bomb.pkl"), "wb") as f:
        f.write(body)
    about["build_copy_bomb.pkl"] = "20k objects each copying a memo'd 100k-field state"

    # 9. Big integers in request bodies: 60 records with a distinct 32 KiB int each.
    dump(out, "bigints.pkl", crash_dump([record(GenerateReqInput(text="hi", rid=f"b{i}", sampling_params={"seed": (1 << (8 * 32768 - 1)) + i}), i=i) for i in range(60)]))
    about["bigints.pkl"] = "60 requests with a 32 KiB int in sampling_params"

    # 10. Malformed records among good ones.
    nested300 = 0
    for _ in range(300):
        nested300 = [nested300]
    good = [record(GenerateReqInput(text=f"ok {i}", rid=f"g{i}", sampling_params={"max_new_tokens": 2}), i=i) for i in range(3)]
    dump(out, "malformed_records.pkl", crash_dump([good[0], 42, (None, {}, T0 + 5, T0 + 6), ("just a str", {}, T0 + 7, T0 + 8), good[1], (GenerateReqInput(text="deep", rid="deep", sampling_params={"x": nested300}), {}, T0 + 9, T0 + 9), good[2]]))
    about["malformed_records.pkl"] = "3 good records among 4 malformed ones (not a tuple, no request, a str request, a body 300 levels deep)"

    # 11. __proto__ as a field name, in server_args and in a request.
    args = ServerArgs(tp_size=2)
    setattr(args, "__proto__", {"polluted": True})
    req = GenerateReqInput(text="proto", rid="p0")
    setattr(req, "__proto__", {"polluted": True})
    dump(out, "proto_fields.pkl", crash_dump([record(req)], server_args=args))
    about["proto_fields.pkl"] = "__proto__ fields"

    # 12. server_args nested 3000 levels deep.
    deep = "leaf"
    for _ in range(3000):
        deep = [deep]
    sys.setrecursionlimit(20_000)
    dump(out, "deep_server_args.pkl", crash_dump([record({"text": "hi", "rid": "d"})], server_args={"model_path": "m", "tp_size": 4, "nested": deep}))
    about["deep_server_args.pkl"] = "server_args 3000 levels deep"

    # 13. A secret in an abort message, in a rid and in server_args.
    aborted = {"meta_info": {"finish_reason": {"type": "abort", "message": f"upstream said: api_key={SECRET} rejected"}, "completion_tokens": 0}}
    dump(out, "secret_abort.pkl", crash_dump([record(GenerateReqInput(text="hello", rid="s0"), aborted)], server_args=ServerArgs(api_key=SECRET)))
    about["secret_abort.pkl"] = "api_key=sk-... in an abort message"

    with open(os.path.join(out, "hostile.json"), "w") as f:
        json.dump({"files": about, "secret": SECRET}, f)


if __name__ == "__main__":
    main(sys.argv[1])
