#!/usr/bin/python3
"""The cost model of data-parallel training (docs/scaling.md), as tables.

usage: bench/scaling_model.py [--rate GFLOPS] [--latency-us US]

Per step with N nodes and a global batch of B examples:
  compute   t_c = 6 P (B / N) / R          (forward 2P, backward 4P flops per example; R per node)
  exchange  t_x = 2 (N - 1) / N P s / W + 2 (N - 1) a
            (deepnet's fixed-order reduce-scatter, an alltoall of slices, then an allgather of
            the finished slices: the bytes of a ring all-reduce, 2 (N - 1) messages)
  gather    t_g = (N - 1) (P s / W + a)   (gathering every rank's whole partial sum, for comparison:
                                           deepnet's first exchange)
  speed-up  S = t_c(1) / (t_c(N) + t_x),  efficiency E = S / N
P parameters of s = 4 bytes (float32), W the link's bytes per second, a the
latency of one message. The smallest B with E >= 80 %: t_c(N) >= 4 t_x.
R defaults to deepnet's measured fmnist-mlp training rate on one 2-core node
(bench/results/latest.json: 179 GFLOP/s).
"""
import argparse

NETS = {"fmnist (784-256-128-10)": 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10,
        "wide (1024-2048-2048-10)": 1024 * 2048 + 2048 + 2048 * 2048 + 2048 + 2048 * 10 + 10}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=179.0, help="GFLOP/s of one node (default 179)")
    ap.add_argument("--latency-us", type=float, default=20.0, help="one message's latency, microseconds (default 20)")
    args = ap.parse_args()
    R = args.rate * 1e9
    a = args.latency_us * 1e-6
    s = 4
    for name, P in NETS.items():
        for gbits in (10, 100):
            W = gbits * 1e9 / 8
            print("\n%s, P = %d (%.2f MB float32), %d Gb/s, R = %.0f GFLOP/s per node, latency %.0f us"
                  % (name, P, P * s / 1e6, gbits, args.rate, args.latency_us))
            print("| nodes | " + " | ".join("B=%d" % B for B in (128, 512, 2048, 8192)) + " | B for E>=80% | whole-sum gather: B for E>=80% |")
            print("| ---: | " + " | ".join("---:" for _ in range(4)) + " | ---: | ---: |")
            for N in (2, 4, 8, 16, 32, 64):
                cells = []
                for B in (128, 512, 2048, 8192):
                    tc1 = 6 * P * B / R
                    tc = tc1 / N
                    tx = 2 * (N - 1) / N * P * s / W + 2 * (N - 1) * a
                    S = tc1 / (tc + tx)
                    cells.append("%.2fx (%d%%)" % (S, round(100 * S / N)))
                tx = 2 * (N - 1) / N * P * s / W + 2 * (N - 1) * a
                tg = (N - 1) * (P * s / W + a)
                need = 4 * tx * N * R / (6 * P)
                need_ring = 4 * tg * N * R / (6 * P)
                print("| %d | %s | %d | %d |" % (N, " | ".join(cells), round(need), round(need_ring)))


if __name__ == "__main__":
    main()
