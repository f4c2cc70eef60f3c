#!/usr/bin/python3
"""Time from start to the first training step of the Fashion-MNIST command
(issue #14's 0.3 s target), as docs/performance.md measures it.

usage: bench/first_step.py DEEPNET [RUNS]

Runs `DEEPNET train --data fashion-mnist --layers 256,128 --epochs 1
--optimizer sgd --lr 0.1 --batch-size 128 --threads 2 --history H` RUNS times
(default 5); for each, the moment the "epoch 1:" line appears less the first
epoch's own seconds (from the history) is when the first step began. Prints
each run's figure, their median, and the median of the whole command.
"""
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    deepnet, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
    first, whole = [], []
    with tempfile.TemporaryDirectory(prefix="deepnet-first-step-") as work:
        history = os.path.join(work, "history.csv")
        for _ in range(runs):
            t0 = time.perf_counter()
            p = subprocess.Popen([deepnet, "train", "--data", "fashion-mnist", "--layers", "256,128", "--epochs", "1",
                                  "--optimizer", "sgd", "--lr", "0.1", "--batch-size", "128", "--threads", "2",
                                  "--history", history], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            seen = None
            for line in p.stdout:
                if seen is None and line.startswith("epoch 1:"):
                    seen = time.perf_counter() - t0
            if p.wait() != 0 or seen is None:
                sys.exit("first_step.py: the command failed or printed no epoch line")
            whole.append(time.perf_counter() - t0)
            with open(history) as f:
                epoch = float(next(csv.DictReader(f))["seconds"])
            first.append(seen - epoch)
    print("first step: %s s, median %.3f s; whole command: median %.3f s"
          % (", ".join("%.3f" % t for t in first), statistics.median(first), statistics.median(whole)))


if __name__ == "__main__":
    main()
