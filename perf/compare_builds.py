#!/usr/bin/env python3
"""Two builds of Tutti side by side: runs each collective's *_perf binary from --base-dir and from
--new-dir with the same arguments (in turn, `--rounds` times, keeping each size's fastest time),
then prints per size the time of both and the ratio new/base (below 1: the new build is faster).
Used to check that a restructuring kept the speed (e.g. `-g 2` on one GPU: same kernels, one
process). Unknown arguments go to the binaries unchanged.

  perf/compare_builds.py --base-dir build-base/perf --new-dir build-gpu/perf \
      --coll all_reduce -g 2 --mem device -b 8 -e 256M -f 4
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def run(binary, passthrough, json_path):
    cmd = [binary] + passthrough + ["-J", json_path]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-3000:])
        print(f"# compare_builds: {' '.join(cmd)} exited with {proc.returncode}")
        return None
    with open(json_path) as f:
        return json.load(f)


def times(doc, placement):
    out = {}
    for r in doc["results"]:
        p = r.get(placement)
        if p:
            out[r["size"]] = (p["time_us"], p["busbw_gbps"], p["wrong"])
    return out


def main():
    ap = argparse.ArgumentParser(add_help=True)
    ap.add_argument("--base-dir", required=True)
    ap.add_argument("--new-dir", required=True)
    ap.add_argument("--coll", action="append", required=True)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--placement", default="out_of_place")
    ap.add_argument("--out", help="directory for the JSON of every run")
    args, passthrough = ap.parse_known_args()
    out = args.out or tempfile.mkdtemp()
    os.makedirs(out, exist_ok=True)
    worst = 0.0
    for coll in args.coll:
        best = {"base": {}, "new": {}}
        for k in range(args.rounds):
            for name, d in (("base", args.base_dir), ("new", args.new_dir)):
                doc = run(os.path.join(d, coll + "_perf"), passthrough,
                          os.path.join(out, f"{coll}-{name}-{k}.json"))
                if not doc:
                    continue
                for size, t in times(doc, args.placement).items():
                    if size not in best[name] or t[0] < best[name][size][0]:
                        best[name][size] = t
        print(f"\n{coll} ({' '.join(passthrough)}; {args.placement}, best of {args.rounds})")
        print("| size (B) | base time (us) | new time (us) | new/base | base busbw | new busbw "
              "| #wrong new |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for size in sorted(set(best["base"]) | set(best["new"])):
            b, n = best["base"].get(size), best["new"].get(size)
            ratio = n[0] / b[0] if b and n and b[0] > 0 else float("nan")
            if ratio == ratio:
                worst = max(worst, ratio)
            fmt = lambda t, i: f"{t[i]:.2f}" if t else "-"
            print(f"| {size} | {fmt(b, 0)} | {fmt(n, 0)} | {ratio:.3f} | {fmt(b, 1)} | "
                  f"{fmt(n, 1)} | {n[2] if n else '-'} |")
    print(f"\n# worst new/base time ratio: {worst:.3f}")


if __name__ == "__main__":
    main()
