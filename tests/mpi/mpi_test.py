#!/usr/bin/python3
"""deepnet train under mpirun (issue #15), the real binary on real ranks.

usage: mpi_test.py DEEPNET MPIRUN WORKDIR [CASE ...]

Cases: same-bits (the parameters of -np 1, 2, 4 and of a run without MPI are
identical, float32 and float64, with and without dropout, and with
--overlap-exchange on 2 and 4 ranks), default-blocks (the
auto block count gives the same bits on 1, 2 and 4 ranks), killed-rank (a rank
killed by SIGKILL ends the job with a message within 10 s; the last checkpoint
resumes under another rank count and finishes with the uninterrupted run's
bits), bad-input (an error every rank finds is printed once, with its exit
code), search (deepnet search on 2 and 3 ranks gives one process's result,
grid and halving, and --resume continues a log under another rank count).
All traffic stays on this machine (loopback, shared memory).
"""
import os
import signal
import subprocess
import sys
import time

import numpy as np

DEEPNET, MPIRUN, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
CASES = sys.argv[4:] or ["same-bits", "default-blocks", "killed-rank", "bad-input", "search"]
os.makedirs(WORK, exist_ok=True)

ENV = dict(os.environ)
ENV.update({
    # Tests run as root in CI containers; OpenMPI refuses root without these.
    "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    # Loopback and shared memory only: nothing leaves this machine.
    "OMPI_MCA_btl": "self,vader", "OMPI_MCA_btl_tcp_if_include": "lo", "OMPI_MCA_oob_tcp_if_include": "lo",
    # Containers often have a small /dev/shm and no cgroup-visible cores: keep OpenMPI quiet about it.
    "OMPI_MCA_btl_vader_single_copy_mechanism": "none", "OMPI_MCA_rmaps_base_oversubscribe": "1",
})
# A run without MPI must not look like one started by a launcher.
PLAIN_ENV = {k: v for k, v in ENV.items() if not k.startswith(("OMPI_", "PMI", "PMIX"))}

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL: " + message, flush=True)


def run(ranks, args, timeout=300, command_name="train"):
    """deepnet train (or another command) ARGS on `ranks` MPI ranks (0: without mpirun)."""
    if ranks == 0:
        command = [DEEPNET, command_name] + args
        env = PLAIN_ENV
    else:
        command = [MPIRUN, "-np", str(ranks), "--oversubscribe", "--bind-to", "none", DEEPNET, command_name] + args
        env = ENV
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def parameters(model):
    npz = model + ".npz"
    out = subprocess.run([DEEPNET, "export", "--model", model, "--npz", npz], env=PLAIN_ENV,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("export failed: " + out.stderr)
    with np.load(npz) as z:
        return {k: z[k].copy() for k in z.files if k[0] in "Wb" and k[1:].isdigit()}


def same_bits(a, b):
    return a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes() for k in a)


def train_models(tag, ranks_list, args):
    models = {}
    for ranks in ranks_list:
        model = os.path.join(WORK, "%s-np%d.dnm" % (tag, ranks))
        out = run(ranks, args + ["--out", model])
        check(out.returncode == 0, "%s -np %d: exit %d: %s" % (tag, ranks, out.returncode, out.stderr[-2000:]))
        if out.returncode == 0:
            models[ranks] = parameters(model)
            if ranks > 0 and "--quiet" not in args:
                check("data-parallel: MPI, %d rank" % ranks in out.stdout,
                      "%s -np %d: no data-parallel line:\n%s" % (tag, ranks, out.stdout[:1000]))
                check(out.stdout.count("model saved to") == 1, "%s -np %d: rank 0 alone reports" % (tag, ranks))
    return models


