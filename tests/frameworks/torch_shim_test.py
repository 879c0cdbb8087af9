"""PyTorch (torch.distributed, backend "nccl") on Tutti's libnccl.so.2, unchanged.

Run one process per GPU through run_torch_shim.sh, which sets LD_PRELOAD to the shim. Checks
that the NCCL functions torch calls resolve to Tutti's library (not NVIDIA's copy that
torch/__init__.py loads from the nvidia-nccl wheel), that torch.cuda.nccl.version() is what the
shim reports, and that all_reduce, all_gather_into_tensor, reduce_scatter_tensor,
all_to_all_single, broadcast, barrier, send/recv and new_group give exact results in float32,
bfloat16 and float16. Rank 0 prints a table; the exit code is non-zero on any failure.
"""

import ctypes
import datetime
import os
import struct
import sys
import traceback

import torch
import torch.distributed as dist

DTYPES = [torch.float32, torch.bfloat16, torch.float16]
# Small integer-valued data: every result below is exact in all three dtypes.
SIZES = [1000, 1 << 20]


def mapped_libraries(name):
    """(start, end, path) of every mapping of a file whose name contains `name`."""
    out = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and name in fields[5]:
                lo, hi = (int(x, 16) for x in fields[0].split("-"))
                out.append((lo, hi, fields[5]))
    return out


def library_of(address):
    for lo, hi, path in mapped_libraries("/"):
        if lo <= address < hi:
            return os.path.realpath(path)
    return None


