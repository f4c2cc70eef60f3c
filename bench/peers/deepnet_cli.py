#!/usr/bin/python3
"""deepnet as a user runs it: the whole `deepnet train ...` command (build/PRESET/deepnet),
timed from start to exit (process start, loading the data, training, the final
evaluation, writing the result), with its peak resident memory (os.wait4's
ru_maxrss), on the workloads of scripts/bench (issue #14). These are the
"whole command" figures of deepnet's rows; deepnet_bench.cpp times the
training loop alone.

The commands (--threads T added; --seed S where seeds repeat):
  planar-shallow  deepnet train --data planar --layers 4 --hidden-activation tanh --output sigmoid
                  --iterations 10000 --lr 1.2 --init small --init-scale 0.01 --rng numpy --seed 2 --dtype float64
  deep-fullbatch  deepnet train --data X.npy --labels y.npy --layers 20,7,5 --hidden-activation relu
                  --output sigmoid --iterations 2500 --lr 0.0075 --init xavier --rng numpy --seed 1 --dtype D
  fmnist-mlp      deepnet train --data fashion-mnist --layers 256,128 --optimizer sgd --lr 0.1
                  --batch-size 128 --epochs 10 --init glorot --seed S   (the test part is scored at the end)
  wide-mlp        deepnet train --data X.npy --labels y.npy --layers 2048,2048 --optimizer sgd --lr 0.01
                  --batch-size 512 --epochs 2 --init he --normalize none --seed S
each with --json --quiet (and --print-every ITERATIONS in full batch: the cost is
recorded once). The training set's figures in the JSON are the last epoch's
running ones in mini-batch training (--train-score auto: no pass over the
training set after training, as a Keras or PyTorch loop reports them) and a
pass in full-batch training; the test set is always scored with the final
weights. The synthetic data (the hash of common.py, the same as the
other systems') is written as .npy files into --work before any timing, so
loading it is part of the command, as for a user. --quick: 50 iterations; one
epoch on the first 2000 Fashion-MNIST examples (written as uint8 .npy files
with the 10000 test images, so the command scales them by 1/255 as it does
the built-in set) and on 1024 wide-mlp examples.

One JSON line per workload case, in the schema of common.emit, with
"mode": "command": seconds is the median over the seeds of the command's wall
time (planar-shallow, one configuration of ~40 ms: the median of 9 runs), value the mean of its final cost or test accuracy, peak_rss_mb the
largest peak resident memory of the commands.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import common as c

SYSTEM = "deepnet"


def run_command(argv):
    """Runs argv; returns (wall seconds from start to exit, peak RSS in MB, its stdout).
    Raises SystemExit with the command's last stderr line when it fails."""
    with tempfile.TemporaryFile() as err_file:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err_file)
        out = proc.stdout.read()  # until the command closes it, at exit
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.stdout.close()
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: keep Popen from waiting again
        err_file.seek(0)
        err = err_file.read()
    if proc.returncode != 0:
        last = err.decode(errors="replace").strip().splitlines()[-1:] or ["(no message)"]
        raise SystemExit("deepnet_cli.py: %s failed (exit %d): %s" % (shlex.join(argv), proc.returncode, last[0]))
    return wall, usage.ru_maxrss / 1024.0, out.decode()


