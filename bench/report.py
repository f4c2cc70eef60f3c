#!/usr/bin/python3
"""Merges the JSON lines of one benchmark run (scripts/bench) into
OUT/latest.json and OUT/latest.md, prints the table, and optionally copies it
into docs/performance.md between the markers

    <!-- bench:begin -->
    <!-- bench:end -->

Input: the raw JSON lines of deepnet_bench, the peers (bench/peers/*.py) and
gemm_peak (bench/gemm_peak.c), one object per line; lines that are not JSON
objects are ignored. Records with an "error" key are runs that failed.

For each workload case (e.g. deep-fullbatch float32) and system, the table
keeps the run with the highest throughput (the system's fastest thread
setting); latest.json keeps every run. deepnet has two kinds of runs: its
training loop alone (deepnet_bench) and the whole `deepnet train` command
(bench/peers/deepnet_cli.py, "mode": "command"), start to exit. The ratio is
deepnet's whole-command throughput over the best peer's training-loop
throughput (above 1, deepnet is faster); the loop-only ratio is a second
column. "deepnet (Python)" is deepnet too (its Python module,
bench/peers/deepnet_python.py): it is never a peer of deepnet, and its row
gets its own ratio over the best peer.

Equal accuracy (issue #14): a deepnet row whose test accuracy (mean over the
seeds) is more than ACCURACY_POINTS percentage points below the best peer's,
or whose final cost is more than COST_RELATIVE above the lowest peer's where
there is no test set, is marked and counts as a loss, whatever its speed.

With --sweep-out DIR it instead turns the sweep records (deepnet_bench
--sweep, torch_mlp.py --sweep) into DIR/sweep-batch.csv, sweep-width.csv
(examples/s of each system's fastest setting per point), sweep.json, and the
pictures sweep-batch.svg, sweep-width.svg drawn by `deepnet plot lines`.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

WORKLOAD_ORDER = ["planar-shallow", "deep-fullbatch", "fmnist-mlp", "wide-mlp", "inference"]
SYSTEM_ORDER = ["deepnet", "deepnet (Python)", "numpy", "pytorch", "scikit-learn"]
DEEPNET_SYSTEMS = ("deepnet", "deepnet (Python)")  # deepnet itself, through C++ and through Python
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
ACCURACY_POINTS = 0.5   # test accuracy: more than this many percentage points below the best peer's is a loss
COST_RELATIVE = 0.01    # final cost (no test set): more than 1% above the lowest peer's is a loss


def read_records(paths):
    records = []
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict):
                    records.append(rec)
    return records


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def debian_version():
    try:
        with open("/etc/debian_version") as f:
            return "Debian " + f.read().strip()
    except OSError:
        return platform.platform()


def versions():
    out = {}
    for name in ("numpy", "torch", "sklearn", "threadpoolctl"):
        try:
            out[name] = __import__(name).__version__
        except Exception as e:  # noqa: BLE001 - a missing peer is reported, not fatal
            out[name] = "unavailable (%s)" % type(e).__name__
    return out


# ---------------------------------------------------------------- formatting

def fmt_seconds(s, latency=False):
    if latency or s < 1e-3:
        return "%.1f µs" % (s * 1e6)
    if s < 1:
        return "%.1f ms" % (s * 1e3)
    return "%.2f s" % s


def fmt_time(rec):
    return fmt_seconds(rec["seconds"], rec.get("metric") == "latency_us")


def fmt_mb(mb):
    if mb is None:
        return "—"
    return "%.2f GB" % (mb / 1024.0) if mb >= 1024 else "%.0f MB" % mb


def fmt_rate(x):
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return "%.3g%s ex/s" % (x / scale, unit)
    return "%.3g ex/s" % x


def standard_error(values):
    """The standard error of the mean of values (0 for fewer than 2)."""
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return (sum((v - mean) ** 2 for v in values) / (len(values) - 1) / len(values)) ** 0.5


def fmt_result(rec):
    """"test acc 0.8643", or with several seeds their mean, its standard error and range:
    "test acc 0.8643 ± 0.0021 (3 seeds: 0.8507-0.8741)"."""
    metric, v = rec.get("metric"), rec.get("value")
    values = rec.get("values") or []
    digits = 4 if metric == "test_accuracy" else 6
    seeds = " (%d seeds: %.*f-%.*f)" % (len(values), digits, min(values), digits, max(values)) if len(values) > 1 else ""
    if metric == "test_accuracy":
        error = " ± %.4f" % standard_error(values) if len(values) > 1 else ""
        return "test acc %.4f%s%s" % (v, error, seeds)
    if metric == "final_cost":
        return "cost %.6f%s" % (v, seeds)
    return "—"


def fmt_pct(gflops, peak):
    return "%.1f%%" % (100.0 * gflops / peak) if peak else "—"


def case_label(rec):
    return "%s (%s)" % (rec["workload"], rec["case"])


def sort_key(rec):
    w = rec.get("workload", "")
    s = rec.get("system", "")
    return (WORKLOAD_ORDER.index(w) if w in WORKLOAD_ORDER else 99, rec.get("case", ""),
            SYSTEM_ORDER.index(s) if s in SYSTEM_ORDER else 99)


def thread_spec(rec):
    """"2", or "1/2" for 1 thread of the system and 2 of its BLAS (the key of the load records)."""
    t, b = rec.get("threads"), rec.get("blas_threads")
    return str(t) if b in (None, t) else "%s/%s" % (t, b)


def is_command(rec):
    return rec.get("mode") == "command"


def load_label(rec):
    """The system name scripts/bench's load records use: "deepnet command" for the whole-command runs."""
    return rec["system"] + (" command" if is_command(rec) else "")