def check_loaded_library(shim_path):
    """Returns a list of (check, ok, detail) about which libnccl.so.2 torch uses."""
    results = []
    shim_real = os.path.realpath(shim_path)
    paths = sorted({os.path.realpath(p) for _, _, p in mapped_libraries("libnccl.so")})
    results.append(("shim mapped in the process", shim_real in paths, ", ".join(paths)))
    # Lazy binding resolves torch's calls through the global scope, which LD_PRELOAD heads.
    # dlopen(NULL) searches that same scope.
    scope = ctypes.CDLL(None)
    for fn in ("ncclGetVersion", "ncclAllReduce", "ncclCommInitRankConfig", "ncclGroupEnd"):
        addr = ctypes.cast(getattr(scope, fn), ctypes.c_void_p).value
        where = library_of(addr)
        results.append((f"{fn} resolves to the shim", where == shim_real, str(where)))
    # Behavioural proof: Tutti's own wording for ncclInvalidUsage (5).
    scope.ncclGetErrorString.restype = ctypes.c_char_p
    text = scope.ncclGetErrorString(5).decode()
    results.append(("ncclGetErrorString is Tutti's", "Tutti" in text, text))
    # torch reports the version the shim reports.
    shim = ctypes.CDLL(shim_real)
    v = ctypes.c_int(0)
    shim.ncclGetVersion(ctypes.byref(v))
    want = (v.value // 10000, (v.value % 10000) // 100, v.value % 100)
    got = torch.cuda.nccl.version()
    results.append(("torch.cuda.nccl.version() == shim's", tuple(got) == want,
                    f"torch {got}, shim {v.value}"))
    return results


def expect_equal(name, got, want):
    if not torch.equal(got, want):
        bad = (got != want).nonzero()
        first = bad[0].tolist() if len(bad) else []
        raise AssertionError(f"{name}: {len(bad)} elements differ, first at {first}: "
                             f"got {got.flatten()[bad[0][0]].item() if len(bad) else '?'}")


def factor_as_nccl_reads_it(factor, dtype):
    """The PreMulSum scalar NCCL (and so the shim) applies for torch's Python factor.

    torch 2.11 passes the factor as a float32 for bfloat16 tensors too (unpackPreMulSum<float,
    ncclBfloat16>), and NCCL reads the first two bytes of it as the bfloat16 scalar: for 0.5
    those are zero. NVIDIA's NCCL 2.28.9 gives 0.0 there as well (tests/frameworks/
    premul_probe.py, run on both, 2026-12-01); the shim matches it byte for byte.
    """
    if dtype == torch.bfloat16:
        low = struct.unpack("<H", struct.pack("<f", factor)[:2])[0]
        return struct.unpack("<f", struct.pack("<I", low << 16))[0]
    return factor


def pattern(n, dtype, device, offset=0, mod=7):
    return ((torch.arange(n, device=device) % mod) + offset).to(dtype)


def run_checks(rank, world, device):
    checks = []

    def check(name, fn):
        try:
            fn()
            checks.append((name, True, ""))
        except Exception as e:  # report and continue: every rank runs the same sequence
            checks.append((name, False, f"{type(e).__name__}: {e}"))
            if os.environ.get("SHIM_TEST_VERBOSE"):
                traceback.print_exc()

    for dtype in DTYPES:
        tag = str(dtype).replace("torch.", "")
        for n in SIZES:
            def all_reduce():
                x = pattern(n, dtype, device, offset=rank)
                dist.all_reduce(x)
                want = pattern(n, dtype, device) * world + sum(range(world))
                expect_equal("sum", x, want.to(dtype))
                y = pattern(n, dtype, device, offset=rank)
                dist.all_reduce(y, op=dist.ReduceOp.MAX)
                expect_equal("max", y, pattern(n, dtype, device, offset=world - 1))
                z = torch.full((n,), float(2 * (rank + 1)), dtype=dtype, device=device)
                dist.all_reduce(z, op=dist.ReduceOp.AVG)
                expect_equal("avg", z, torch.full_like(z, float(world + 1)))
            check(f"all_reduce {tag} n={n}", all_reduce)

            def all_gather():
                x = pattern(n, dtype, device, offset=rank)
                out = torch.empty(world * n, dtype=dtype, device=device)
                dist.all_gather_into_tensor(out, x)
                want = torch.cat([pattern(n, dtype, device, offset=r) for r in range(world)])
                expect_equal("all_gather", out, want)
            check(f"all_gather_into_tensor {tag} n={n}", all_gather)

            def reduce_scatter():
                x = pattern(world * n, dtype, device, offset=rank, mod=5)
                out = torch.empty(n, dtype=dtype, device=device)
                dist.reduce_scatter_tensor(out, x)
                full = sum(pattern(world * n, dtype, device, offset=r, mod=5).float()
                           for r in range(world))
                expect_equal("reduce_scatter", out, full[rank * n:(rank + 1) * n].to(dtype))
            check(f"reduce_scatter_tensor {tag} n={n}", reduce_scatter)

            def all_to_all():
                x = torch.cat([torch.full((n,), float(rank * 10 + p), dtype=dtype, device=device)
                               for p in range(world)])
                out = torch.empty_like(x)
                dist.all_to_all_single(out, x)
                want = torch.cat([torch.full((n,), float(q * 10 + rank), dtype=dtype,
                                             device=device) for q in range(world)])
                expect_equal("all_to_all", out, want)
            check(f"all_to_all_single {tag} n={n}", all_to_all)

            def broadcast():
                root = world - 1
                x = pattern(n, dtype, device, offset=rank)
                dist.broadcast(x, src=root)
                expect_equal("broadcast", x, pattern(n, dtype, device, offset=root))
            check(f"broadcast {tag} n={n}", broadcast)

            def send_recv():
                nxt, prv = (rank + 1) % world, (rank - 1) % world
                x = pattern(n, dtype, device, offset=rank)
                y = torch.empty_like(x)
                ops = [dist.P2POp(dist.isend, x, nxt), dist.P2POp(dist.irecv, y, prv)]
                for req in dist.batch_isend_irecv(ops):
                    req.wait()
                expect_equal("batched ring", y, pattern(n, dtype, device, offset=prv))
                # Plain blocking pairs: even ranks send first, odd ranks receive first.
                z = torch.empty_like(x)
                if rank % 2 == 0:
                    dist.send(x, dst=nxt)
                    dist.recv(z, src=prv)
                else:
                    dist.recv(z, src=prv)
                    dist.send(x, dst=nxt)
                expect_equal("send/recv", z, pattern(n, dtype, device, offset=prv))
            if world > 1:  # torch refuses send/recv to oneself
                check(f"send/recv {tag} n={n}", send_recv)

        def premul_sum():
            # ReduceOp.PREMUL_SUM with a Python factor: ncclRedOpCreatePreMulSum (host scalar).
            x = torch.full((4096,), 4.0, dtype=dtype, device=device)
            dist.all_reduce(x, op=dist._make_nccl_premul_sum(0.5))
            expect_equal("premul_sum", x, torch.full_like(x, 4.0 * factor_as_nccl_reads_it(0.5, dtype) * world))
        check(f"all_reduce PREMUL_SUM {tag}", premul_sum)

    check("barrier", lambda: dist.barrier(device_ids=[device.index]))

    def new_group():
        evens = list(range(0, world, 2))
        sub = dist.new_group(ranks=evens)
        everyone = dist.new_group(ranks=list(range(world)))
        x = torch.full((1000,), float(rank + 1), device=device)
        if rank in evens:
            dist.all_reduce(x, group=sub)
            expect_equal("even group", x, torch.full_like(x, float(sum(r + 1 for r in evens))))
        y = torch.ones(77, device=device, dtype=torch.bfloat16)
        dist.all_reduce(y, group=everyone)
        expect_equal("full group", y, torch.full_like(y, float(world)))
    check("new_group", new_group)
    torch.cuda.synchronize()
    return checks


def main():
    shim = os.environ.get("TUTTI_SHIM_LIB")
    if not shim:
        sys.exit("set TUTTI_SHIM_LIB to the shim's libnccl.so.2 (run_torch_shim.sh does)")
    rank = int(os.environ["RANK"])
    world = int(os.environ["WORLD_SIZE"])
    local = int(os.environ["LOCAL_RANK"])
    # One GPU per rank; with fewer GPUs than ranks (TUTTI_ALLOW_SHARED_GPU=1) ranks share them.
    device = torch.device("cuda", local % torch.cuda.device_count())
    torch.cuda.set_device(device)
    dist.init_process_group("nccl", device_id=device, timeout=datetime.timedelta(seconds=180))

    results = check_loaded_library(shim)
    library_checks = len(results)
    results += run_checks(rank, world, device)

    failures = torch.tensor([sum(not ok for _, ok, _ in results)], device=device)
    dist.all_reduce(failures)
    gathered = [None] * world
    dist.all_gather_object(gathered, results)
    if rank == 0:
        print(f"\nTutti libnccl.so.2 under torch {torch.__version__}, {world} ranks")
        width = max(len(name) for name, _, _ in results)
        for i, name in enumerate(name for name, _, _ in results):
            oks = [gathered[r][i][1] for r in range(world)]
            # Failures show the first failing rank's reason; library checks always show theirs.
            shown = gathered[0][i][2] if i < library_checks else ""
            detail = next((gathered[r][i][2] for r in range(world) if not oks[r]), shown)
            status = "PASS" if all(oks) else "FAIL"
            print(f"  {name:<{width}}  {status}  {detail[:100]}")
        print(f"{'ALL PASSED' if failures.item() == 0 else f'{failures.item()} FAILURES'}")
    dist.destroy_process_group()
    sys.exit(1 if failures.item() else 0)


if __name__ == "__main__":
    main()
