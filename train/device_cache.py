"""Pack a token cache small enough to travel to the device machine (train/device.sh).

The device machine receives the working tree and the carried paths, 64 MiB in all (the tracked
tree is about 22 MB); prepare.py's tokens.npz alone is 58 MB. This writes the same arrays
compressed (np.savez_compressed: np.load reads them unchanged) and teacher.npz without the
windows' targets, which the device recipe does not use:

    <out>/tokens.npz     tokens.npz's arrays, compressed
    <out>/teacher.npz    p_pos, rid, corpus
    <out>/sources.json   as is

Usage: /usr/bin/python3 train/device_cache.py [train/cache] [train/cache-device]
"""
import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TEACHER_KEYS = ("p_pos", "rid", "corpus")


def pack(src, dst):
    """Write dst's three files from src's; returns their total size in bytes."""
    os.makedirs(dst, exist_ok=True)
    tok = np.load(os.path.join(src, "tokens.npz"))
    np.savez_compressed(os.path.join(dst, "tokens.npz"), **{k: tok[k] for k in tok.files})
    tea = np.load(os.path.join(src, "teacher.npz"))
    np.savez_compressed(os.path.join(dst, "teacher.npz"), **{k: tea[k] for k in TEACHER_KEYS})
    shutil.copyfile(os.path.join(src, "sources.json"), os.path.join(dst, "sources.json"))
    return sum(os.path.getsize(os.path.join(dst, f)) for f in ("tokens.npz", "teacher.npz", "sources.json"))


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "cache")
    dst = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "cache-device")
    size = pack(src, dst)
    print("%s: %.1f MB" % (dst, size / 1e6))


if __name__ == "__main__":
    main()