def case_same_bits():
    base = ["--data", "breast-cancer", "--layers", "24,12", "--epochs", "4", "--batch-size", "40", "--seed", "5",
            "--gradient-blocks", "4"]
    for dtype in ["float32", "float64"]:
        for dropout in [[], ["--dropout", "0.2"]]:
            tag = "blocks4-%s%s" % (dtype, "-dropout" if dropout else "")
            models = train_models(tag, [0, 1, 2, 4], base + ["--dtype", dtype] + dropout)
            # Each layer's gradient exchanged during the backward pass (MPI_Ialltoallv /
            # MPI_Iallgatherv on per-layer slices): the same bits.
            overlapped = train_models(tag + "-overlap", [2, 4], base + ["--dtype", dtype, "--overlap-exchange"] + dropout)
            if 0 in models:
                for ranks in [1, 2, 4]:
                    if ranks in models:
                        check(same_bits(models[0], models[ranks]),
                              "%s: -np %d differs from the run without MPI" % (tag, ranks))
                    if ranks in overlapped:
                        check(same_bits(models[0], overlapped[ranks]),
                              "%s: -np %d with --overlap-exchange differs from the run without MPI" % (tag, ranks))
                check(models[0]["W1"].dtype == np.dtype(dtype), "%s: the model is %s" % (tag, models[0]["W1"].dtype))


def case_default_blocks():
    args = ["--data", "digits", "--layers", "32", "--epochs", "2", "--batch-size", "64", "--seed", "3"]
    models = train_models("auto", [1, 2, 4], args)
    plain = train_models("auto-alone", [0], args + ["--gradient-blocks", "8"])
    if 0 in plain:
        for ranks, params in models.items():
            check(same_bits(plain[0], params), "auto blocks: -np %d differs from one process with 8 blocks" % ranks)


def rank_pids(mpirun_pid):
    """The deepnet processes started by this mpirun, by their MPI rank."""
    ranks = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
            with open("/proc/%s/stat" % pid) as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == mpirun_pid and b"OMPI_COMM_WORLD_RANK" in env:
            ranks[int(env[b"OMPI_COMM_WORLD_RANK"])] = int(pid)
    return ranks


