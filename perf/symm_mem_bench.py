#!/usr/bin/env python3
"""PyTorch SymmetricMemory one-shot and two-shot AllReduce (peer-to-peer, no multicast),
timed as device time per op under CUDA graphs, for the side-by-side table of perf/results.

Run: torchrun --nproc-per-node 2 perf/symm_mem_bench.py [--sizes 8,1M,4M,16M] [--json out]
Tutti and NCCL are timed by the *_perf binaries with -G (graphs) in the same device call.
"""
import argparse
import json
import os

import torch
import torch.distributed as dist
import torch.distributed._symmetric_memory as symm_mem


def parse_size(text):
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    t = text.strip().lower().rstrip("b")
    return int(t[:-1]) * mult[t[-1]] if t[-1] in mult else int(t)


def graph_time_us(fn, ops_per_graph=20, replays=10):
    """Device time per op: one CUDA graph of `ops_per_graph` calls, replayed, timed by events."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for _ in range(ops_per_graph):
            fn()
    g.replay()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(replays):
        start.record()
        g.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1000.0 / ops_per_graph)
    times.sort()
    return times[len(times) // 2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="8,1M,4M,16M")
    p.add_argument("--json", default="")
    args = p.parse_args()
    os.environ.setdefault("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    torch.cuda.set_device(local)
    dist.init_process_group("nccl", device_id=torch.device("cuda", local))
    rank, world = dist.get_rank(), dist.get_world_size()
    group = dist.group.WORLD.group_name
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    elems = max(sizes) // 4 + 64
    buf = symm_mem.empty(elems, device="cuda", dtype=torch.float32)
    symm_mem.rendezvous(buf, group)
    gen = torch.Generator(device="cuda").manual_seed(1234 + rank)
    rows = []
    for size in sizes:
        n = max(1, size // 4)
        t = buf[:n]
        # Correctness once against torch's own all_reduce before timing.
        t.copy_(torch.rand(n, device="cuda", generator=gen) - 0.5)
        ref = t.clone()
        dist.all_reduce(ref)
        one = torch.ops.symm_mem.one_shot_all_reduce(t, "sum", group)
        ok_one = torch.allclose(one, ref, rtol=1e-5, atol=1e-5)
        row = {"bytes": size, "one_shot_us": graph_time_us(
            lambda: torch.ops.symm_mem.one_shot_all_reduce(t, "sum", group)), "one_shot_ok": ok_one}
        try:
            t.copy_(torch.rand(n, device="cuda", generator=gen) * 1e-3)
            row["two_shot_us"] = graph_time_us(
                lambda: torch.ops.symm_mem.two_shot_all_reduce_(t, "sum", group))
        except Exception as e:  # two-shot needs sizes divisible by the rank count
            row["two_shot_us"] = None
            row["two_shot_error"] = str(e).splitlines()[0][:120]
        rows.append(row)
    if rank == 0:
        print(f"# PyTorch {torch.__version__} SymmetricMemory AllReduce, float32, {world} ranks, "
              "device time per op under CUDA graphs (median of 10 replays of 20 ops)")
        print("| size (B) | one_shot (us) | two_shot (us) | one_shot correct |")
        print("| ---: | ---: | ---: | --- |")
        for r in rows:
            two = f"{r['two_shot_us']:.2f}" if r["two_shot_us"] is not None else "n/a"
            print(f"| {r['bytes']} | {r['one_shot_us']:.2f} | {two} | {r['one_shot_ok']} |")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"torch": torch.__version__, "world": world, "rows": rows}, f, indent=1)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