def fastest(runs):
    """{(workload, case, system): the run with the highest throughput}."""
    best = {}
    for r in runs:
        key = (r["workload"], r["case"], r["system"])
        if key not in best or r["examples_per_s"] > best[key]["examples_per_s"]:
            best[key] = r
    # copies: the table's rows take fields from other runs (take_accuracy_from_most_seeds),
    # while latest.json's all_runs keeps every run as it was measured
    return {key: dict(r) for key, r in best.items()}


def other_settings(runs, r):
    return [{"threads": thread_spec(o), "seconds": o["seconds"], "examples_per_s": o["examples_per_s"],
             "others_cores": o.get("others_cores"), "value": o.get("value"), "peak_rss_mb": o.get("peak_rss_mb")}
            for o in runs if (o["workload"], o["case"], o["system"]) == (r["workload"], r["case"], r["system"])
            and thread_spec(o) != thread_spec(r)]


ACCURACY_FIELDS = ("metric", "value", "values", "value_min", "value_max", "seeds", "final_cost", "final_costs")


def take_accuracy_from_most_seeds(rec, runs):
    """A system's accuracy (or cost) from its run with the most seeds: scripts/bench trains fmnist-mlp
    with more seeds at one thread setting (--accuracy-seeds) than at the others, and the fastest
    setting's row may be another. The seeds give the same weights at any thread count."""
    same = [o for o in runs if (o["workload"], o["case"], o["system"], is_command(o)) ==
            (rec["workload"], rec["case"], rec["system"], is_command(rec))]
    source = max(same, key=lambda o: len(o.get("values") or []), default=rec)
    if len(source.get("values") or []) <= len(rec.get("values") or []):
        return  # the row's own run has as many seeds as any (full-batch workloads: none)
    for k in ACCURACY_FIELDS:
        if k in source:
            rec[k] = source[k]
    rec["accuracy_threads"] = thread_spec(source)