def case_killed_rank():
    checkpoint = os.path.join(WORK, "killed.ckpt")
    for path in [checkpoint]:
        if os.path.exists(path):
            os.remove(path)
    args = ["--data", "digits", "--layers", "256,256", "--epochs", "40", "--batch-size", "32", "--seed", "7",
            "--dropout", "0.1", "--quiet"]
    straight = train_models("straight", [0], args + ["--gradient-blocks", "8"])
    process = subprocess.Popen([MPIRUN, "-np", "2", "--oversubscribe", "--bind-to", "none", DEEPNET, "train"] + args +
                               ["--checkpoint", checkpoint, "--threads", "1"],
                               env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not os.path.exists(checkpoint) and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    ranks = rank_pids(process.pid)
    check(os.path.exists(checkpoint) and 1 in ranks, "killed-rank: no checkpoint or no rank 1 (ranks %s)" % ranks)
    if 1 not in ranks:
        process.kill()
        process.communicate()
        return
    os.kill(ranks[1], signal.SIGKILL)
    killed = time.time()
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        check(False, "killed-rank: the job still ran 30 s after rank 1 was killed")
        return
    took = time.time() - killed
    print("killed-rank: the job ended %.2f s after the kill, exit %d" % (took, process.returncode), flush=True)
    check(took < 10, "killed-rank: the job took %.1f s to end" % took)
    check(process.returncode != 0, "killed-rank: exit 0 after a rank was killed")
    check("signal 9" in err or "Killed" in err or "killed" in err,
          "killed-rank: no message about the killed rank:\n" + err[-2000:])
    # The last checkpoint is whole and resumes under 4 ranks (and 1) with the uninterrupted run's bits.
    for ranks in [4, 1]:
        model = os.path.join(WORK, "resumed-np%d.dnm" % ranks)
        out = run(ranks, args + ["--resume", checkpoint, "--out", model])
        check(out.returncode == 0, "killed-rank: resume on %d ranks: exit %d: %s" % (ranks, out.returncode, out.stderr[-2000:]))
        if out.returncode == 0 and 0 in straight:
            check(same_bits(parameters(model), straight[0]),
                  "killed-rank: resumed on %d ranks, the bits differ from the uninterrupted run" % ranks)


def case_bad_input():
    bad = os.path.join(WORK, "bad.csv")
    with open(bad, "w") as f:
        f.write("a,b,label\n1,2,0\n3,oops,1\n")
    out = run(2, ["--data", bad, "--layers", "4", "--epochs", "1"])
    check(out.returncode == 3, "bad-input: exit %d, expected 3 (data): %s" % (out.returncode, out.stderr))
    lines = [l for l in out.stderr.splitlines() if l.startswith("deepnet: error:")]
    check(len(lines) == 1 and "bad.csv" in lines[0] and "line 3" in lines[0],
          "bad-input: expected one error line naming the file and line:\n" + out.stderr)
    # Fewer blocks than ranks: a usage error, once.
    out = run(4, ["--data", "iris", "--layers", "4", "--epochs", "1", "--gradient-blocks", "2"])
    lines = [l for l in out.stderr.splitlines() if l.startswith("deepnet: error:")]
    check(out.returncode == 2 and len(lines) == 1 and "--gradient-blocks" in lines[0],
          "too few blocks: exit %d:\n%s" % (out.returncode, out.stderr))


def without_timing(value):
    """A search's JSON result without what depends on time or on the log's name."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in ("seconds", "log")}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def case_search():
    import json
    grid = ["--data", "iris", "--normalize", "standard", "--layers", "4|8", "--lr", "0.01|0.03", "--epochs", "10",
            "--folds", "3", "--json"]
    halving = ["--data", "breast-cancer", "--layers", "4|8|16", "--lr", "1e-3..1e-1", "--strategy", "halving",
               "--trials", "6", "--epochs", "9", "--batch-size", "32", "--folds", "2", "--json", "--seed", "4"]
    for tag, args in [("grid", grid), ("halving", halving)]:
        results = {}
        for ranks in [0, 2, 3]:
            log = os.path.join(WORK, "%s-np%d.jsonl" % (tag, ranks))
            out = run(ranks, args + ["--log", log], command_name="search")
            check(out.returncode == 0, "search %s -np %d: exit %d: %s" % (tag, ranks, out.returncode, out.stderr[-2000:]))
            if out.returncode == 0:
                results[ranks] = without_timing(json.loads(out.stdout))
                with open(log) as f:
                    lines = f.read().splitlines()
                check(len(lines) == results[ranks].get("trials", -1),
                      "search %s -np %d: %d log lines for %s trials" % (tag, ranks, len(lines), results[ranks].get("trials")))
        for ranks in [2, 3]:
            if 0 in results and ranks in results:
                check(results[0] == results[ranks], "search %s: -np %d's result differs from one process:\n%s\n%s"
                      % (tag, ranks, results[0], results[ranks]))
    # --resume under another rank count: the first two trials from a one-process log, the rest on 3 ranks.
    full = os.path.join(WORK, "grid-np0.jsonl")
    part = os.path.join(WORK, "grid-resumed.jsonl")
    if os.path.exists(full):
        with open(full) as f:
            first = f.read().splitlines()[:2]
        with open(part, "w") as f:
            f.write("\n".join(first) + "\n")
        out = run(3, grid + ["--log", part, "--resume"], command_name="search")
        check(out.returncode == 0, "search --resume -np 3: exit %d: %s" % (out.returncode, out.stderr[-2000:]))
        if out.returncode == 0:
            check("2 of 4 trials taken from" in out.stderr, "search --resume -np 3: no note of the logged trials:\n" + out.stderr)
            ref = run(0, grid, command_name="search")
            check(without_timing(json.loads(out.stdout)) == without_timing(json.loads(ref.stdout)),
                  "search --resume -np 3: the result differs from one process")


for case in CASES:
    print("case " + case, flush=True)
    {"same-bits": case_same_bits, "default-blocks": case_default_blocks, "killed-rank": case_killed_rank,
     "bad-input": case_bad_input, "search": case_search}[case]()

if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("all passed")
