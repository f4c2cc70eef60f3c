#!/usr/bin/python3
"""Regenerates the HDF5 and IDX fixtures of tests/io/hdf5_test.cpp and
tests/io/idx_test.cpp. Every value comes from a formula that the tests
recompute on their own, so the readers are checked against numpy and h5py,
not against themselves.

Run from anywhere: /usr/bin/python3 tests/data/make_hdf5_idx_fixtures.py
(needs numpy and h5py). The output is byte-for-byte reproducible: object
timestamps are off in HDF5 and the gzip header carries no time or name.
"""
import gzip
import os
import struct

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def grid(shape, formula):
    return np.fromfunction(formula, shape, dtype=np.int64)


def write_hdf5(path):
    # The layout of the course's train_catvnoncat.h5: images (m, h, w, c) uint8,
    # labels (m,) int64, class names as fixed-length byte strings.
    images = grid((4, 5, 5, 3), lambda i, j, k, c: (i * 61 + j * 17 + k * 5 + c * 3) % 256)
    labels = grid((4,), lambda i: (i * 3 + 1) % 2)
    kw = dict(track_times=False)
    with h5py.File(path, "w") as f:
        f.create_dataset("train_set_x", data=images.astype(np.uint8), **kw)
        f.create_dataset("train_set_y", data=labels.astype(np.int64), **kw)
        f.create_dataset("train_set_y_row", data=labels.reshape(1, 4).astype(np.int64), **kw)
        f.create_dataset("list_classes", data=np.array([b"non-cat", b"cat"], dtype="S7"), **kw)
        f.create_dataset("big_endian_f32",
                         data=grid((2, 3), lambda i, j: (i * 3 + j) * 0.375 - 1.0).astype(">f4"), **kw)
        group = f.create_group("group", track_order=False)
        # Chunked and deflated, so the read goes through the filter pipeline.
        group.create_dataset("values", data=grid((6,), lambda k: (k - 2) * 0.125).astype("<f8"),
                             chunks=(3,), compression="gzip", **kw)
        types = f.create_group("types")
        types.create_dataset("int8", data=np.array([-128, -1, 0, 127], dtype="i1"), **kw)
        types.create_dataset("uint16_be", data=np.array([0, 1, 65535], dtype=">u2"), **kw)
        types.create_dataset("int32", data=np.array([-2**31, 2**31 - 1], dtype="<i4"), **kw)
        types.create_dataset("uint64", data=np.array([2**64 - 1, 2**53 + 2], dtype="<u8"), **kw)
        types.create_dataset("float16", data=np.array([1.5, -0.25, 65504], dtype="<f2"), **kw)
        types.create_dataset("bool", data=np.array([True, False, True]), **kw)
        types.create_dataset("scalar", data=np.float64(2.5), **kw)
        types.create_dataset("empty", shape=(0, 3), dtype="<f8", **kw)
        types.create_dataset("null", data=h5py.Empty("<f8"), **kw)
        types.create_dataset("records", data=np.array([(1, 2.0)], dtype=[("a", "<i4"), ("b", "<f8")]), **kw)


def idx_bytes(code, array, dtype):
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(dtype).tobytes()


def write_idx(directory):
    images = grid((3, 4, 5), lambda i, j, k: (i * 97 + j * 31 + k * 13) % 256)
    files = {
        "images-idx3-ubyte": idx_bytes(0x08, images, ">u1"),
        "labels-idx1-ubyte": idx_bytes(0x08, grid((3,), lambda i: (i * 7 + 3) % 10), ">u1"),
        "int8-idx2": idx_bytes(0x09, grid((2, 3), lambda i, j: (i * 3 + j) * 50 - 128), ">i1"),
        "int16-idx2": idx_bytes(0x0B, grid((2, 3), lambda i, j: (i * 3 + j) * 13000 - 32768), ">i2"),
        "int32-idx2": idx_bytes(0x0C, grid((2, 2), lambda i, j: (i * 2 + j) * 1000000007 - 2**31), ">i4"),
        "float32-idx2": idx_bytes(0x0D, grid((2, 3), lambda i, j: i * 3 + j) / 3.0, ">f4"),
        "float64-idx2": idx_bytes(0x0E, grid((2, 2), lambda i, j: i * 2 + j) / 7.0 - 2.0, ">f8"),
    }
    for name, data in files.items():
        with open(os.path.join(directory, name), "wb") as out:
            out.write(data)
    with open(os.path.join(directory, "images-idx3-ubyte.gz"), "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
            out.write(files["images-idx3-ubyte"])


def main():
    os.makedirs(os.path.join(HERE, "hdf5"), exist_ok=True)
    os.makedirs(os.path.join(HERE, "idx"), exist_ok=True)
    write_hdf5(os.path.join(HERE, "hdf5", "course.h5"))
    write_idx(os.path.join(HERE, "idx"))


if __name__ == "__main__":
    main()
