"""What ReduceOp.PREMUL_SUM gives for each dtype on one rank: run once on NVIDIA's NCCL and once
with Tutti's shim preloaded, and compare (torch hands NCCL a float scalar for bfloat16)."""
import os

import torch
import torch.distributed as dist

os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
os.environ.setdefault("MASTER_PORT", "29517")
dist.init_process_group("nccl", rank=0, world_size=1, device_id=torch.device("cuda", 0))
for dtype in (torch.float32, torch.bfloat16, torch.float16):
    x = torch.full((8,), 4.0, dtype=dtype, device="cuda")
    dist.all_reduce(x, op=dist._make_nccl_premul_sum(0.5))
    print(f"premul_sum(0.5) of 4.0 in {dtype}: {x[0].item()}")
dist.destroy_process_group()
