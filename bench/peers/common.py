"""Shared pieces of the peer benchmarks (bench/peers/*.py).

- the synthetic data that bench/deepnet_bench.cpp also makes (same integer hash),
- the planar flower set and Fashion-MNIST (IDX .gz files from the Debian
  package dataset-fashion-mnist), read here with gzip + numpy,
- the course's initialisations (np.random.seed, randn),
- which BLAS library and kernel is loaded (threadpoolctl, else ctypes),
- runs repeated over several seeds (--seeds N: seeds 1..N; the time reported
  is the median, the accuracy or cost the mean, every seed's kept),
- one JSON object per measurement on stdout, in the schema of deepnet_bench,
  with the process's peak resident memory so far (peak_rss_mb).

Run with Debian's /usr/bin/python3 (python3-numpy, python3-torch, python3-sklearn).
"""
import argparse
import ctypes
import gzip
import json
import math
import os
import resource
import statistics
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FMNIST_DIR = os.environ.get("DEEPNET_FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist"

WORKLOADS = ["planar-shallow", "deep-fullbatch", "fmnist-mlp", "wide-mlp", "inference"]


def parse_args(description, workloads, sweeps=False):
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", default="all", choices=["all"] + workloads)
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks that everything runs")
    p.add_argument("--threads", type=int, default=1,
                   help="threads of the system (PyTorch: torch.set_num_threads; numpy, scikit-learn: the BLAS's)")
    p.add_argument("--blas-threads", type=int, default=0,
                   help="threads of the BLAS library, when they differ from --threads (PyTorch only; default: --threads)")
    p.add_argument("--dtype", default="both", choices=["float32", "float64", "both"])
    p.add_argument("--seeds", type=int, default=1,
                   help="train with seeds 1..N (fmnist-mlp): median time, mean accuracy (default 1)")
    if sweeps:
        p.add_argument("--sweep", choices=["batch", "width"],
                       help="instead of the workloads: training examples/s against the batch size or the hidden width")
        p.add_argument("--min-time", type=float, default=0.5, help="seconds each sweep point trains at least")
    args = p.parse_args()
    if args.threads < 1:
        p.error("--threads: expected at least 1")
    if args.seeds < 1:
        p.error("--seeds: expected at least 1")
    if args.blas_threads == 0:
        args.blas_threads = args.threads
    return args


def wants(args, workload):
    return args.workload in ("all", workload)


def dtypes(args):
    return {"float32": [np.float32], "float64": [np.float64], "both": [np.float32, np.float64]}[args.dtype]


def dtype_name(dtype):
    return "float32" if np.dtype(dtype) == np.float32 else "float64"


# ---------------------------------------------------------------- threads and BLAS

def limit_blas_threads(n):
    """Limits the BLAS library's threads in this process (threadpoolctl), when available.
    scripts/bench also sets OPENBLAS_NUM_THREADS and OMP_NUM_THREADS before starting us."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=n, user_api="blas")


def blas_info():
    """'openblas 0.3.21 Cooperlake, 2 thr' for each BLAS loaded in this process."""
    try:
        from threadpoolctl import threadpool_info
        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            return "; ".join("%s %s %s, %s thr" % (i.get("internal_api"), i.get("version"),
                                                   i.get("architecture"), i.get("num_threads"))
                             for i in infos)
    except Exception:  # noqa: BLE001 - any failure falls back to ctypes
        pass
    # Fallback: the loaded library that looks like a BLAS, asked through OpenBLAS's own API.
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "blas" in line and line.split()[-1].startswith("/")})
        for path in paths:
            lib = ctypes.CDLL(path)
            if hasattr(lib, "openblas_get_config"):
                lib.openblas_get_config.restype = ctypes.c_char_p
                lib.openblas_get_corename.restype = ctypes.c_char_p
                return "%s (%s), %d thr" % (lib.openblas_get_config().decode(),
                                            lib.openblas_get_corename().decode(),
                                            lib.openblas_get_num_threads())
        return ", ".join(paths) or "unknown"
    except Exception as e:  # noqa: BLE001
        return "unknown (%s)" % e


# ---------------------------------------------------------------- data

def hash32(k):
    """murmur3's fmix32 of k * 0x9E3779B1 (mod 2^32), vectorised; the same as deepnet_bench.cpp."""
    mask = np.uint64(0xFFFFFFFF)
    x = (np.asarray(k, dtype=np.uint64) * np.uint64(0x9E3779B1)) & mask
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x85EBCA6B)) & mask
    x ^= x >> np.uint64(13)
    x = (x * np.uint64(0xC2B2AE35)) & mask
    x ^= x >> np.uint64(16)
    return x


