#!/usr/bin/env bash
# Regenerates the seed corpora in fuzz/corpus/ (see fuzz/corpus/README.md).
# Usage: fuzz/make_corpus.sh [DEEPNET_BINARY]   (default: build/release/deepnet)
# Needs Debian's /usr/bin/python3 with numpy and h5py (python3-numpy, python3-h5py).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
deepnet=${1:-build/release/deepnet}
python=/usr/bin/python3
[ -x "$deepnet" ] || { echo "make_corpus: no deepnet binary at $deepnet (build one, or pass its path)" >&2; exit 1; }
out=fuzz/corpus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in csv idx npy npz hdf5 model checkpoint onnx; do rm -rf "${out:?}/$t"; mkdir -p "$out/$t"; done

# ---- CSV: small valid files in the shapes the reader handles, and broken ones
c=$out/csv
head -6 data/iris.csv > "$c/iris-head.csv"
head -6 data/planar_flower.csv > "$c/planar-head.csv"
head -4 data/wine_data.csv > "$c/wine-head.csv"
printf 'a;b;label\n1,5;2;cat\n3;4;dog\n' > "$c/semicolon-named.csv"
printf 'a\tb\ty\n1\t2\t0\n3\t4\t1\n' > "$c/tab.tsv"
printf '\xef\xbb\xbfx1,x2,y\r\n1,2,0\r\n3,4,1\r\n' > "$c/bom-crlf.csv"
printf '"x, one","x ""two""",y\n"1",2,"a"\n3,"4",b\n\n5,6,a\n' > "$c/quoted.csv"
printf 'x,w,y\n1,0.5,0\n2,1.5,1\n3,2,0\n' > "$c/weights.csv"
printf '1,2,3\n4,5,6\n' > "$c/no-header.csv"
printf 'x,y\n1e308,-0.5\n+2,1E-5\n-inf,3\n' > "$c/numbers.csv"
printf 'x,y\n1,2\n3\n' > "$c/bad-ragged.csv"
printf 'x,y\n"1,2\n' > "$c/bad-unclosed-quote.csv"
printf 'x,y\n1,nan\n' > "$c/bad-nan.csv"
printf 'x,y\n1,\n' > "$c/bad-empty-label.csv"
printf 'x1,x2,y\n1,2,0\n3,4,1\n' | gzip -9n > "$c/gzip.csv.gz"
printf '5.1,3.5,1.4,0.2,Iris-setosa\n4.9,3.0,1.4,0.2,Iris-setosa\n7.0,3.2,4.7,1.4,Iris-versicolor\n' > "$c/uci-no-header.csv"
printf ',0,1,2\n0,0.5,1.5,0\n1,2.5,3.5,1\n2,4.5,5.5,NA\n' > "$c/pandas-index.csv"
printf '"","a","Species"\n"1",0.5,"yes"\n"2",1.5,"Yes"\n"3",2.5,NA\n' > "$c/r-write-csv.csv"
printf '5.000000000000000000e-01 1.500000000000000000e+00 0.000000000000000000e+00\n  2.5   3.5\t1\n' > "$c/savetxt.txt"
printf 'a,b,y\r1,2,0\r3,4,1\r' > "$c/cr-only.csv"
printf '\xff\xfea\0\t\0y\0\r\0\n\0001\0\t\0\x3d\xd8\x00\xde\r\0\n\0' > "$c/utf16le.txt"
printf 'a,b,a,y\n1,2,3,0\n' > "$c/bad-repeated-names.csv"

