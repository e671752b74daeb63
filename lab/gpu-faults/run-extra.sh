#!/usr/bin/env bash
# Second recording pass (after run.sh): a trace of another shape (CUDA graphs, a side-stream copy, the
# profiler's schedule, tensorboard_trace_handler gzip), synccheck on a bad __syncwarp mask, and the
# single-GPU hang with the host in a stream synchronize.
set -u
cd "$(dirname "$0")"
. ./lib.sh

echo "# recorded $(date -u +%FT%TZ) by lab/gpu-faults/run-extra.sh" > "$M"
rec versions.txt 60 bash -c "nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; python3 -c 'import torch; print(torch.__version__)'"
mkdir -p "$STAGE/graph-profile"
rec graph-profile.stdout.txt 150 python3 "$HERE/profile_graph_repro.py" "$STAGE/graph-profile"
ls -la "$STAGE/graph-profile" >> "$M"; pack
rec build.txt 120 "$NVCC" -O2 -lineinfo -arch=sm_90 -o "$BIN/faults" "$HERE/faults.cu"
[ -x "$BIN/faults" ] && rec syncwarp.synccheck.txt 60 "$CSAN" --tool synccheck "$BIN/faults" syncwarp
HANG=hang-stream HANG_SCRIPT=hang_stream_repro.py
hang_start TORCH_CUDA_NOTHING=0
if [ -n "$HP" ]; then
  rec hang-stream.smi-query.csv 30 bash -c "nvidia-smi --query-gpu=index,utilization.gpu,memory.used --format=csv; nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv"
  kill -USR1 "$HP"; sleep 2; cp "$ART/hang.pystack.$HP.txt" "$STAGE/hang-stream.pystack.txt" 2>/dev/null
  echo "\$ kill -USR1 $HP  (faulthandler.register(SIGUSR1, all_threads=True)) -> hang-stream.pystack.txt" >> "$M"
  rec hang-stream.cuda-gdb-attach.txt 150 "$CGDB" -p "$HP" -batch -ex "set pagination off" -ex "info cuda kernels" -ex "thread apply all bt 30"
  echo "alive after attach: $([ -d /proc/$HP ] && echo yes || echo no)" >> "$M"
fi
hang_stop
ls -la "$STAGE" "$STAGE/graph-profile" >> "$M"
pack
echo done
