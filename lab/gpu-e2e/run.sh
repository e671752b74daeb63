#!/usr/bin/env bash
# Make real GPU incidents the router has never seen, laid out like incident folders with arbitrary
# file names, into $OUT/<scenario>/. Needs cuda-gdb, compute-sanitizer, torch, cupy; 2 GPUs for the hang.
set -u
cd "$(dirname "$0")"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
CGDB=$(command -v cuda-gdb || ls /usr/local/cuda*/bin/cuda-gdb 2>/dev/null | head -1)
FLAGS='skip_nonrelocated_elf_images,skip_global_memory,skip_shared_memory,skip_local_memory,skip_constbank_memory'
CORES=/tmp/e2e-cores; rm -rf "$CORES"; mkdir -p "$CORES"
nvidia-smi -L; "$CGDB" --version | head -1

crash_case() {  # name script
  local name=$1 script=$2 dir="$OUT/$1"; mkdir -p "$dir/logs" "$dir/coredumps" "$dir/misc"
  ( export CUDA_ENABLE_COREDUMP_ON_EXCEPTION=1 CUDA_COREDUMP_SHOW_PROGRESS=1 CUDA_COREDUMP_GENERATION_FLAGS="$FLAGS" \
      CUDA_COREDUMP_FILE="$CORES/$name.%p"
    timeout 120 python3 "$script" > "$dir/logs/server.log" 2>&1; echo "exit=$?" >> "$dir/logs/server.log" )
  local core; core=$(ls -t "$CORES"/"$name".* 2>/dev/null | head -1)
  echo "$name core=$core"; tail -3 "$dir/logs/server.log"
  [ -n "$core" ] && timeout 150 "$CGDB" -batch -ex "set pagination off" -ex "target cudacore $core" -ex where \
      -ex "info cuda kernels" -ex 'x/12i $pc' > "$dir/coredumps/transcript-$RANDOM.out" 2>&1
  rm -f "$core"
}

crash_case illegal-address illegal_address_repro.py
timeout 150 compute-sanitizer --tool memcheck python3 illegal_address_repro.py > "$OUT/illegal-address/misc/run-under-tool.log" 2>&1
crash_case device-assert device_assert_repro.py
mkdir -p "$OUT/oom/logs"; timeout 60 python3 oom_repro.py > "$OUT/oom/logs/stderr.txt" 2>&1

GPUS=$(nvidia-smi -L | wc -l)
if [ "$GPUS" -ge 2 ] && [ -z "${SKIP_HANG:-}" ]; then
  dir="$OUT/allreduce-hang"; mkdir -p "$dir/logs" "$dir/stacks" "$dir/gpu"
  export ART=/tmp/e2e-art; rm -rf "$ART"; mkdir -p "$ART"
  ( export NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=COLL TORCH_NCCL_ENABLE_MONITORING=0
    setsid python3 allreduce_hang_repro.py > "$dir/logs/ranks.out" 2>&1 & echo $! > "$ART/parent.pid" )
  for i in $(seq 1 90); do grep -q "#running-req: 33" "$dir/logs/ranks.out" 2>/dev/null && [ -f "$ART/rank1.pid" ] && break; sleep 1; done
  sleep 12
  nvidia-smi --query-gpu=index,utilization.gpu,memory.used --format=csv > "$dir/gpu/smi.csv" 2>&1
  nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv >> "$dir/gpu/smi.csv" 2>&1
  nvidia-smi > "$dir/gpu/smi-plain.txt" 2>&1
  for r in 0 1; do
    P=$(cat "$ART/rank$r.pid"); kill -USR1 "$P"; sleep 1; cp "$ART/stack-r$r.txt" "$dir/stacks/faulthandler-$r.txt"
    command -v py-spy >/dev/null && timeout 30 py-spy dump --native --pid "$P" > "$dir/stacks/pyspy-$r.txt" 2>&1
    timeout 120 "$CGDB" -p "$P" -batch -ex "set pagination off" -ex "info cuda kernels" -ex "thread apply all bt 30" > "$dir/stacks/attach-$r.txt" 2>&1
  done
  kill -TERM -- -"$(cat "$ART/parent.pid")" 2>/dev/null; sleep 2; kill -KILL -- -"$(cat "$ART/parent.pid")" 2>/dev/null
  cat "$dir/gpu/smi.csv"
fi
find "$OUT" -type f | sort
# One archive: the device tool returns a limited number of files.
(cd "$OUT" && tar czf /tmp/incidents.tgz . && find . -mindepth 1 -delete && mv /tmp/incidents.tgz .)