def quality_check(mine, peers):
    """Equal accuracy: compares a deepnet row's test accuracy (or final cost) with the best peer's.
    Returns a dict: the peer, the gap, and whether it counts as a loss."""
    metric = mine.get("metric")
    rows = [p for p in peers if p.get("metric") == metric and p.get("value") is not None]
    if metric not in ("test_accuracy", "final_cost") or not rows or mine.get("value") is None:
        return None
    if metric == "test_accuracy":
        top = max(rows, key=lambda p: p["value"])
        gap = 100.0 * (top["value"] - mine["value"])  # percentage points below the best peer
        # the gap's standard error, from each side's seeds (a reading aid; the rule is the 0.5 points)
        gap_error = 100.0 * (standard_error(top.get("values") or []) ** 2 +
                             standard_error(mine.get("values") or []) ** 2) ** 0.5
        return {"metric": metric, "best_peer": top["system"], "best_peer_value": top["value"], "value": mine["value"],
                "gap_points": gap, "gap_error_points": gap_error, "loss": gap > ACCURACY_POINTS}
    top = min(rows, key=lambda p: p["value"])
    excess = (mine["value"] - top["value"]) / abs(top["value"]) if top["value"] else 0.0
    return {"metric": metric, "best_peer": top["system"], "best_peer_value": top["value"], "value": mine["value"],
            "excess_relative": excess, "loss": excess > COST_RELATIVE}


def build(records, meta):
    gemm = [r for r in records if r.get("kind") == "gemm"]
    peaks = [r for r in records if r.get("kind") == "gemm_peak"]
    peak = peaks[-1] if peaks else {}
    builds = [r for r in records if r.get("kind") == "deepnet_build"]
    runs = [r for r in records if "workload" in r and "error" not in r and "kind" not in r]
    loads = {(r["workload"], r.get("case", ""), r["system"], str(r["threads"])): r
             for r in records if r.get("kind") == "load"}
    for r in runs:
        spec = thread_spec(r)
        load = loads.get((r["workload"], r["case"], load_label(r), spec)) or \
            loads.get((r["workload"], "", load_label(r), spec))
        if load:
            r["others_cores"] = load["others_cores"]
    errors = [r for r in records if "error" in r]

    loop_runs = [r for r in runs if not is_command(r)]
    command_runs = [r for r in runs if is_command(r)]
    best_command = fastest(command_runs)
    best = fastest(loop_runs)
    # A deepnet case whose loop run failed still gets its row from the whole command.
    for key, c in best_command.items():
        best.setdefault(key, dict(c, loop_failed=True))
    chosen = sorted(best.values(), key=sort_key)
    for r in list(chosen) + list(best_command.values()):
        take_accuracy_from_most_seeds(r, command_runs if is_command(r) else loop_runs)
    for r in chosen:
        r["other_threads"] = other_settings(loop_runs, r)
        if peak:
            r["pct_peak_1core"] = 100.0 * r["gflops"] / peak["sgemm_1"] if peak.get("sgemm_1") else None
            r["pct_peak_all"] = 100.0 * r["gflops"] / peak["sgemm_all"] if peak.get("sgemm_all") else None
        c = best_command.get((r["workload"], r["case"], r["system"]))
        if c is not None:
            r["whole_command"] = dict(
                {k: c.get(k) for k in ("threads", "seconds", "examples_per_s", "peak_rss_mb", "metric", "value",
                                       "values", "value_min", "value_max", "seeds", "seconds_all", "final_cost",
                                       "command", "config", "others_cores", "accuracy_threads")},
                other_threads=other_settings(command_runs, c))
    ratios = {}
    for r in chosen:
        if r["system"] not in DEEPNET_SYSTEMS:
            continue
        peers = [p for p in chosen
                 if (p["workload"], p["case"]) == (r["workload"], r["case"]) and p["system"] not in DEEPNET_SYSTEMS]
        if not peers:
            continue
        top = max(peers, key=lambda p: p["examples_per_s"])
        loop = None if r.get("loop_failed") else r["examples_per_s"] / top["examples_per_s"]
        whole = r.get("whole_command")
        ratio = whole["examples_per_s"] / top["examples_per_s"] if whole else loop
        r["ratio_vs_best_peer"] = ratio
        r["ratio_loop_vs_best_peer"] = loop
        r["ratio_basis"] = "whole command" if whole else "timed part"
        r["best_peer"] = top["system"]
        # The accuracy the user gets: the whole command's where it ran, else the loop's.
        quality = quality_check(whole if whole else r, peers)
        if quality:
            r["quality"] = quality
        verdict = "loss" if (quality and quality["loss"]) or ratio < 1 else "win"
        r["verdict"] = verdict
        key = case_label(r) if r["system"] == "deepnet" else "%s, %s" % (case_label(r), r["system"])
        ratios[key] = {"ratio": ratio, "ratio_loop": loop, "basis": r["ratio_basis"], "best_peer": top["system"],
                       "quality": quality, "verdict": verdict}
    return {
        "generated": meta["date"],
        "machine": meta["machine"],
        "quick": meta["quick"],
        "gemm_peak": peak,
        "gemm_peak_others_cores": (loads.get(("gemm", "gemm_peak", str(peak.get("threads_all")))) or {}).get("others_cores"),
        "deepnet_build": builds[-1] if builds else {},
        "gemm": gemm,
        "results": chosen,
        "ratios": ratios,
        "rules": {"accuracy_points": ACCURACY_POINTS, "cost_relative": COST_RELATIVE},
        "errors": errors,
        "all_runs": runs,
        "seeds": meta.get("seeds"),
        "accuracy_seeds": meta.get("accuracy_seeds"),
    }


