#!/usr/bin/env python3
"""deepnet export --onnx against a real ONNX runtime (ctest Onnx.*).

    onnx_test.py DEEPNET WORK_DIR ONNX_NODE_DIR CASE

DEEPNET is the real binary, WORK_DIR a scratch folder, ONNX_NODE_DIR the folder
whose node_modules holds onnxruntime-node (scripts/onnx-runtime installs it).

Cases:
  export    trains small models with the binary for every hidden activation
            (sigmoid, tanh, relu, leaky_relu with a slope, linear), every output
            kind (sigmoid binary, softmax multi-class, linear regression), with
            and without normalisation, float32 and float64; exports each with
            `deepnet export --onnx`, checks it with Debian's python3-onnx
            (onnx.checker.check_model(full_check=True)), runs it in
            onnxruntime-node on batch 1 and batch 1000, and compares
            probabilities, labels and regression values with `deepnet predict
            --proba` (1e-5 for float32). Then `deepnet import --onnx` of each
            export must predict exactly what the original model predicts.
  foreign   graphs written by onnx.helper in the common variants (MatMul + Add,
            Gemm with transB = 0, alpha/beta, a scalar Div): deepnet imports them
            and predicts what onnxruntime computes; graphs of other shapes are
            refused with one line naming the file and the first unsupported node.

Without python3-onnx, numpy, node or onnxruntime-node the test says what is
missing and exits 77 (ctest SKIP_RETURN_CODE), unless DEEPNET_REQUIRE_ONNX=1
(.ci/run sets it), which makes a missing piece a failure.
"""
import csv
import io
import json
import os
import shutil
import subprocess
import sys

SKIP = 77


def unavailable(what):
    if os.environ.get("DEEPNET_REQUIRE_ONNX") == "1":
        print(f"FAIL: {what}, and DEEPNET_REQUIRE_ONNX=1 requires the ONNX checks "
              "(scripts/deps.sh installs python3-onnx and node, scripts/onnx-runtime onnxruntime-node)")
        sys.exit(1)
    print(f"SKIP: {what}; the ONNX checks need python3-onnx, numpy, node and onnxruntime-node "
          "(scripts/onnx-runtime installs it into the build folder)")
    sys.exit(SKIP)


if len(sys.argv) != 5:
    print(__doc__)
    sys.exit(2)
DEEPNET, WORK, NODE_DIR, CASE = sys.argv[1:]
HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import numpy as np
except ImportError:
    unavailable(f"{sys.executable} has no numpy")
try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    unavailable(f"{sys.executable} has no onnx module (Debian package python3-onnx)")
NODE = shutil.which("node")
if not NODE:
    unavailable("no node on PATH (Debian package nodejs)")
if not os.path.isfile(os.path.join(NODE_DIR, "node_modules", "onnxruntime-node", "package.json")):
    unavailable(f"no onnxruntime-node in {NODE_DIR}/node_modules")

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)
    return condition


def run(*args, expect=0):
    r = subprocess.run([DEEPNET, *args], capture_output=True, text=True)
    if expect is not None and r.returncode != expect:
        raise SystemExit(f"FAIL: deepnet {' '.join(args)} exited {r.returncode} (expected {expect}):\n"
                         f"{r.stdout}{r.stderr}")
    return r


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in rows:
            w.writerow([v if isinstance(v, str) else repr(float(v)) for v in row])


def predict(model, data):
    """deepnet predict --proba: (labels as text, probability columns as an (m, K) array, header)."""
    out = run("predict", "--model", model, "--data", data, "--proba").stdout
    rows = list(csv.reader(io.StringIO(out)))
    header, body = rows[0], rows[1:]
    labels = [r[0] for r in body]
    proba = np.array([[float(v) for v in r[1:]] for r in body]) if len(header) > 1 else None
    return labels, proba, header, out


