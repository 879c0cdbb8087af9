"""Convergence of PyTorch DDP with Tutti's compressed ncclAllReduce (TUTTI_SHIM_COMPRESS).

The model and data mirror tests/multiproc/compression_convergence_test.cc, made larger so the
gradient buckets pass TUTTI_SHIM_COMPRESS_MIN_BYTES: a two-layer MLP (tanh, softmax
cross-entropy) on synthetic teacher-labelled data, each rank training on its own shard, SGD
with a learning rate decaying linearly to zero. Run by ddp_compare.sh under torchrun with the
shim preloaded, once per codec; rank 0 prints one JSON line with the final training loss.

Usage (normally through ddp_compare.sh):
  torchrun --standalone --nproc-per-node 4 ddp_convergence.py --steps 400 --label int8:32
"""

import argparse
import json
import os
import time

import torch
import torch.distributed as dist
import torch.nn as nn


def make_data(seed, n, dim_in, classes, device):
    g = torch.Generator(device="cpu").manual_seed(seed)
    teacher = torch.randn(classes, dim_in, generator=g)
    x = torch.randn(n, dim_in, generator=g)
    scores = torch.tanh(x) @ teacher.T + 2.0 * torch.randn(n, classes, generator=g)
    return x.to(device), scores.argmax(dim=1).to(device)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--per-rank", type=int, default=8192)
    p.add_argument("--dim-in", type=int, default=256)
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--classes", type=int, default=16)
    p.add_argument("--lr", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=20261202)
    p.add_argument("--bucket-mb", type=float, default=4.0)
    p.add_argument("--label", default=os.environ.get("TUTTI_SHIM_COMPRESS", "none"))
    a = p.parse_args()

    dist.init_process_group("nccl")
    rank, world = dist.get_rank(), dist.get_world_size()
    local = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cuda", local % torch.cuda.device_count())
    torch.cuda.set_device(device)

    x, y = make_data(a.seed, a.per_rank * world, a.dim_in, a.classes, device)
    torch.manual_seed(a.seed + 1)  # the same initial model on every rank
    model = nn.Sequential(nn.Linear(a.dim_in, a.hidden), nn.Tanh(),
                          nn.Linear(a.hidden, a.classes)).to(device)
    ddp = nn.parallel.DistributedDataParallel(model, device_ids=[device.index],
                                              bucket_cap_mb=a.bucket_mb)
    opt = torch.optim.SGD(ddp.parameters(), lr=a.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1.0 - t / a.steps)
    loss_fn = nn.CrossEntropyLoss()
    lo = rank * a.per_rank
    torch.cuda.synchronize()
    start = time.time()
    for t in range(a.steps):
        first = lo + (t * a.batch) % a.per_rank
        xb, yb = x[first:first + a.batch], y[first:first + a.batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(ddp(xb), yb)
        loss.backward()  # DDP all-reduces the gradient buckets here
        opt.step()
        sched.step()
    torch.cuda.synchronize()
    elapsed = time.time() - start
    with torch.no_grad():
        final = loss_fn(model(x), y).item()
    # Every rank must hold the same parameters (compressed AllReduce is bit-identical).
    flat = torch.cat([q.detach().flatten() for q in model.parameters()])
    ref = flat.clone()
    dist.broadcast(ref, 0)
    same = bool(torch.equal(flat, ref))
    agree = torch.tensor([1 if same else 0], device=device)
    dist.all_reduce(agree, op=dist.ReduceOp.MIN)
    if rank == 0:
        params = sum(q.numel() for q in model.parameters())
        print(json.dumps({"codec": a.label, "final_loss": final, "steps": a.steps,
                          "ranks": world, "params": params, "seconds": elapsed,
                          "identical_on_every_rank": bool(agree.item())}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
