#!/usr/bin/python3
"""Data-parallel epoch times with the gradient exchanged after the backward
pass (blocking) and during it (--overlap-exchange), on this machine under
mpirun (issue #15; the table in docs/scaling.md).

usage: bench/overlap.py [--deepnet build/mpi/deepnet] [--repeats 3] [--epochs 3]

Workloads: fmnist-mlp (the built-in Fashion-MNIST, 784-256-128-10, SGD lr 0.1,
batch 128) and wide-mlp (8192 x 1024 float32 synthetic examples written to a
temporary folder, 1024-2048-2048-10, batch 512, lr 0.01). Configurations: one
process with 2 threads, and -np 2 (1 thread per rank, oversubscribed on a
2-core machine) with K = 2 and K = 8 gradient blocks, each blocking and
overlapped, taking turns (repeats outermost). Figure: the median over the repeats of the median epoch time of
epochs 2.. (the first epoch warms up), from the history file's seconds column
(time since the start, so epoch k's is the difference with epoch k-1's).
Loopback and shared memory only.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

ENV = dict(os.environ)
ENV.update({
    "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_btl": "self,vader", "OMPI_MCA_btl_tcp_if_include": "lo", "OMPI_MCA_oob_tcp_if_include": "lo",
    "OMPI_MCA_btl_vader_single_copy_mechanism": "none", "OMPI_MCA_rmaps_base_oversubscribe": "1",
})
PLAIN_ENV = {k: v for k, v in ENV.items() if not k.startswith(("OMPI_", "PMI", "PMIX"))}


def epoch_seconds(history):
    """The median time of epochs 2.. (the history's seconds column counts from the start)."""
    with open(history) as f:
        elapsed = [float(r["seconds"]) for r in csv.DictReader(f)]
    times = [b - a for a, b in zip(elapsed, elapsed[1:])] or elapsed
    return statistics.median(times)


def run(deepnet, ranks, args, work, tag):
    history = os.path.join(work, tag + ".csv")
    command = [deepnet, "train"] + args + ["--history", history, "--quiet"]
    if ranks:
        command = ["mpirun", "-np", str(ranks), "--oversubscribe", "--bind-to", "none"] + command
    out = subprocess.run(command, env=ENV if ranks else PLAIN_ENV, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("overlap.py: %s failed: %s" % (" ".join(command), out.stderr[-500:]))
    return epoch_seconds(history)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deepnet", default="build/mpi/deepnet")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    a = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deepnet-overlap-") as work:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((8192, 1024), dtype=np.float32)
        y = rng.integers(0, 10, 8192)
        np.save(os.path.join(work, "wide_X.npy"), X)
        np.save(os.path.join(work, "wide_y.npy"), y)
        workloads = {
            "fmnist-mlp": ["--data", "fashion-mnist", "--layers", "256,128", "--optimizer", "sgd", "--lr", "0.1",
                           "--batch-size", "128"],
            "wide-mlp": ["--data", os.path.join(work, "wide_X.npy"), "--labels", os.path.join(work, "wide_y.npy"),
                         "--layers", "2048,2048", "--optimizer", "sgd", "--lr", "0.01", "--batch-size", "512",
                         "--normalize", "none"],
        }
        configs = [("one process, 2 threads", 0, ["--threads", "2"])]
        for blocks in (2, 8):
            for overlap in (False, True):
                configs.append(("-np 2 x 1 thread, K = %d, %s" % (blocks, "overlapped" if overlap else "blocking"), 2,
                                ["--threads", "1", "--gradient-blocks", str(blocks)] +
                                (["--overlap-exchange"] if overlap else [])))
        # Repeats outermost: the configurations take turns, so a busier stretch
        # of the machine falls on all of them alike.
        times = {(name, workload): [] for name, _, _ in configs for workload in workloads}
        for k in range(a.repeats):
            for name, ranks, extra in configs:
                for workload, args in workloads.items():
                    args = args + ["--epochs", str(a.epochs), "--seed", "1"] + extra
                    times[(name, workload)].append(run(a.deepnet, ranks, args, work, "%s-%d" % (workload, k)))
        results = {key: statistics.median(values) for key, values in times.items()}
        for (name, workload), values in times.items():
            print("%s, %s: %.3f s per epoch (%s)" % (name, workload, results[(name, workload)],
                                                     ", ".join("%.3f" % t for t in values)), file=sys.stderr)
        print("| configuration | fmnist epoch | wide epoch |")
        print("| --- | ---: | ---: |")
        for name, _, _ in configs:
            print("| %s | %.2f s | %.2f s |" % (name, results[(name, "fmnist-mlp")], results[(name, "wide-mlp")]))


if __name__ == "__main__":
    main()