def run_onnx(jobs):
    """Each job {"model", "float64", "rows"} in onnxruntime-node; returns the outputs per job."""
    jobs_path = os.path.join(WORK, "jobs.json")
    results_path = os.path.join(WORK, "results.json")
    for job in jobs:
        job["columns"] = len(job["rows"][0])
        job["rows"] = [[float(v) for v in row] for row in job["rows"]]
    with open(jobs_path, "w") as f:
        json.dump(jobs, f)
    r = subprocess.run([NODE, os.path.join(HERE, "run_onnx.js"), NODE_DIR, jobs_path, results_path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: node run_onnx.js exited {r.returncode}:\n{r.stdout}{r.stderr}")
    with open(results_path) as f:
        results = json.load(f)
    out = []
    for job, result in zip(jobs, results):
        if "error" in result:
            raise SystemExit(f"FAIL: onnxruntime-node could not run {job['model']}: {result['error']}")
        out.append({name: (np.array(v["data"]).reshape(v["dims"]) if v["type"] != "string"
                           else list(v["data"])) for name, v in result["outputs"].items()})
    return out


# ---------------------------------------------------------------- data

rng = np.random.default_rng(16)
M = 1000
FEATURES = ["width", "height cm", "depth", "weight, kg", "age"]
OFFSETS = np.array([0.0, 5.0, -2.0, 10.0, 1.0])
SCALES = np.array([1.0, 3.0, 0.5, 2.0, 1.0])


def features(m):
    # Values a float32 input holds exactly, so that deepnet (reading the CSV as
    # double) and onnxruntime (a float32 tensor) see the same numbers.
    return (rng.normal(size=(m, len(FEATURES))) * SCALES + OFFSETS).astype(np.float32).astype(np.float64)


X = features(M)
Z = (X - OFFSETS) / SCALES
score = Z[:, 0] - 0.8 * Z[:, 1] + 0.5 * Z[:, 2] * Z[:, 3]
DATASETS = {
    "binary": (["no", "yes"], np.where(score > 0, "yes", "no")),
    # A class name with a comma: predict quotes it, the ONNX label is the plain string.
    "multi": (["blue", "green, light", "red"],
              np.array(["blue", "green, light", "red"])[np.digitize(score, [-0.7, 0.7])]),
    "regress": (None, 3.0 * Z[:, 0] - 2.0 * np.tanh(Z[:, 1]) + 0.1 * Z[:, 4] + 7.0),
}
os.makedirs(WORK, exist_ok=True)
FEATURES_CSV = os.path.join(WORK, "features.csv")
write_csv(FEATURES_CSV, FEATURES, X)
ONE_CSV = os.path.join(WORK, "one.csv")
write_csv(ONE_CSV, FEATURES, X[:1])
for kind, (_, y) in DATASETS.items():
    write_csv(os.path.join(WORK, f"{kind}.csv"), FEATURES + ["target"],
              [list(x) + [t if isinstance(t, str) else float(t)] for x, t in zip(X, y)])


def check_graph(path, name, float64, kind, class_names, normalized):
    m = onnx.load(path)
    try:
        onnx.checker.check_model(m, full_check=True)
    except Exception as e:  # onnx.checker.ValidationError, onnx.shape_inference errors
        check(False, f"{name}: onnx.checker.check_model(full_check=True): {e}")
    check(m.ir_version == 8, f"{name}: ir_version {m.ir_version}, expected 8")
    opsets = {o.domain: o.version for o in m.opset_import}
    check(opsets.get("", 0) == 13, f"{name}: opset {opsets}, expected 13")
    g = m.graph
    check([i.name for i in g.input] == ["input"], f"{name}: inputs {[i.name for i in g.input]}")
    dims = g.input[0].type.tensor_type.shape.dim
    check(len(dims) == 2 and dims[0].dim_param and dims[1].dim_value == len(FEATURES),
          f"{name}: input shape {dims}, expected (batch, {len(FEATURES)})")
    elem = TensorProto.DOUBLE if float64 else TensorProto.FLOAT
    check(g.input[0].type.tensor_type.elem_type == elem, f"{name}: input element type")
    for t in g.initializer:
        if t.data_type != TensorProto.STRING:
            check(t.data_type == elem, f"{name}: initializer {t.name} of type {t.data_type}, expected {elem}")
    outputs = [o.name for o in g.output]
    expected = ["predictions"] if kind == "regress" else ["probabilities", "label"]
    check(outputs == expected, f"{name}: outputs {outputs}, expected {expected}")
    ops = [n.op_type for n in g.node]
    check(("Div" in ops) == normalized, f"{name}: normalisation nodes {ops}")
    meta = {p.key: p.value for p in m.metadata_props}
    check(json.loads(meta.get("feature_names", "null")) == FEATURES, f"{name}: metadata feature_names {meta}")
    if class_names:
        check(json.loads(meta.get("classes", "null")) == class_names, f"{name}: metadata classes {meta}")


# ---------------------------------------------------------------- export: every activation and output

def case_export():
    hidden = [("sigmoid", []), ("tanh", []), ("relu", []), ("leaky_relu", ["--leaky-slope", "0.2"]),
              ("linear", [])]
    models = []
    for kind, (class_names, _) in DATASETS.items():
        for activation, extra in hidden:
            for normalize in ["none", "standard"]:
                for dtype in ["float32", "float64"]:
                    # minmax too: the float64 models normalise with it.
                    norm = normalize if normalize == "none" or dtype == "float32" else "minmax"
                    name = f"{kind}-{activation}-{norm}-{dtype}"
                    model = os.path.join(WORK, name + ".dnn")
                    args = ["train", "--data", os.path.join(WORK, f"{kind}.csv"), "--label-column", "target",
                            "--layers", "7,5", "--hidden-activation", activation, *extra, "--epochs", "8",
                            "--batch-size", "64", "--lr", "0.01", "--optimizer", "adam", "--normalize", norm,
                            "--dtype", dtype, "--seed", "3", "--out", model, "--quiet"]
                    if kind == "regress":
                        args += ["--task", "regress", "--scale-target", "yes" if dtype == "float32" else "no"]
                    run(*args)
                    onnx_path = os.path.join(WORK, name + ".onnx")
                    r = run("export", "--model", model, "--onnx", onnx_path)
                    said = f"normalisation {norm} as Sub/Div (not folded)" if norm != "none" else "no normalisation"
                    check(said in r.stdout and onnx_path in r.stdout, f"{name}: export said {r.stdout!r}")
                    models.append((name, kind, class_names, norm != "none", dtype == "float64", model, onnx_path))
    print(f"trained and exported {len(models)} models")

    jobs = []
    for name, kind, class_names, normalized, float64, model, onnx_path in models:
        check_graph(onnx_path, name, float64, kind, class_names, normalized)
        jobs.append({"model": onnx_path, "float64": float64, "rows": X.tolist()})
        jobs.append({"model": onnx_path, "float64": float64, "rows": X[:1].tolist()})
    results = run_onnx(jobs)

    near_ties = 0
    for index, (name, kind, class_names, normalized, float64, model, onnx_path) in enumerate(models):
        tol = 1e-6 if float64 else 1e-5
        for batch, data, result in [(M, FEATURES_CSV, results[2 * index]), (1, ONE_CSV, results[2 * index + 1])]:
            labels, proba, header, text = predict(model, data)
            where = f"{name}, batch {batch}"
            if kind == "regress":
                got = result["predictions"]
                want = np.array([float(v) for v in labels])
                check(got.shape == (batch, 1), f"{where}: predictions shape {got.shape}")
                err = np.max(np.abs(got[:, 0] - want) / np.maximum(1.0, np.abs(want)))
                check(err <= tol, f"{where}: predictions differ from deepnet predict by {err:.3g} (relative)")
                continue
            got = result["probabilities"]
            check(header[1:] == [f"proba_{c}" for c in class_names], f"{where}: predict header {header}")
            check(got.shape == proba.shape, f"{where}: probabilities shape {got.shape}, predict {proba.shape}")
            if got.shape != proba.shape:
                continue
            err = np.max(np.abs(got - proba))
            check(err <= tol, f"{where}: probabilities differ from deepnet predict --proba by {err:.3g} (> {tol})")
            # Labels: equal, but for examples whose two best classes are within the tolerance.
            top = np.sort(proba, axis=1)
            clear = top[:, -1] - top[:, -2] > 2 * tol
            near_ties += int(np.sum(~clear))
            differ = [j for j in range(batch) if clear[j] and result["label"][j] != labels[j]]
            check(not differ, f"{where}: ONNX labels differ from predict's at examples {differ[:5]}")
            check(all(label in class_names for label in result["label"]), f"{where}: labels {result['label'][:5]}")
        # Round trip: the imported graph predicts what the original model predicts, to the printed digit.
        back = os.path.join(WORK, name + ".back.dnn")
        run("import", "--onnx", onnx_path, "--out", back)
        check(predict(back, FEATURES_CSV)[3] == predict(model, FEATURES_CSV)[3],
              f"{name}: deepnet import --onnx of the export predicts differently from the original model")
        summary = run("summary", "--model", back).stdout
        check(all(f in summary for f in ["width", "weight, kg"]), f"{name}: imported model lost its feature names")
    check(near_ties < 10, f"{near_ties} near-tie examples: the data makes the label comparison weak")
    if not failures:
        print(f"{len(models)} models: checker passed; onnxruntime-node matches deepnet predict --proba on batch 1 "
              f"and {M}; import --onnx gives the same predictions")


# ---------------------------------------------------------------- foreign graphs

def tensor(name, array, dtype):
    return numpy_helper.from_array(np.asarray(array, dtype=dtype), name)


def foreign_model(nodes, initializers, outputs, float64=False, n0=5, opset=13):
    elem = TensorProto.DOUBLE if float64 else TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "foreign", [helper.make_tensor_value_info("x", elem, ["N", n0])],
        [helper.make_tensor_value_info(name, elem, ["N", None])
         for name in outputs], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="onnx.helper")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def case_foreign():
    r = np.random.default_rng(7)
    f32, f64 = np.float32, np.float64
    W1, b1 = r.normal(size=(5, 6)), r.normal(size=6)
    W2, b2 = r.normal(size=(6, 3)), r.normal(size=3)
    mu, sigma = OFFSETS, SCALES
    graphs = {
        # Keras/TF style: MatMul (in, out) + Add, Relu, MatMul + Add, Softmax; normalisation as Sub and Div.
        "matmul-add": (foreign_model(
            [helper.make_node("Sub", ["x", "mu"], ["xc"]), helper.make_node("Div", ["xc", "sigma"], ["xn"]),
             helper.make_node("MatMul", ["xn", "W1"], ["h"]), helper.make_node("Add", ["h", "b1"], ["z1"]),
             helper.make_node("Relu", ["z1"], ["a1"]),
             helper.make_node("MatMul", ["a1", "W2"], ["h2"]), helper.make_node("Add", ["b2", "h2"], ["z2"]),
             helper.make_node("Softmax", ["z2"], ["p"], axis=-1)],
            [tensor("mu", mu, f32), tensor("sigma", sigma, f32), tensor("W1", W1, f32), tensor("b1", b1, f32),
             tensor("W2", W2, f32), tensor("b2", b2, f32)], ["p"]), False),
        # Gemm with transB = 0 (W as (in, out)), alpha and beta, Tanh, a scalar Div, double.
        "gemm-transb0": (foreign_model(
            [helper.make_node("Div", ["x", "ten"], ["xn"]),
             helper.make_node("Gemm", ["xn", "W1", "b1"], ["z1"], alpha=0.5, beta=2.0),
             helper.make_node("Tanh", ["z1"], ["a1"]),
             helper.make_node("Gemm", ["a1", "W2t", "b2"], ["z2"], transB=1),
             helper.make_node("Identity", ["z2"], ["y"])],
            [tensor("ten", [10.0], f64), tensor("W1", W1, f64), tensor("b1", b1, f64),
             tensor("W2t", W2.T, f64), tensor("b2", b2, f64)], ["y"], float64=True), True),
    }
    jobs, imported = [], []
    for name, (model, float64) in graphs.items():
        path = os.path.join(WORK, f"foreign-{name}.onnx")
        onnx.save(model, path)
        back = os.path.join(WORK, f"foreign-{name}.dnn")
        run("import", "--onnx", path, "--out", back)
        jobs.append({"model": path, "float64": float64, "rows": X.tolist()})
        imported.append((name, back))
    results = run_onnx(jobs)
    for (name, back), result in zip(imported, results):
        labels, proba, header, _ = predict(back, FEATURES_CSV)
        want = result[next(iter(result))]
        got = proba if proba is not None else np.array([[float(v)] for v in labels])
        if want.shape[1] != got.shape[1]:  # a regression model's predict prints the first output only
            want = want[:, :1]
        err = np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))
        check(err <= 1e-5, f"foreign {name}: deepnet predict after import differs from onnxruntime by {err:.3g}")

    # Refused: one line naming the file and the first unsupported node; no model file written.
    refused = {
        "sqrt": ([helper.make_node("MatMul", ["x", "W1"], ["h"]), helper.make_node("Add", ["h", "b1"], ["z1"]),
                  helper.make_node("Sqrt", ["z1"], ["s"], name="root"), helper.make_node("MatMul", ["s", "W2"], ["y"])],
                 ["y"], "node 2 (Sqrt 'root')"),
        "relu-output": ([helper.make_node("Gemm", ["x", "W1", "b1"], ["z1"], name="dense"),
                         helper.make_node("Relu", ["z1"], ["y"], name="last_relu")], ["y"],
                        "node 1 (Relu 'last_relu')"),
        "transA": ([helper.make_node("Gemm", ["x", "W1", "b1"], ["z1"], name="g", transA=1)], ["z1"],
                   "node 0 (Gemm 'g'): transA is 1"),
    }
    for name, (nodes, outputs, expected) in refused.items():
        model = foreign_model(nodes, [tensor("W1", W1, f32), tensor("b1", b1, f32), tensor("W2", W2, f32)],
                              outputs) if name != "transA" else None
        if model is None:  # transA = 1 fails the checker's shape inference: build it without the check
            graph = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 5])],
                                      [helper.make_tensor_value_info("z1", TensorProto.FLOAT, ["N", None])],
                                      [tensor("W1", W1, f32), tensor("b1", b1, f32)])
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        path = os.path.join(WORK, f"refused-{name}.onnx")
        onnx.save(model, path)
        out = os.path.join(WORK, f"refused-{name}.dnn")
        if os.path.exists(out):
            os.remove(out)
        r = run("import", "--onnx", path, "--out", out, expect=None)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 3, f"refused {name}: exit {r.returncode}, expected 3 ({r.stderr.strip()})")
        check(len(lines) == 1 and path in lines[0] and expected in lines[0],
              f"refused {name}: message {r.stderr.strip()!r}, expected one line naming {path} and {expected!r}")
        check(not os.path.exists(out), f"refused {name}: a model file was written")
    # Graphs whose label or tensors deepnet would misread: refused, not imported.
    names = helper.make_tensor("names", TensorProto.STRING, [3], [b"a", b"b", b"c"])
    head = [helper.make_node("Gemm", ["x", "W1", "b1"], ["z1"]), helper.make_node("Relu", ["z1"], ["a1"]),
            helper.make_node("Gemm", ["a1", "W2", "b2"], ["z2"]), helper.make_node("Softmax", ["z2"], ["p"], axis=1)]
    inits = [tensor("W1", W1, f32), tensor("b1", b1, f32), tensor("W2", W2, f32), tensor("b2", b2, f32), names]
    mixed = tensor("b1", b1, f32)  # two values in raw_data, the rest in float_data: onnx.proto allows one of them
    mixed.raw_data = np.asarray(b1[:2], dtype=f32).tobytes()
    del mixed.float_data[:]
    mixed.float_data.extend(np.asarray(b1[2:], dtype=f32).tolist())
    misread = {
        "argmax-axis0": (head + [helper.make_node("ArgMax", ["p"], ["i"], name="am", axis=0, keepdims=0),
                                 helper.make_node("Gather", ["names", "i"], ["label"])], inits,
                         "node 4 (ArgMax 'am'): axis is 0"),
        "argmax-last": (head + [helper.make_node("ArgMax", ["p"], ["i"], name="am", axis=1, keepdims=0,
                                                 select_last_index=1),
                                helper.make_node("Gather", ["names", "i"], ["label"])], inits,
                        "node 4 (ArgMax 'am'): select_last_index"),
        "raw-and-typed": (head, [inits[0], mixed, inits[2], inits[3]], "raw_data and in a typed field"),
        # One sigmoid unit: the ArgMax of P(class 1) alone is always 0; deepnet's ArgMax is over Concat(1 - p, p).
        "argmax-one-column": ([helper.make_node("Gemm", ["x", "w", "c"], ["z"]), helper.make_node("Sigmoid", ["z"], ["p"]),
                               helper.make_node("ArgMax", ["p"], ["i"], name="am", axis=1, keepdims=0),
                               helper.make_node("Gather", ["names2", "i"], ["label"])],
                              [tensor("w", W1[:, :1], f32), tensor("c", b1[:1], f32),
                               helper.make_tensor("names2", TensorProto.STRING, [2], [b"no", b"yes"])],
                              "node 2 (ArgMax 'am'): takes the ArgMax of one probability column"),
    }
    for name, (nodes, initializers, expected) in misread.items():
        outputs = [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["N", 3])]
        if any(n.op_type == "Gather" for n in nodes):
            outputs.append(helper.make_tensor_value_info("label", TensorProto.STRING, None))
        graph = helper.make_graph(nodes, "misread", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 5])],
                                  outputs, initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        path = os.path.join(WORK, f"misread-{name}.onnx")
        onnx.save(model, path)
        out = os.path.join(WORK, f"misread-{name}.dnn")
        r = run("import", "--onnx", path, "--out", out, expect=None)
        check(r.returncode == 3 and r.stderr.count("\n") == 1 and path in r.stderr and expected in r.stderr,
              f"misread {name}: exit {r.returncode}, {r.stderr!r}, expected one line with {expected!r}")
        check(not os.path.exists(out), f"misread {name}: a model file was written")
    # Not ONNX at all: a model file, and cut-off ONNX bytes.
    cut = os.path.join(WORK, "cut.onnx")
    with open(os.path.join(WORK, "foreign-matmul-add.onnx"), "rb") as f:
        data = f.read()
    with open(cut, "wb") as f:
        f.write(data[: len(data) // 2])
    for path in [cut, imported[0][1]]:
        r = run("import", "--onnx", path, "--out", os.path.join(WORK, "never.dnn"), expect=None)
        check(r.returncode == 3 and r.stderr.count("\n") == 1 and path in r.stderr,
              f"import --onnx {path}: exit {r.returncode}, {r.stderr!r}")
    if not failures:
        print("foreign graphs: MatMul + Add, Gemm transB 0 with alpha/beta import and match onnxruntime; "
              "other graphs are refused naming the node")


{"export": case_export, "foreign": case_foreign}[CASE]()
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