# ---- IDX: the test fixtures, and truncated / corrupt headers
cp tests/data/idx/* "$out/idx/"
head -c 20 tests/data/idx/images-idx3-ubyte > "$out/idx/bad-truncated"
printf '\x00\x00\x0d\x02\xff\xff\xff\xff\xff\xff\xff\xff' > "$out/idx/bad-huge-dims"
printf '\x00\x00\x07\x01\x00\x00\x00\x01\x00' > "$out/idx/bad-type"

# ---- NPY and NPZ: the test fixtures, deepnet's own NPZ, and broken ones
cp tests/data/npy/*.npy "$out/npy/"
head -c 100 tests/data/npy/f8_c_2d.npy > "$out/npy/bad-truncated.npy"
"$python" - "$out/npy" <<'PY'
import sys
d = sys.argv[1]
def npy(name, header, data=b"", version=(1, 0)):
    h = header.encode()
    length = len(h).to_bytes(2 if version[0] == 1 else 4, "little")
    open(f"{d}/{name}", "wb").write(b"\x93NUMPY" + bytes(version) + length + h + data)
npy("bad-descr.npy", "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }\n", b"\0" * 16)
npy("bad-negative-shape.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }\n")
npy("bad-overflow-shape.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }\n")
npy("long-2d.npy", "{'descr': '>u8', 'fortran_order': True, 'shape': (2L, 1), }\n", bytes(range(16)))
PY
cp tests/data/npy/*.npz tests/data/course_params/*.npz "$out/npz/"

# ---- models and checkpoints, written by deepnet itself
printf 'x1,x2,y\n' > "$work/reg.csv"
for k in 1 2 3 4 5 6 7 8; do printf '%s,%s,%s\n' "$k" "$((k * 3 % 5))" "$k.25" >> "$work/reg.csv"; done
(head -1 data/iris.csv; sed -n '2,11p;52,61p;102,111p' data/iris.csv) > "$work/iris.csv"
train() { "$deepnet" train --quiet --seed 1 "$@" >/dev/null; }
train --data "$work/iris.csv" --layers "" --iterations 5 --out "$out/model/logreg-softmax-f32.model"
train --data data/planar_flower.csv --layers 3 --hidden-activation tanh --iterations 5 --out "$out/model/planar-sigmoid-f32.model"
train --data "$work/iris.csv" --layers 4,3 --hidden-activation relu,leaky_relu --dtype float64 --normalize standard \
      --iterations 5 --out "$out/model/iris-deep-f64-standard.model"
train --data "$work/reg.csv" --layers 2 --hidden-activation sigmoid --normalize minmax --iterations 5 \
      --out "$out/model/regression-linear.model"
"$deepnet" export --model "$out/model/iris-deep-f64-standard.model" --npz "$out/npz/exported.npz" >/dev/null
# ---- ONNX: the models above exported by deepnet (every output kind, float32 and float64, normalisers)
for m in logreg-softmax-f32 planar-sigmoid-f32 iris-deep-f64-standard regression-linear; do
  "$deepnet" export --model "$out/model/$m.model" --onnx "$out/onnx/$m.onnx" >/dev/null
done
head -c 300 "$out/onnx/planar-sigmoid-f32.onnx" > "$out/onnx/bad-truncated.onnx"
head -c 200 "$out/model/planar-sigmoid-f32.model" > "$out/model/bad-truncated.model"
train --data "$work/iris.csv" --layers 2 --epochs 2 --batch-size 8 --optimizer adam --val-split 0.3 --patience 3 \
      --checkpoint "$out/checkpoint/adam-early-stopping.ckpt" --out "$work/a.model"
train --data "$work/reg.csv" --layers "" --epochs 1 --batch-size 4 --optimizer sgd --dropout 0 \
      --checkpoint "$out/checkpoint/sgd-linear.ckpt" --out "$work/b.model"
head -c 3000 "$out/checkpoint/sgd-linear.ckpt" > "$out/checkpoint/bad-truncated.ckpt"
head -c 24 "$out/model/logreg-softmax-f32.model" > "$out/model/bad-header-only.model"
# A model file where a checkpoint is expected (wrong magic) and the reverse.
cp "$out/model/logreg-softmax-f32.model" "$out/checkpoint/bad-model-not-checkpoint"

# Truncated zip: the end record is gone.
head -c 300 tests/data/npy/savez.npz > "$out/npz/bad-truncated.npz"

# ---- HDF5: small files from h5py in the layouts and types deepnet reads, and broken ones
"$python" - "$out/hdf5" <<'PY'
import sys, numpy as np, h5py
d = sys.argv[1]
def f(name, **kw):
    return h5py.File(f"{d}/{name}", "w", libver="earliest", **kw)
with f("contiguous.h5") as h:
    h["X"] = np.arange(12, dtype="<f4").reshape(4, 3)
    h["y"] = np.array([0, 1, 0, 1], dtype="u1")
with f("chunked-gzip.h5") as h:
    h.create_dataset("X", data=np.arange(24, dtype=">i2").reshape(2, 3, 4), chunks=(1, 3, 2), compression="gzip", shuffle=True)
    h.create_dataset("group/y", data=np.array([True, False]))
with f("compact-scalar.h5") as h:
    sid = h5py.h5s.create_simple((2, 3))
    plist = h5py.h5p.create(h5py.h5p.DATASET_CREATE); plist.set_layout(h5py.h5d.COMPACT)
    ds = h5py.h5d.create(h.id, b"X", h5py.h5t.NATIVE_INT64, sid, plist)
    ds.write(h5py.h5s.ALL, h5py.h5s.ALL, np.arange(6, dtype="i8").reshape(2, 3))
    h["s"] = np.float16(1.5)
    h["empty"] = np.zeros((0, 3), dtype="f8")
with f("types.h5") as h:
    h["strings"] = np.array([b"ab", b"cd"])
    h.create_dataset("enum", data=np.array([0, 1, 2], dtype="i1"), dtype=h5py.enum_dtype({"A": 0, "B": 1, "C": 2}, basetype="i1"))
    h["compound"] = np.zeros(2, dtype=[("a", "i4"), ("b", "f8")])
    h["null"] = h5py.Empty("f4")
    h.create_dataset("fill", shape=(3,), dtype="u8")
    h["link"] = h["enum"]
    h["soft"] = h5py.SoftLink("/missing")
raw = open(f"{d}/contiguous.h5", "rb").read()
open(f"{d}/bad-truncated.h5", "wb").write(raw[:600])
PY
echo "make_corpus: done"; du -sh "$out"/*
