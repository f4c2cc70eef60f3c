#!/usr/bin/python3
"""Writes tests/data/course_params/: a 2-4-3-1 tanh,relu/sigmoid net in the
course's names and shapes, made by numpy, and its forward pass computed by
numpy the course's way, for the export/import tests.

Run with Debian's /usr/bin/python3 (numpy 1.24). Output is deterministic."""
import os
import numpy as np

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "course_params")
os.makedirs(here, exist_ok=True)
np.random.seed(3)
sizes = [2, 4, 3, 1]
params = {}
for l in range(1, len(sizes)):
    params["W%d" % l] = np.random.randn(sizes[l], sizes[l - 1])
    params["b%d" % l] = np.random.randn(sizes[l], 1) * 0.1
X = np.random.randn(2, 6)  # (n[0], m): examples are columns

A1 = np.tanh(params["W1"] @ X + params["b1"])
A2 = np.maximum(0, params["W2"] @ A1 + params["b2"])
A3 = 1 / (1 + np.exp(-(params["W3"] @ A2 + params["b3"])))

np.savez(os.path.join(here, "params.npz"), **params)
np.savez(os.path.join(here, "expected.npz"), X=X, AL=A3)
