#!/usr/bin/env bash
# Record planted GPU faults and a torch.profiler trace on one GPU into $OUT.
# Every step has its own timeout; each output lands in $STAGE and $OUT/gpu-faults.tgz is rebuilt after
# every step, so a step that fails or a run cut short keeps what was recorded before it.
# manifest.txt lists each command exactly as run, its exit status and its output file.
set -u
cd "$(dirname "$0")"
. ./lib.sh

echo "# recorded $(date -u +%FT%TZ) by lab/gpu-faults/run.sh" > "$M"
# --- 0. what is there
rec versions.txt 60 bash -c "uname -a; cat /etc/os-release | head -2; nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; \
  echo nvcc=$NVCC; $NVCC --version; echo cuda-gdb=$CGDB; $CGDB --version | head -3; echo compute-sanitizer=$CSAN; $CSAN --version; \
  python3 -c 'import sys,torch,cupy,triton; print(sys.version); print(\"torch\",torch.__version__,torch.version.cuda,torch.cuda.get_device_name(0)); print(\"cupy\",cupy.__version__); print(\"triton\",triton.__version__)'; \
  echo py-spy=\$(command -v py-spy || echo absent)"
rec nvidia-smi.txt 30 nvidia-smi
# --- profiler trace first: the trace reader needs it
rec profile.stdout.txt 150 python3 "$HERE/profile_repro.py" "$STAGE/tiny-decoder.trace.json"
[ -f "$STAGE/tiny-decoder.trace.json" ] && gzip -9 -k "$STAGE/tiny-decoder.trace.json" && ls -la "$STAGE"/*.trace.json* >> "$M"
pack
# --- build the fault binary
rec build.txt 120 "$NVCC" -O2 -lineinfo -arch=sm_90 -o "$BIN/faults" "$HERE/faults.cu"
if [ -x "$BIN/faults" ]; then
  for mode in trap misaligned oob; do
    rec "$mode.stderr.txt" 90 env $(core_env "$mode") "$BIN/faults" "$mode"
    gdb_core "$mode"
  done
  rec oob.memcheck.txt 120 "$CSAN" --tool memcheck "$BIN/faults" oob
  rec race.racecheck.txt 120 "$CSAN" --tool racecheck "$BIN/faults" race
  rec uninit.initcheck.txt 120 "$CSAN" --tool initcheck "$BIN/faults" uninit
  rec barrier.synccheck.txt 120 "$CSAN" --tool synccheck "$BIN/faults" barrier
  # keep the trap core (smallest program, its own kernel) for content-based coredump discovery
  tc=$(ls -t "$CORES"/trap.core.* 2>/dev/null | head -1)
  [ -n "$tc" ] && (cd "$CORES" && tar cJf "$STAGE/trap.cuda-coredump.tar.xz" "$(basename "$tc")") && ls -la "$STAGE/trap.cuda-coredump.tar.xz" >> "$M"
  pack
fi
# --- OOM in a PyTorch forward
rec oom.stderr.txt 120 python3 "$HERE/oom_repro.py"
# --- single-GPU hang: live kernel, host in cudaDeviceSynchronize
HANG=hang
hang_start TORCH_CUDA_NOTHING=0
if [ -n "$HP" ]; then
  rec hang.smi-query.csv 30 bash -c "nvidia-smi --query-gpu=index,utilization.gpu,memory.used --format=csv; nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv"
  rec hang.nvidia-smi.txt 30 nvidia-smi
  kill -USR1 "$HP"; sleep 2; cp "$ART/hang.pystack.$HP.txt" "$STAGE/hang.pystack.txt" 2>/dev/null
  echo "\$ kill -USR1 $HP  (faulthandler.register(SIGUSR1, all_threads=True)) -> hang.pystack.txt" >> "$M"
  command -v py-spy >/dev/null && rec hang.py-spy.txt 30 py-spy dump --native --pid "$HP"
  rec hang.wchan.txt 10 bash -c "cat /proc/$HP/wchan; echo; grep -E 'State|Threads' /proc/$HP/status"
  rec hang.cuda-gdb-attach.txt 150 "$CGDB" -p "$HP" -batch -ex "set pagination off" -ex "info cuda kernels" -ex "thread apply all bt 30"
  rec hang.smi-after-attach.csv 30 nvidia-smi --query-gpu=index,utilization.gpu,memory.used --format=csv
  echo "alive after attach: $([ -d /proc/$HP ] && echo yes || echo no)" >> "$M"
fi
hang_stop
# --- the same hang, CUDA user-triggered coredump through the pipe (before any debugger attaches)
HANG=hang-usercore
hang_start CUDA_ENABLE_USER_TRIGGERED_COREDUMP=1 CUDA_COREDUMP_PIPE="$CORES/corepipe.cuda.%h.%p" \
  CUDA_COREDUMP_FILE="$CORES/hang.core.%h.%p.%t" CUDA_COREDUMP_GENERATION_FLAGS="$FLAGS" CUDA_COREDUMP_SHOW_PROGRESS=1
if [ -n "$HP" ]; then
  ls -la "$CORES" >> "$M"
  pipe=$(ls "$CORES"/corepipe.cuda.*."$HP" 2>/dev/null | head -1)
  echo "\$ echo 1 > $pipe" >> "$M"
  [ -n "$pipe" ] && timeout 15 sh -c "echo 1 > '$pipe'"; echo "  pipe write rc=$?" >> "$M"
  for i in $(seq 1 60); do  # wait for the core file to exist and stop growing
    c=$(ls "$CORES"/hang.core.* 2>/dev/null | head -1)
    if [ -n "$c" ]; then s1=$(stat -c %s "$c"); sleep 2; [ "$s1" = "$(stat -c %s "$c")" ] && break; fi
    sleep 1
  done
  echo "alive after user coredump: $([ -d /proc/$HP ] && echo yes || echo no)" >> "$M"
  gdb_core hang
fi
hang_stop
ls -la "$STAGE" >> "$M"
pack
echo done
