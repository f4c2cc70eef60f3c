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
setting); latest.json keeps every run. The ratio is deepnet's throughput over
the best peer's: above 1, deepnet is faster. "deepnet (Python)" is deepnet
too (its Python module, bench/peers/deepnet_python.py): it is never a peer of
deepnet, and its row gets its own ratio over the best peer.
"""
import argparse
import datetime
import json
import os
import platform
import sys

WORKLOAD_ORDER = ["planar-shallow", "deep-fullbatch", "fmnist-mlp", "wide-mlp", "inference"]
SYSTEM_ORDER = ["deepnet", "deepnet (Python)", "numpy", "pytorch", "scikit-learn"]
DEEPNET_SYSTEMS = ("deepnet", "deepnet (Python)")  # deepnet itself, through C++ and through Python
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


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

def fmt_time(rec):
    s = rec["seconds"]
    if rec.get("metric") == "latency_us" or s < 1e-3:
        return "%.1f µs" % (s * 1e6)
    if s < 1:
        return "%.1f ms" % (s * 1e3)
    return "%.2f s" % s


def fmt_rate(x):
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return "%.3g%s ex/s" % (x / scale, unit)
    return "%.3g ex/s" % x


def fmt_result(rec):
    metric, v = rec.get("metric"), rec.get("value")
    if metric == "test_accuracy":
        return "test acc %.4f" % v
    if metric == "final_cost":
        return "cost %.6f" % v
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


def build(records, meta):
    gemm = [r for r in records if r.get("kind") == "gemm"]
    peaks = [r for r in records if r.get("kind") == "gemm_peak"]
    peak = peaks[-1] if peaks else {}
    builds = [r for r in records if r.get("kind") == "deepnet_build"]
    runs = [r for r in records if "workload" in r and "error" not in r and "kind" not in r]
    loads = {(r["workload"], r["system"], str(r["threads"])): r for r in records if r.get("kind") == "load"}
    for r in runs:
        load = loads.get((r["workload"], r["system"], thread_spec(r)))
        if load:
            r["others_cores"] = load["others_cores"]
    errors = [r for r in records if "error" in r]

    best = {}
    for r in runs:
        key = (r["workload"], r["case"], r["system"])
        if key not in best or r["examples_per_s"] > best[key]["examples_per_s"]:
            best[key] = r
    chosen = sorted(best.values(), key=sort_key)
    for r in chosen:
        others = [o for o in runs if (o["workload"], o["case"], o["system"]) == (r["workload"], r["case"], r["system"])
                  and o is not r]
        r["other_threads"] = [{"threads": thread_spec(o), "seconds": o["seconds"], "examples_per_s": o["examples_per_s"],
                               "others_cores": o.get("others_cores")} for o in others]
        if peak:
            r["pct_peak_1core"] = 100.0 * r["gflops"] / peak["sgemm_1"] if peak.get("sgemm_1") else None
            r["pct_peak_all"] = 100.0 * r["gflops"] / peak["sgemm_all"] if peak.get("sgemm_all") else None
    ratios = {}
    for r in chosen:
        if r["system"] not in DEEPNET_SYSTEMS:
            continue
        peers = [p for p in chosen
                 if (p["workload"], p["case"]) == (r["workload"], r["case"]) and p["system"] not in DEEPNET_SYSTEMS]
        if peers:
            top = max(peers, key=lambda p: p["examples_per_s"])
            ratio = r["examples_per_s"] / top["examples_per_s"]
            r["ratio_vs_best_peer"] = ratio
            r["best_peer"] = top["system"]
            key = case_label(r) if r["system"] == "deepnet" else "%s, %s" % (case_label(r), r["system"])
            ratios[key] = {"ratio": ratio, "best_peer": top["system"]}
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
        "errors": errors,
        "all_runs": runs,
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
    lines.append("| workload | system | configuration | time | throughput | accuracy / cost | GFLOP/s "
                 "| %% peak 1 core | %% peak %s cores | deepnet / best peer | others' CPU |" % threads_all)
    lines.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in report["results"]:
        ratio = "%.2f× (vs %s)" % (r["ratio_vs_best_peer"], r["best_peer"]) if "ratio_vs_best_peer" in r else "—"
        others = "%.2f" % r["others_cores"] if r.get("others_cores") is not None else "?"
        lines.append("| %s | %s | %s | %s | %s | %s | %.2f | %s | %s | %s | %s |" % (
            case_label(r), r["system"], r["config"], fmt_time(r), fmt_rate(r["examples_per_s"]), fmt_result(r),
            r["gflops"], fmt_pct(r["gflops"], peak.get("sgemm_1")), fmt_pct(r["gflops"], peak.get("sgemm_all")), ratio,
            others))
    for e in report["errors"]:
        lines.append("| %s | %s | failed: %s | — | — | — | — | — | — | — | — |" % (
            e.get("workload", "?"), e.get("system", "?"), str(e.get("error")).replace("|", "/")))
    lines.append("")
    lines.append("Time: the timed part only (training loop, or forward passes; no data loading). Throughput: examples "
                 "per second (training: examples x epochs or iterations). GFLOP/s from the FLOPs model (training 6 x "
                 "weights per example, inference 2 x weights). Each system's row is its fastest thread setting "
                 "(thr = threads); the ratio is deepnet's throughput over the best peer's (> 1: deepnet faster). "
                 "deepnet (Python): the same library trained through its Python module (DeepNetClassifier.fit, "
                 "timed whole, with the Python layer's checks and its copy of X), compared with the same peers. "
                 "Others' CPU: "
                 "cores used by other processes during that run (/proc/stat less the run's own CPU time); well above 0, "
                 "the run shared the machine and its time is inflated.")
    return "\n".join(lines) + "\n"


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
    p.add_argument("--out", required=True, help="directory for latest.json and latest.md")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--load-start", default="?")
    p.add_argument("--openblas-env", default="", help="OPENBLAS_CORETYPE/L2_SIZE as they were set, if they were")
    p.add_argument("--update-doc", help="a Markdown file to copy the table into, between the bench markers")
    args = p.parse_args()

    try:
        with open("/proc/loadavg") as f:
            load_end = " ".join(f.read().split()[:3])
    except OSError:
        load_end = "?"
    meta = {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "quick": args.quick,
        "machine": {
            "cpu": cpu_model(), "cores": os.cpu_count(), "os": debian_version(),
            "kernel": platform.release(), "python": platform.python_version(), "versions": versions(),
            "load_start": args.load_start, "load_end": load_end, "openblas_env": args.openblas_env,
        },
    }
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
