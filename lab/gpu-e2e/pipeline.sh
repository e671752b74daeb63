#!/usr/bin/env bash
# End-to-end on a real GPU host: the bundled `triage` CLI runs the crash and hang pipelines with the
# real cuda-gdb and nvidia-smi against real faults. Needs .device-carry/node.xz (an xz-compressed node
# binary) and .device-carry/triage.mjs (`npm run bundle`, then copy dist/triage.mjs).
# Writes the incident folders to $OUT/incidents.tgz.
set -u
cd "$(dirname "$0")"
export PATH="/usr/local/cuda/bin:$PATH" NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
CARRY=../../.device-carry
xz -dc "$CARRY/node.xz" > /tmp/node && chmod +x /tmp/node
TRIAGE="/tmp/node $CARRY/triage.mjs"
/tmp/node --version
W=/tmp/e2e; rm -rf "$W"; mkdir -p "$W/cores" "$W/srv" "$W/inc"
FLAGS='skip_nonrelocated_elf_images,skip_global_memory,skip_shared_memory,skip_local_memory,skip_constbank_memory'

echo "== crash: real illegal address, coredump on exception; triage run crash finds and reads it"
( export CUDA_ENABLE_COREDUMP_ON_EXCEPTION=1 CUDA_COREDUMP_SHOW_PROGRESS=1 CUDA_COREDUMP_GENERATION_FLAGS="$FLAGS" \
    CUDA_COREDUMP_FILE="$W/cores/cuda_coredump_%h.%p.%t"
  timeout 120 python3 illegal_address_repro.py > "$W/srv/crash.log" 2>&1 )
cat > "$W/servers.yaml" <<YAML
servers:
  prod-crash:
    url: http://127.0.0.1:9
    host: gpu-1
    logFile: $W/srv/crash.log
    coredumpDir: $W/cores
  prod-hang:
    url: http://127.0.0.1:9
    host: gpu-1
    logFile: $W/srv/hang.log
    coredumpDir: $W/hangcores
    schedulerProcessPattern: multiprocessing-fork
  prod-hang-core:
    url: http://127.0.0.1:9
    host: gpu-1
    logFile: $W/srv/hang.log
    schedulerProcessPattern: multiprocessing-fork
    hangEvidence: coredump
YAML
time $TRIAGE run crash prod-crash --servers "$W/servers.yaml" --out "$W/inc/crash" --timeout 2 --json > "$W/inc/crash.json"; echo "crash run exit=$?"
python3 -c "import json; r=json.load(open('$W/inc/crash.json'))['report']; print(r['problemClass'], r['nextStep']['skill'], r['facts'].get('faultingKernel'), r['facts'].get('cudaException'))"

hang_case() {  # server-name out-name
  echo "== hang ($1): real AllReduce divergence; triage run hang collects live evidence"
  rm -rf "$W/hangcores" "$W/art"; mkdir -p "$W/hangcores"; export ART="$W/art"; mkdir -p "$ART"
  ( export NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=COLL TORCH_NCCL_ENABLE_MONITORING=0 \
      CUDA_ENABLE_USER_TRIGGERED_COREDUMP=1 CUDA_COREDUMP_PIPE="$W/hangcores/corepipe.%p" \
      CUDA_COREDUMP_FILE="$W/hangcores/cuda_coredump_hang.%p" CUDA_COREDUMP_GENERATION_FLAGS="$FLAGS"
    setsid python3 allreduce_hang_repro.py > "$W/srv/hang.log" 2>&1 & echo $! > "$W/hang.pid" )
  for i in $(seq 1 90); do grep -q "#running-req: 33" "$W/srv/hang.log" 2>/dev/null && [ -f "$ART/rank1.pid" ] && break; sleep 1; done
  sleep 8
  time $TRIAGE run hang "$1" --servers "$W/servers.yaml" --out "$W/inc/$2" --timeout 2 --json > "$W/inc/$2.json"; echo "hang run exit=$?"
  python3 -c "import json; r=json.load(open('$W/inc/$2.json'))['report']; f=r['facts']; print(r['problemClass'], r['nextStep']['skill'], f.get('stuckKernel'), f.get('collective'), f.get('divergentRank'))"
  ls -la "$W/hangcores" "$W/inc/$2/stacks" "$W/inc/$2/coredumps" 2>&1 | grep -v '^total' | head -20
  kill -TERM -- -"$(cat "$W/hang.pid")" 2>/dev/null; sleep 2; kill -KILL -- -"$(cat "$W/hang.pid")" 2>/dev/null; sleep 2
}
GPUS=$(nvidia-smi -L | wc -l)
if [ "$GPUS" -ge 2 ]; then
  hang_case prod-hang hang-attach
  hang_case prod-hang-core hang-coredump
fi
(cd "$W/inc" && tar czf "$OUT/incidents.tgz" .)