def synthetic_pixels(n, m, dtype):
    """Row-major (m, n): example j, feature i is (hash(j*n + i) & 255) / 255."""
    k = np.arange(m * n, dtype=np.uint64) & np.uint64(0xFFFFFFFF)
    return ((hash32(k) & np.uint64(255)).astype(np.float64) / 255.0).astype(dtype).reshape(m, n)


def synthetic_labels(m, classes):
    """(m,) labels hash(0x80000000 + j) % classes."""
    return (hash32(np.arange(m, dtype=np.uint64) + np.uint64(0x80000000)) % np.uint64(classes)).astype(np.int64)


def planar():
    """The planar flower set: X (400, 2), y (400,) (the file deepnet embeds)."""
    data = np.loadtxt(os.path.join(REPO, "data", "planar_flower.csv"), delimiter=",", skiprows=1)
    return data[:, :2], data[:, 2]


def _idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def fashion_mnist(part="train"):
    """X (m, 784) float32 in [0, 1] (div255), y (m,) int64."""
    prefix = "train" if part == "train" else "t10k"
    X = _idx(os.path.join(FMNIST_DIR, prefix + "-images-idx3-ubyte.gz"))
    y = _idx(os.path.join(FMNIST_DIR, prefix + "-labels-idx1-ubyte.gz"))
    return (X.reshape(X.shape[0], -1).astype(np.float32) / np.float32(255.0)), y.astype(np.int64)


# ---------------------------------------------------------------- initialisation

def course_init_small(sizes, seed=2, scale=0.01):
    """The course's shallow initialize_parameters: np.random.seed(2), W = randn * 0.01, b = 0."""
    np.random.seed(seed)
    params = {}
    for l in range(1, len(sizes)):
        params["W%d" % l] = np.random.randn(sizes[l], sizes[l - 1]) * scale
        params["b%d" % l] = np.zeros((sizes[l], 1))
    return params


def course_init_deep(sizes, seed=1):
    """The course's initialize_parameters_deep: np.random.seed(1), W = randn / sqrt(n[l-1])."""
    np.random.seed(seed)
    params = {}
    for l in range(1, len(sizes)):
        params["W%d" % l] = np.random.randn(sizes[l], sizes[l - 1]) / np.sqrt(sizes[l - 1])
        params["b%d" % l] = np.zeros((sizes[l], 1))
    return params


def he_init(sizes, seed=1):
    """W = randn * sqrt(2 / n[l-1]), b = 0 (deepnet's he; the draws themselves differ)."""
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(sizes)):
        params["W%d" % l] = rng.standard_normal((sizes[l], sizes[l - 1])) * np.sqrt(2.0 / sizes[l - 1])
        params["b%d" % l] = np.zeros((sizes[l], 1))
    return params


def he_init_torch(model):
    """He initialisation in PyTorch, deepnet's scheme for relu nets: W ~ N(0, 2 / n[l-1])
    (torch.nn.init.kaiming_normal_, fan_in, relu gain), b = 0. The draws differ from deepnet's."""
    import torch
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, torch.nn.Linear):
                torch.nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="relu")
                layer.bias.zero_()
    return model


