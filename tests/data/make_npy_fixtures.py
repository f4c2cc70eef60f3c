#!/usr/bin/env python3
"""Regenerates tests/data/npy/, the NPY and NPZ files that tests/io/npy_test.cpp
reads, written by numpy itself (made with numpy 1.24).

Values follow formulas that the tests recompute on their own (a[i, j] = 10*i + j
and the like), so no test copies numbers out of the reader it checks.

    /usr/bin/python3 tests/data/make_npy_fixtures.py
"""
import os

import numpy as np
from numpy.lib import format as npy_format

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")


def filled(shape, formula, dtype, order="C"):
    a = np.empty(shape, dtype=dtype, order=order)
    for index in np.ndindex(*shape):
        a[index] = formula(*index)
    return a


def save(name, array):
    np.save(os.path.join(OUT, name), array)


def save_with_version(name, array, version):
    with open(os.path.join(OUT, name), "wb") as f:
        npy_format.write_array(f, array, version=version)


def main():
    os.makedirs(OUT, exist_ok=True)

    save("f8_c_2d.npy", filled((3, 4), lambda i, j: 10 * i + j + 0.25, "<f8"))
    fortran_2d = filled((3, 5), lambda i, j: 10 * i + j - 0.5, "<f4", order="F")
    assert fortran_2d.flags.f_contiguous and not fortran_2d.flags.c_contiguous
    save("f4_fortran_2d.npy", fortran_2d)
    save("f8_fortran_3d.npy", filled((2, 3, 4), lambda i, j, k: 100 * i + 10 * j + k, "<f8", order="F"))
    save("i2_big_endian.npy", filled((2, 3), lambda i, j: 1000 * i - 300 * j, ">i2"))
    # (m, h, w, c): three 4x4 RGB images.
    save("u1_images.npy", filled((3, 4, 4, 3), lambda m, h, w, c: 64 * m + 16 * h + 4 * w + c, "|u1"))
    save("b1.npy", filled((2, 3), lambda i, j: (i + j) % 2 == 0, "|b1"))
    # zero, negative zero, ordinary values, the largest half, the smallest normal
    # and subnormal halves, infinities and NaN
    save("f2.npy", np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 2.0**-14, 2.0**-24,
                             np.inf, -np.inf, np.nan], dtype="<f2"))
    save("i8_labels.npy", np.array([k % 3 for k in range(10)], dtype="<i8"))
    save("scalar.npy", np.float64(3.25))
    save("empty.npy", np.zeros((0, 3), dtype="<f4"))
    save_with_version("v2.npy", np.array([[-1, 2**31 - 1], [-2**31, 7]], dtype="<i4"), (2, 0))
    save_with_version("v3.npy", np.array([0, 1, 65535], dtype="<u2"), (3, 0))

    np.savez(os.path.join(OUT, "savez.npz"),
             X=filled((2, 3), lambda i, j: 10 * i + j, "<f8"),
             y=np.array([0, 1, 0], dtype="<i8"))
    np.savez_compressed(os.path.join(OUT, "compressed.npz"),
                        X=filled((4, 5), lambda i, j: 10 * i + j, "<f4"),
                        y=np.array([k % 2 for k in range(5)], dtype="|u1"))
    # every integer type at its extremes
    np.savez_compressed(os.path.join(OUT, "int_types.npz"),
                        i1=np.array([-128, -1, 0, 1, 127], dtype="|i1"),
                        i2=np.array([-32768, -1, 0, 1, 32767], dtype="<i2"),
                        i4=np.array([-2**31, -1, 0, 1, 2**31 - 1], dtype="<i4"),
                        i8=np.array([-2**63, -1, 0, 1, 2**63 - 1], dtype="<i8"),
                        u1=np.array([0, 1, 255], dtype="|u1"),
                        u2=np.array([0, 1, 65535], dtype="<u2"),
                        u4=np.array([0, 1, 2**32 - 1], dtype="<u4"),
                        u8=np.array([0, 1, 2**64 - 1], dtype="<u8"))
    # big-endian floats and integers; 0x0102030405060708 has distinct bytes
    np.savez(os.path.join(OUT, "big_endian.npz"),
             f2=np.array([1.5, -2.0], dtype=">f2"),
             f4=np.array([1.5, -2.25, 0.125], dtype=">f4"),
             f8=np.array([1.5, -2.25, 1e300, 0.1], dtype=">f8"),
             u4=np.array([0, 1, 2**32 - 1], dtype=">u4"),
             i8=np.array([-2**63, -1, 0x0102030405060708], dtype=">i8"))


def text_fixtures():
    """String arrays (deepnet export's classes, feature_names) and a gzip-compressed NPY."""
    np.savez(os.path.join(OUT, "strings.npz"),
             names=np.array(["benign", "malignant", "gr\u00f6\u00dfe \u2713", ""]),
             big=np.array(["ab", "c"], dtype=">U2"),
             fortran=np.asfortranarray(np.array([["a", "bb", "ccc"], ["dd", "e", ""]])),
             raw=np.array([b"xy", b"z"]),
             scalar=np.array("standard"),
             numbers=np.array([1.0, 2.0]))
    import gzip
    with open(os.path.join(OUT, "f8_c_2d.npy"), "rb") as plain:
        data = plain.read()
    with gzip.GzipFile(os.path.join(OUT, "f8_c_2d.npy.gz"), "wb", mtime=0) as packed:
        packed.write(data)


if __name__ == "__main__":
    main()
    text_fixtures()