def final_json(text):
    """The JSON object the command printed with --json (its last line that is one)."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise SystemExit("deepnet_cli.py: no JSON result in the command's output: %r" % text[-200:])


def measure(args, workload, case, base, seeds, metric, examples, flops, config, repeats=1, **extra):
    """Runs base + [--seed S] for each seed (None: no --seed added), `repeats` times each (a command of
    a few tens of milliseconds is timed several times: one run is at the mercy of a neighbour's
    moment), emits one record."""
    walls, rss, values, costs = [], [], [], []
    for seed in [s for s in seeds for _ in range(repeats)]:
        argv = base + (["--seed", str(seed)] if seed is not None else [])
        wall, peak, out = run_command(argv)
        result = final_json(out)
        walls.append(wall)
        rss.append(peak)
        cost = float(result["final_cost"])
        costs.append(cost)
        values.append(float(result["test"]["accuracy"]) if metric == "test_accuracy" else cost)
    seconds = statistics.median(walls)
    command = shlex.join(base + (["--seed", str(seeds[0])] if seeds[0] is not None else []))
    rec = {
        "workload": workload, "case": case, "system": SYSTEM, "mode": "command", "config": config,
        "dtype": case if case.startswith("float") else "float32", "threads": args.threads, "seconds": seconds,
        "examples": examples, "examples_per_s": examples / seconds, "flops": flops, "gflops": flops / seconds / 1e9,
        "metric": metric, "value": statistics.fmean(values), "peak_rss_mb": max(rss), "command": command,
        "seconds_all": walls, "values": values, "value_min": min(values), "value_max": max(values),
        "final_cost": statistics.fmean(costs), "peak_rss_all": rss,
    }
    if seeds[0] is not None and len(seeds) > 1:
        rec["seeds"] = list(seeds)
    rec.update(extra)
    print(json.dumps(rec), flush=True)


def write_npy(path, array):
    if not os.path.exists(path):
        np.save(path, array)
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deepnet", required=True, help="the deepnet program (build/PRESET/deepnet)")
    p.add_argument("--work", required=True, help="directory for the synthetic data files")
    p.add_argument("--workload", required=True, choices=["planar-shallow", "deep-fullbatch", "fmnist-mlp", "wide-mlp"])
    p.add_argument("--dtype", default="both", choices=["float32", "float64", "both"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seeds", type=int, default=1, help="fmnist-mlp, wide-mlp: seeds 1..N (default 1)")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    common = ["--threads", str(args.threads), "--json", "--quiet"]
    train = [args.deepnet, "train"]
    seeds = list(range(1, args.seeds + 1))

    if args.workload == "planar-shallow":
        it = 50 if args.quick else 10000
        sizes, m = [2, 4, 1], 400
        measure(args, "planar-shallow", "float64",
                train + ["--data", "planar", "--layers", "4", "--hidden-activation", "tanh", "--output", "sigmoid",
                         "--iterations", str(it), "--lr", "1.2", "--init", "small", "--init-scale", "0.01",
                         "--rng", "numpy", "--seed", "2", "--dtype", "float64", "--print-every", str(it)] + common,
                [None], "final_cost", m * it, 6 * c.weights_of(sizes) * m * it,
                "deepnet train, 2-4-1 tanh/sigmoid, float64, %d it, lr 1.2, %d thr" % (it, args.threads),
                repeats=1 if args.quick else 9, iterations=it, init="course small (seed 2)")

    elif args.workload == "deep-fullbatch":
        it = 50 if args.quick else 2500
        sizes, m = [12288, 20, 7, 5, 1], 209
        y = write_npy(os.path.join(args.work, "deep-y.npy"), c.synthetic_labels(m, 2))
        for dtype in c.dtypes(args):
            name = c.dtype_name(dtype)
            X = write_npy(os.path.join(args.work, "deep-X-%s.npy" % name), c.synthetic_pixels(12288, m, dtype))
            measure(args, "deep-fullbatch", name,
                    train + ["--data", X, "--labels", y, "--layers", "20,7,5", "--hidden-activation", "relu",
                             "--output", "sigmoid", "--iterations", str(it), "--lr", "0.0075", "--init", "xavier",
                             "--rng", "numpy", "--seed", "1", "--dtype", name, "--print-every", str(it)] + common,
                    [None], "final_cost", m * it, 6 * c.weights_of(sizes) * m * it,
                    "deepnet train, 12288-20-7-5-1 relu/sigmoid, %s, %d it, lr 0.0075, %d thr" % (name, it, args.threads),
                    iterations=it, init="course deep (seed 1)")

    elif args.workload == "fmnist-mlp":
        sizes = [784, 256, 128, 10]
        if args.quick:
            m, epochs = 2000, 1
            Xr = c._idx(os.path.join(c.FMNIST_DIR, "train-images-idx3-ubyte.gz"))
            yr = c._idx(os.path.join(c.FMNIST_DIR, "train-labels-idx1-ubyte.gz"))
            Xt = c._idx(os.path.join(c.FMNIST_DIR, "t10k-images-idx3-ubyte.gz"))
            yt = c._idx(os.path.join(c.FMNIST_DIR, "t10k-labels-idx1-ubyte.gz"))
            data = ["--data", write_npy(os.path.join(args.work, "fmnist-quick-X.npy"), Xr[:m].reshape(m, -1)),
                    "--labels", write_npy(os.path.join(args.work, "fmnist-quick-y.npy"), yr[:m].astype(np.int64)),
                    "--test", write_npy(os.path.join(args.work, "fmnist-test-X.npy"), Xt.reshape(Xt.shape[0], -1)),
                    "--test-labels", write_npy(os.path.join(args.work, "fmnist-test-y.npy"), yt.astype(np.int64))]
        else:
            m, epochs = 60000, 10
            data = ["--data", "fashion-mnist"]
        measure(args, "fmnist-mlp", "float32",
                train + data + ["--layers", "256,128", "--optimizer", "sgd", "--lr", "0.1", "--batch-size", "128",
                                "--epochs", str(epochs), "--init", "glorot", "--dtype", "float32"] + common,
                seeds, "test_accuracy", m * epochs, 6 * c.weights_of(sizes) * m * epochs,
                "deepnet train, 784-256-128-10 relu/softmax, float32, SGD lr 0.1, batch 128, %d ep on %d, glorot init, %d thr"
                % (epochs, m, args.threads), epochs=epochs, init="glorot")

    elif args.workload == "wide-mlp":
        m = 1024 if args.quick else 8192
        epochs = 1 if args.quick else 2
        sizes = [1024, 2048, 2048, 10]
        X = write_npy(os.path.join(args.work, "wide-X-%d.npy" % m), c.synthetic_pixels(1024, m, np.float32))
        y = write_npy(os.path.join(args.work, "wide-y-%d.npy" % m), c.synthetic_labels(m, 10))
        measure(args, "wide-mlp", "float32",
                train + ["--data", X, "--labels", y, "--layers", "2048,2048", "--optimizer", "sgd", "--lr", "0.01",
                         "--batch-size", "512", "--epochs", str(epochs), "--init", "he", "--normalize", "none",
                         "--dtype", "float32"] + common,
                seeds, "final_cost", m * epochs, 6 * c.weights_of(sizes) * m * epochs,
                "deepnet train, 1024-2048-2048-10 relu/softmax, float32, SGD lr 0.01, batch 512, %d ep on %d, he init, "
                "%d thr" % (epochs, m, args.threads), epochs=epochs, init="he")
    return 0


if __name__ == "__main__":
    sys.exit(main())