def glorot_init_torch(model):
    """Glorot's uniform initialisation in PyTorch, as deepnet's glorot: W ~ uniform(-r, r) with
    r = sqrt(6 / (n[l-1] + n[l])) (torch.nn.init.xavier_uniform_, gain 1), b = 0. scikit-learn's
    MLPClassifier draws its weights the same way (its biases too). The draws differ between systems."""
    import torch
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, torch.nn.Linear):
                torch.nn.init.xavier_uniform_(layer.weight)
                layer.bias.zero_()
    return model


def weights_of(sizes):
    return sum(sizes[l] * sizes[l - 1] for l in range(1, len(sizes)))


# ---------------------------------------------------------------- sweeps (scripts/bench --sweep)
# The same points and the same measurement as deepnet_bench's --sweep (bench/deepnet_bench.cpp).

SWEEP_EXAMPLES = 16384  # synthetic examples (784 features, 10 classes); a multiple of every batch size


def sweep_points(kind, quick):
    """[(sizes, batch)]: batch sizes 1, 2, 4, ..., 4096 on 784-256-128-10 (the fmnist-mlp net), or
    hidden widths W = 16, 32, ..., 4096 of 784-W-W-10 at batch 128. Quick: a few of them."""
    if kind == "batch":
        batches = [1, 64, 4096] if quick else [2 ** k for k in range(13)]
        return [([784, 256, 128, 10], b) for b in batches]
    widths = [16, 256] if quick else [2 ** k for k in range(4, 13)]
    return [([784, w, w, 10], 128) for w in widths]


def sweep_measure(run, batch, min_time):
    """run(examples, epochs) trains on the first `examples` examples for `epochs` epochs and
    returns its seconds. One warm-up run of 2 steps, one of 4 steps to estimate a step's time,
    then the measured run: enough steps for min_time seconds (at least 4), as one epoch over
    that many examples, or whole epochs over all SWEEP_EXAMPLES when they are not enough.
    Returns (examples, epochs, seconds) of the measured run."""
    run(2 * batch, 1)
    step = run(4 * batch, 1) / 4
    steps = max(4, int(math.ceil(min_time / max(step, 1e-9))))
    if steps * batch <= SWEEP_EXAMPLES:
        examples, epochs = steps * batch, 1
    else:
        examples, epochs = SWEEP_EXAMPLES, int(math.ceil(steps * batch / SWEEP_EXAMPLES))
    return examples, epochs, run(examples, epochs)


# ---------------------------------------------------------------- output

def now():
    return time.perf_counter()


BLAS_THREADS = None  # set by the peers when their BLAS threads differ from --threads


def peak_rss_mb():
    """This process's peak resident memory so far, in MB (getrusage: ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def over_seeds(args, train_one):
    """Runs train_one(seed) for seeds 1..args.seeds; it returns (seconds, value, final_cost)
    (value: the test accuracy, or the cost where there is no test set). Returns the
    median time, the mean value and the fields that keep every seed's numbers."""
    seeds = list(range(1, args.seeds + 1))
    runs = [train_one(seed) for seed in seeds]
    seconds = [r[0] for r in runs]
    values = [float(r[1]) for r in runs]
    costs = [float(r[2]) for r in runs]
    return statistics.median(seconds), statistics.fmean(values), {
        "seeds": seeds, "seconds_all": seconds, "values": values, "value_min": min(values), "value_max": max(values),
        "final_cost": statistics.fmean(costs), "final_costs": costs}


def emit(workload, case, system, config, dtype, threads, seconds, examples, flops, metric, value, **extra):
    rec = {
        "workload": workload, "case": case, "system": system, "config": config, "dtype": dtype,
        "threads": threads, "blas_threads": BLAS_THREADS or threads, "seconds": seconds, "examples": examples,
        "examples_per_s": examples / seconds if seconds > 0 else 0.0,
        "flops": flops, "gflops": flops / seconds / 1e9 if seconds > 0 else 0.0,
        "metric": metric, "value": float(value), "peak_rss_mb": peak_rss_mb(),
    }
    rec.update(extra)
    print(json.dumps(rec), flush=True)


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)
