#!/usr/bin/python3
"""Writes hdf5-crash-{1,2,3}.h5: fuzz/corpus/hdf5/types.h5 (h5py 3.7) with one
byte changed each. libhdf5 1.10.8 dies with SIGSEGV inside its own code on each
of them, in a fresh process, while deepnet lists the file's datasets
(H5Lvisit). Found by setting every byte of the seed files in turn to 0xff,
0x00, 0x80, 0x7f, 0x01 and 0x10 and reading each result (the names, then up
to 3 datasets) in a child process, then keeping those that also crash
`deepnet train --data FILE` (one read per process).
Run from anywhere: python3 tests/data/fuzz_regressions/make_hdf5_crashes.py"""
import pathlib

here = pathlib.Path(__file__).resolve().parent
seed = (here / "../../../fuzz/corpus/hdf5/types.h5").read_bytes()
for name, offset, value in [("hdf5-crash-1.h5", 1463, 0x80), ("hdf5-crash-2.h5", 1471, 0xFF),
                            ("hdf5-crash-3.h5", 1471, 0x7F)]:
    data = bytearray(seed)
    data[offset] = value
    (here / name).write_bytes(bytes(data))
