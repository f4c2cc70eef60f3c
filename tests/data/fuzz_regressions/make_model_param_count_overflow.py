#!/usr/bin/python3
"""Writes tests/data/fuzz_regressions/model-param-count-overflow: a model file
whose layer sizes need 2^64 + 3 parameters, so that parse_model's unsigned
64-bit sum wraps to 3; the file holds 3 parameters and a valid CRC-32C.
Usage: make_model_param_count_overflow.py OUT
"""
import struct, sys
def crc32c(data):
    table = []
    for i in range(256):
        c = i
        for _ in range(8): c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    crc = 0xFFFFFFFF
    for b in data: crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
big = 1 << 24
B = 65536
best = None
for K in range(1, 64):
    R = (1 << 24) * (big - 65537) - 2 + K
    x = R // (big + 2)
    r = R - x * (big + 2)
    if r < 3 or r % 3: continue
    y = r // 3
    if 1 <= x <= big and 1 <= y <= big: best = (K, x, y); break
K, x, y = best
sizes = [1] + [big] * B + [x, 1, y, 1]
S = sum(sizes[l] * (sizes[l - 1] + 1) for l in range(1, len(sizes)))
assert S % (1 << 64) == K, (S % (1 << 64), K)
L = len(sizes) - 1
def s(t): return struct.pack('<I', len(t)) + t
p = s(b'crafted') + bytes([4]) + struct.pack('<I', L) + b''.join(struct.pack('<I', n) for n in sizes)
p += bytes([2] * (L - 1) + [4]) + bytes([2]) + struct.pack('<d', 0.01)      # relu hidden, linear output
p += bytes([0]) + struct.pack('<I', 0)                                    # no normaliser
p += struct.pack('<I', 0) + s(b'y') + struct.pack('<I', 0)                # no feature names, target, 0 classes
p += struct.pack('<Q', 1) + s(b'portable') + s(b'he') + s(b'gd') + struct.pack('<d', 0.01) + struct.pack('<Q', 1) + struct.pack('<d', 0.5)
p += struct.pack('<Q', K) + struct.pack('<f', 0.25) * K
head = b'DEEPNETM' + struct.pack('<IIQ', 1, 0x01020304, len(p))
data = head + p
data += struct.pack('<I', crc32c(data))
open(sys.argv[1], 'wb').write(data)
print("L =", L, "wrapped parameter count K =", K, "true count =", S, "bytes =", len(data))