def markdown(report):
    m, peak = report["machine"], report["gemm_peak"]
    threads_all = peak.get("threads_all", m.get("cores"))
    lines = []
    lines.append("Run of %s%s on %s (%s cores, %s, %s)." % (
        report["generated"], " (**--quick**: tiny sizes, not a measurement)" if report["quick"] else "",
        m["cpu"], m["cores"], m["os"], m["kernel"]))
    if peak:
        lines.append("")
        lines.append("Measured GEMM peak (OpenBLAS %s, kernel %s): sgemm %.1f GFLOP/s on 1 core, %.1f GFLOP/s on %s cores; "
                     "dgemm %.1f / %.1f GFLOP/s." % (
                         peak.get("config", "").split()[1] if len(peak.get("config", "").split()) > 1 else "?",
                         peak.get("corename", "?"), peak.get("sgemm_1", 0), peak.get("sgemm_all", 0), threads_all,
                         peak.get("dgemm_1", 0), peak.get("dgemm_all", 0)))
        if report.get("gemm_peak_others_cores") is not None:
            lines[-1] += " Other processes used %.2f cores meanwhile." % report["gemm_peak_others_cores"]
    b = report.get("deepnet_build")
    if b:
        lines.append("")
        # The products' backends on this CPU (deepnet_bench --info): float
        # oneDNN's sgemm, double deepnet's own AVX-512/AVX2 kernel chosen at
        # run time; Eigen's SIMD level concerns only what still runs on Eigen
        # (double products on a CPU with neither, float without oneDNN).
        products = ""
        if b.get("float_gemm") or b.get("double_gemm"):
            products = " Products: float %s, double %s;" % (b.get("float_gemm", "?"), b.get("double_gemm", "?"))
        lines.append("deepnet: CMake preset `%s`.%s Eigen %s (SIMD: %s) for the rest, OpenMP %s, GCC %s." % (
            b.get("preset") or "?", products, b.get("eigen"), b.get("simd"), "on" if b.get("openmp") else "off",
            b.get("compiler")))
    env = m.get("openblas_env")
    if env:
        lines.append("")
        lines.append("OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE were set (%s) and unset for gemm_peak and the peers." % env)
    kernels = sorted({r["blas"] for r in report["results"] if r.get("blas")})
    if kernels:
        lines.append("")
        lines.append("BLAS seen by the peers: " + "; ".join(sorted({k.rsplit(",", 1)[0] for k in kernels})) + ".")
    v = m.get("versions", {})
    lines.append("")
    lines.append("Peers: numpy %s, PyTorch %s, scikit-learn %s (Debian packages). Load average at start %s, at end %s."
                 % (v.get("numpy"), v.get("torch"), v.get("sklearn"), m.get("load_start", "?"), m.get("load_end", "?")))
    lines.append("")
    lines.append("| workload | system | configuration | time (loop) | whole command | throughput | accuracy / cost "
                 "| peak RSS | GFLOP/s | %% peak 1 core | %% peak %s cores | deepnet / best peer | loop only "
                 "| others' CPU |" % threads_all)
    lines.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    losses = []
    for r in report["results"]:
        whole = r.get("whole_command")
        loop_failed = r.get("loop_failed")
        if "ratio_vs_best_peer" in r:
            ratio = "%.2f× (vs %s)" % (r["ratio_vs_best_peer"], r["best_peer"])
            if r.get("verdict") == "loss":
                ratio += " **loss**"
            loop_ratio = "%.2f×" % r["ratio_loop_vs_best_peer"] if r.get("ratio_loop_vs_best_peer") else "—"
        else:
            ratio = loop_ratio = "—"
        result = fmt_result(whole if whole else r)
        quality = r.get("quality")
        if quality and quality["loss"]:
            if quality["metric"] == "test_accuracy":
                why = "%.1f points below %s" % (quality["gap_points"], quality["best_peer"])
                if quality.get("gap_error_points"):
                    why = "%.1f ± %.1f points below %s" % (quality["gap_points"], quality["gap_error_points"],
                                                          quality["best_peer"])
            else:
                why = "%.1f%% above %s" % (100 * quality["excess_relative"], quality["best_peer"])
            result += " ✗ %s" % why
            losses.append("%s (%s): %s %s" % (case_label(r), r["system"],
                                             "accuracy" if quality["metric"] == "test_accuracy" else "cost", why))
        elif r.get("verdict") == "loss":
            losses.append("%s (%s): slower, %.2f×" % (case_label(r), r["system"], r["ratio_vs_best_peer"]))
        command = "%s (%s thr)" % (fmt_seconds(whole["seconds"]), whole["threads"]) if whole else "—"
        others = "%.2f" % r["others_cores"] if r.get("others_cores") is not None else "?"
        rss = whole.get("peak_rss_mb") if whole else r.get("peak_rss_mb")
        if loop_failed:
            lines.append("| %s | %s | %s | failed | %s | — | %s | %s | — | — | — | %s | — | ? |" % (
                case_label(r), r["system"], r["config"], command, result, fmt_mb(rss), ratio))
            continue
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %.2f | %s | %s | %s | %s | %s |" % (
            case_label(r), r["system"], r["config"], fmt_time(r), command, fmt_rate(r["examples_per_s"]), result,
            fmt_mb(rss), r["gflops"], fmt_pct(r["gflops"], peak.get("sgemm_1")),
            fmt_pct(r["gflops"], peak.get("sgemm_all")), ratio, loop_ratio, others))
    for e in report["errors"]:
        lines.append("| %s | %s | failed: %s | — | — | — | — | — | — | — | — | — | — | — |" % (
            e.get("workload", "?") + (" (%s)" % e["case"] if e.get("case") else ""), e.get("system", "?"),
            str(e.get("error")).replace("|", "/")))
    lines.append("")
    lines.append("deepnet rows counted as losses: %s." % ("; ".join(losses) if losses else "none"))
    lines.append("")
    seeds = report.get("seeds")
    accuracy_seeds = report.get("accuracy_seeds") or seeds
    lines.append("Time (loop): the timed part only (training loop, or forward passes; no data loading), the median "
                 "over the seeds. Whole command: deepnet's `deepnet train ...` from start to exit (loading, training, "
                 "final evaluation: the test set scored with the final weights; the training set's figures are the "
                 "last epoch's running ones in mini-batch training, `--train-score auto`, and a pass in full-batch "
                 "training), the median over the seeds, at its fastest thread setting. Throughput: examples "
                 "per second of the timed part (training: examples x epochs or iterations). Accuracy / cost: deepnet's "
                 "from the whole command; the test accuracy on the 10000 test images, or, for the synthetic sets that "
                 "have no test set, the final training cost (full batch: of the last iteration; mini-batch: the mean "
                 "over the last epoch's batches); the mean over %s seeds (1..%s) for wide-mlp and %s (1..%s) for "
                 "fmnist-mlp (its runs at the largest thread count, PyTorch's with 1 thread and a multi-threaded BLAS; the "
                 "other settings' runs, %s seeds, are timed), "
                 "± its standard error, with the "
                 "lowest and highest seed's in brackets (every seed's in latest.json): the last iterate of plain SGD at "
                 "lr 0.1 swings by about ±0.5 points of test accuracy from batch to batch, so a few seeds cannot tell "
                 "systems apart (docs/performance.md); one run for the full-batch workloads, whose weights start from the course's "
                 "initialisation in every system. fmnist-mlp: Glorot's uniform initialisation in every system "
                 "(deepnet's glorot, PyTorch's xavier_uniform_, scikit-learn's only scheme); wide-mlp: He for deepnet "
                 "and PyTorch (kaiming_normal_). Peak RSS: the peak resident memory of the process: "
                 "deepnet's whole command, the peer's Python process (data, library and training). GFLOP/s from the "
                 "FLOPs model (training 6 x weights per example, inference 2 x weights). Each system's row is its "
                 "fastest thread setting (thr = threads). deepnet / best peer: deepnet's whole-command throughput "
                 "over the best peer's training-loop throughput (> 1: deepnet faster; inference and deepnet (Python) "
                 "rows: their timed part); loop only: deepnet's training loop over the same. A deepnet row whose test "
                 "accuracy is more than %.1f points below the best peer's, or whose final cost is more than %.0f%% "
                 "above the lowest peer's, is marked ✗ and counts as a loss, whatever its speed. "
                 "deepnet (Python): the same library trained through its Python module (DeepNetClassifier.fit, "
                 "timed whole, with the Python layer's checks; a float32 X is borrowed, not copied), compared with the same peers. "
                 "Others' CPU: "
                 "cores used by other processes during that run (/proc/stat less the run's own CPU time); well above 0, "
                 "the run shared the machine and its time is inflated."
                 % (seeds or "N", seeds or "N", accuracy_seeds or "N", accuracy_seeds or "N", seeds or "N",
                    ACCURACY_POINTS, 100 * COST_RELATIVE))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- sweeps

