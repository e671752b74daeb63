#!/usr/bin/env bash
# The closed loop on a real GPU host: the bundled `triage` CLI runs `triage run crash` and `triage run hang`
# against production servers that are down, with a saved crash dump holding the trigger. Each pipeline
# starts the clean target itself from servers.yaml (closed_loop_target.py, managed: true), replays the
# trigger, collects what the replay shows with the real cuda-gdb and nvidia-smi, stops the target and
# routes. Needs .device-carry/node.xz and .device-carry/triage.mjs (npm run build && npm run bundle).
# Writes the incident folders (without the multi-MB cores) to $OUT/closed-loop.tgz, and prints what is left running.
set -u
cd "$(dirname "$0")"
LAB=$(pwd)
export PATH="/usr/local/cuda/bin:$PATH"
CARRY=$LAB/../../.device-carry
xz -dc "$CARRY/node.xz" > /tmp/node && chmod +x /tmp/node
TRIAGE="/tmp/node $CARRY/triage.mjs"
/tmp/node --version; nvidia-smi -L
W=/tmp/closed-loop; rm -rf "$W"; mkdir -p "$W/prod-crash" "$W/inc"
# The trigger, as production's crash dump saved it: two finished warm-up requests and the unfinished 769-token prefill.
python3 - "$W/prod-crash/$(hostname)/crash_dump_2026-12-01_00-00-00.pkl" <<'PY'
import json, subprocess, sys, time
now = time.time()
spec = {"out": sys.argv[1], "kind": "crash", "tp": 1, "requests": [
  {"rid": "warm-1", "text": "hi there", "output": "hello!", "created": now - 60, "finished": now - 59.6},
  {"rid": "warm-2", "text": "short one", "output": "ok", "created": now - 59.8, "finished": now - 59.5},
  {"rid": "trigger-769", "text": " ".join(["hello"] * 768), "output": None, "created": now - 59.6, "finished": now - 58}]}
subprocess.run([sys.executable, "../../test/helpers/emulator/write_dump.py"], input=json.dumps(spec).encode(), check=True)
PY
cat > "$W/servers.yaml" <<YAML
servers:
  prod-crash:
    url: http://127.0.0.1:9
    host: gpu-1
    crashDumpDir: $W/prod-crash
    replay:
      url: http://127.0.0.1:31000
      launch: exec python3 $LAB/closed_loop_target.py --port 31000 --mode crash
      managed: true
      readyTimeoutS: 180
      stopGraceS: 5
  prod-hang:
    url: http://127.0.0.1:9
    host: gpu-1
    crashDumpDir: $W/prod-crash
    replay:
      url: http://127.0.0.1:31001
      launch: exec python3 $LAB/closed_loop_target.py --port 31001 --mode hang
      managed: true
      readyTimeoutS: 180
      stopGraceS: 5
YAML
summary() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); r=d['report']; f=r['facts']; print('ROUTE', r['problemClass'], r['nextStep']['skill'], 'reproduced=%s' % f.get('reproduced'), 'kernel=%s' % (f.get('faultingKernel') or f.get('stuckKernel')), 'exception=%s' % f.get('cudaException'))" "$1"; }
# The GPU runs in exclusive-process mode here: wait until the previous target's context is gone.
gpu_idle() { for i in $(seq 1 60); do [ -z "$(nvidia-smi --query-compute-apps=pid --format=csv,noheader)" ] && return 0; sleep 1; done; echo "GPU still busy"; }
for p in crash hang; do
  gpu_idle
  echo "== triage run $p prod-$p"
  start=$SECONDS
  SGLANG_HEALTH_CHECK_TIMEOUT=5 $TRIAGE run $p prod-$p --servers "$W/servers.yaml" --out "$W/inc/$p" --timeout 20 --json > "$W/inc/$p.json" 2> "$W/inc/$p.stderr"
  echo "exit=$? in $((SECONDS - start)) s"
  cat "$W/inc/$p.stderr" | grep -v '^  …' | tail -30
  summary "$W/inc/$p.json"
  echo "left running (closed_loop_target):"; pgrep -af closed_loop_target || echo "  none"
  (cd "$W/inc/$p" && find . -type f -printf '%8s %p\n' | sort -k2)
done
nvidia-smi --query-compute-apps=pid,used_memory --format=csv
nvidia-smi --query-gpu=compute_mode --format=csv
# The incident folders as written, less the coredump files themselves (their cuda-gdb transcripts stay).
tar czf "$OUT/closed-loop.tgz" -C "$W" --exclude='*/coredumps/target/*' --exclude='*/crash-dumps/*/core.cuda.*' --exclude='*/coredumps/core.cuda.*' inc servers.yaml
ls -la "$OUT"
