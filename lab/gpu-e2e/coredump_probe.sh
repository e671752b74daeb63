#!/usr/bin/env bash
# Does a process survive a CUDA user-triggered coredump? Starts the 2-rank AllReduce hang with the
# user coredump enabled, writes to ONE rank's pipe, and watches both ranks and the core file each second.
set -u
cd "$(dirname "$0")"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
W=/tmp/probe; rm -rf "$W"; mkdir -p "$W/cores"; export ART="$W/art"; mkdir -p "$ART"
FLAGS='skip_nonrelocated_elf_images,skip_global_memory,skip_shared_memory,skip_local_memory,skip_constbank_memory'
( export TORCH_NCCL_ENABLE_MONITORING=0 CUDA_ENABLE_USER_TRIGGERED_COREDUMP=1 CUDA_COREDUMP_PIPE="$W/cores/corepipe.%p" \
    CUDA_COREDUMP_FILE="$W/cores/core.%p" CUDA_COREDUMP_GENERATION_FLAGS="$FLAGS" CUDA_COREDUMP_SHOW_PROGRESS=1
  setsid python3 allreduce_hang_repro.py > "$W/hang.log" 2>&1 & echo $! > "$W/parent.pid" )
for i in $(seq 1 90); do grep -q "#running-req: 33" "$W/hang.log" 2>/dev/null && [ -f "$ART/rank1.pid" ] && break; sleep 1; done
sleep 5
P0=$(cat "$ART/rank0.pid"); P1=$(cat "$ART/rank1.pid"); PP=$(cat "$W/parent.pid")
echo "parent=$PP rank0=$P0 rank1=$P1"; ls -la "$W/cores"
grep -c . /proc/$P1/status >/dev/null && grep SigCgt /proc/$P1/status
echo "t=0 write to rank1 pipe"; timeout 10 sh -c "echo 1 > $W/cores/corepipe.$P1"; echo "write exit=$?"
for t in $(seq 1 40); do
  a0=$([ -d /proc/$P0 ] && echo alive || echo dead); a1=$([ -d /proc/$P1 ] && echo alive || echo dead); ap=$([ -d /proc/$PP ] && echo alive || echo dead)
  echo "t=$t parent=$ap rank0=$a0 rank1=$a1 $(ls -la $W/cores | awk '/core\./{print $NF"="$5}' | tr '\n' ' ')"
  [ "$a1" = dead ] && [ $t -gt 5 ] && break
  sleep 1
done
echo "== rank 0 pipe now"; timeout 10 sh -c "echo 1 > $W/cores/corepipe.$P0"; echo "write exit=$?"; sleep 15
echo "rank0 $([ -d /proc/$P0 ] && echo alive || echo dead)"; ls -la "$W/cores"
echo "== log tail"; tail -15 "$W/hang.log"
kill -KILL -- -"$PP" 2>/dev/null