SWEEPS = {  # kind: (x key in the records, CSV column, axis label, title)
    "batch": ("batch", "batch_size", "batch size (examples per step)",
              "training examples/s against the batch size: 784-256-128-10, SGD, float32"),
    "width": ("width", "hidden_width", "hidden width W (784-W-W-10)",
              "training examples/s against the hidden width: 784-W-W-10, batch 128, SGD, float32"),
}


def sweep_report(records, meta, out_dir, deepnet):
    """Writes OUT/sweep-{batch,width}.csv (x, then examples/s of each system's fastest setting),
    OUT/sweep.json (every point and setting) and, with `deepnet`, the pictures OUT/sweep-*.svg.
    Prints a Markdown table of the fastest settings."""
    points = [r for r in records if r.get("kind") == "sweep"]
    errors = [r for r in records if "error" in r and str(r.get("workload", "")).startswith("sweep-")]
    loads = {(r["workload"], r["system"], str(r["threads"])): r for r in records if r.get("kind") == "load"}
    for r in points:  # how many cores other processes used during the run that made the point
        t = str(r["threads"])  # "2", or "1/2"; scripts/bench names PyTorch's equal settings "2/2"
        load = loads.get(("sweep-" + r.get("sweep", ""), r["system"], t)) or \
            loads.get(("sweep-" + r.get("sweep", ""), r["system"], "%s/%s" % (t, t)))
        if load:
            r["others_cores"] = load["others_cores"]
    os.makedirs(out_dir, exist_ok=True)
    summary = {"generated": meta["date"], "quick": meta["quick"], "machine": meta["machine"], "sweeps": {},
               "errors": errors, "all_points": points}
    status = 0
    for kind, (key, column, x_label, title) in SWEEPS.items():
        mine = [r for r in points if r.get("sweep") == kind]
        best = {}
        for r in mine:
            k = (r["system"], r[key])
            if k not in best or r["examples_per_s"] > best[k]["examples_per_s"]:
                best[k] = r
        systems = [s for s in ("deepnet", "pytorch") if any(k[0] == s for k in best)]
        xs = sorted({k[1] for k in best})
        summary["sweeps"][kind] = [{"system": r["system"], column: r[key], "examples_per_s": r["examples_per_s"],
                                    "threads": r["threads"], "sizes": r.get("sizes"), "batch": r.get("batch"),
                                    "others_cores": r.get("others_cores")}
                                   for r in sorted(best.values(), key=lambda r: (r["system"], r[key]))]
        csv = os.path.join(out_dir, "sweep-%s.csv" % kind)
        with open(csv, "w") as f:
            f.write(",".join([column] + systems) + "\n")
            for x in xs:
                cells = ["%.6g" % best[(s, x)]["examples_per_s"] if (s, x) in best else "" for s in systems]
                f.write(",".join([str(x)] + cells) + "\n")
        print("| %s | %s |" % (column, " | ".join("%s ex/s (threads)" % s for s in systems)))
        print("| ---: |%s" % (" ---: |" * len(systems)))
        for x in xs:
            print("| %s | %s |" % (x, " | ".join(
                "%s (%s)" % (fmt_rate(best[(s, x)]["examples_per_s"]).replace(" ex/s", ""), best[(s, x)]["threads"])
                if (s, x) in best else "—" for s in systems)))
        print()
        if deepnet and xs and systems:
            svg = os.path.join(out_dir, "sweep-%s.svg" % kind)
            cmd = [deepnet, "plot", "lines", "--data", csv, "--x", column, "--log-x", "--log-y",
                   "--x-label", x_label, "--y-label", "training examples/s", "--title",
                   title + (" (--quick: not a measurement)" if meta["quick"] else ""), "-o", svg]
            rc = subprocess.call(cmd)
            if rc != 0:
                print("report.py: %s failed (exit %d)" % (" ".join(cmd), rc), file=sys.stderr)
                status = 1
    with open(os.path.join(out_dir, "sweep.json"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    for e in errors:
        print("report.py: sweep run failed: %s %s %s thr: %s" % (e.get("workload"), e.get("system"), e.get("threads"),
                                                                 e.get("error")), file=sys.stderr)
    return status


def update_doc(path, md):
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        print("report.py: %s has no %s ... %s markers; not updated" % (path, BEGIN, END), file=sys.stderr)
        return
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(head + BEGIN + "\n" + md + END + tail)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", help="files of JSON lines")
    p.add_argument("--out", help="directory for latest.json and latest.md (required without --sweep-out)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--load-start", default="?")
    p.add_argument("--openblas-env", default="", help="OPENBLAS_CORETYPE/L2_SIZE as they were set, if they were")
    p.add_argument("--update-doc", help="a Markdown file to copy the table into, between the bench markers")
    p.add_argument("--seeds", type=int, help="the seeds of the mini-batch workloads (scripts/bench --seeds)")
    p.add_argument("--accuracy-seeds", type=int, help="fmnist-mlp's seeds at the largest thread count "
                   "(scripts/bench --accuracy-seeds)")
    p.add_argument("--sweep-out", help="write the sweep's CSV files, JSON and pictures here instead of the table")
    p.add_argument("--deepnet", help="the deepnet program that draws the sweep's pictures (deepnet plot lines)")
    args = p.parse_args()

    try:
        with open("/proc/loadavg") as f:
            load_end = " ".join(f.read().split()[:3])
    except OSError:
        load_end = "?"
    meta = {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "quick": args.quick,
        "seeds": args.seeds,
        "accuracy_seeds": args.accuracy_seeds,
        "machine": {
            "cpu": cpu_model(), "cores": os.cpu_count(), "os": debian_version(),
            "kernel": platform.release(), "python": platform.python_version(), "versions": versions(),
            "load_start": args.load_start, "load_end": load_end, "openblas_env": args.openblas_env,
        },
    }
    if args.sweep_out:
        return sweep_report(read_records(args.inputs), meta, args.sweep_out, args.deepnet)
    if not args.out:
        p.error("--out is required (or --sweep-out)")
    report = build(read_records(args.inputs), meta)
    md = markdown(report)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(md)
    if args.update_doc:
        update_doc(args.update_doc, md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
