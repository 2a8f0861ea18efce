#!/usr/bin/env python3
"""Deterministic benchmark data set for bench/engine.sh.

Sub-commands:
  generate DIR --size-gib N   build the data set in DIR (which must not exist)
  insert   DIR                insert INSERT_LEN bytes in the middle of the large file
  revert   DIR                undo `insert` (no-op when the large file is pristine)
  describe DIR                print a one-line summary of the data set

Composition for --size-gib 1 (every component scales with N; at least
MIN_SMALL small files):
  text/     ~300 MiB compressible log-like text (several files, 1-8 MiB each)
  random/   ~300 MiB incompressible random data (several files, 2-16 MiB each)
  dup/      ~100 MiB exact copies of some text/ and random/ files
  small/    50 000 files of 1-8 KiB (half text, half random) over 500 dirs
  large.bin ~256 MiB mixed content (text, random, zero runs, repeated segments)

Everything is derived from fixed seeds, so two runs with the same size
produce byte-identical trees (Python's random module is stable across
versions for getrandbits/randbytes/choices/randrange).
"""

import argparse
import json
import os
import random
import shutil
import sys

MIB = 1 << 20
KIB = 1 << 10
FORMAT_VERSION = 1
INSERT_LEN = 100
LARGE_NAME = "large.bin"
META_NAME = ".bench-dataset.json"  # written next to (not inside) the data dir
MIN_SMALL = 500

WORD_SEED = 1001
TEXT_SEED = 1002
RANDOM_SEED = 1003
DUP_SEED = 1004
SMALL_SEED = 1005
LARGE_SEED = 1006
INSERT_SEED = 1007


def meta_path(root):
    root = os.path.abspath(root)
    return os.path.join(os.path.dirname(root), os.path.basename(root) + META_NAME)


# ---------------------------------------------------------------- text pool
def make_line_pool(n_lines=200_000):
    """A pool of log-like lines; files are random sequences of these lines,
    so text compresses well (small vocabulary) but CDC chunks stay unique."""
    r = random.Random(WORD_SEED)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = []
    for _ in range(6000):
        n = min(12, max(2, int(r.expovariate(1 / 5.0)) + 2))
        vocab.append("".join(r.choices(letters, k=n)))
    # Zipf-like weights: a few words are very common.
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    levels = ["INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARN", "ERROR"]
    comps = ["http", "db", "auth", "cache", "sched", "worker", "api", "store",
             "net", "fs", "backup", "sync"]
    words = r.choices(vocab, weights=weights, k=n_lines * 9)
    lens = [r.randint(3, 14) for _ in range(n_lines)]
    lines = []
    pos = 0
    for i in range(n_lines):
        k = lens[i]
        msg = " ".join(words[pos:pos + k])
        pos = (pos + k) % (len(words) - 20)
        lines.append("%02d:%02d:%02d.%03d %-5s [%s] %s id=%d\n" % (
            r.randrange(24), r.randrange(60), r.randrange(60), r.randrange(1000),
            levels[r.randrange(len(levels))], comps[r.randrange(len(comps))],
            msg, r.randrange(1 << 20)))
    return lines


def text_bytes(r, pool, size):
    """`size` bytes of text made of random pool lines."""
    out = []
    have = 0
    avg = 80
    while have < size:
        need = max(64, (size - have) // avg + 16)
        s = "".join(r.choices(pool, k=need)).encode()
        out.append(s)
        have += len(s)
    return b"".join(out)[:size]


def write_text_file(path, r, pool, size):
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, 8 * MIB)
            f.write(text_bytes(r, pool, n))
            left -= n


def write_random_file(path, r, size):
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, 8 * MIB)
            f.write(r.randbytes(n))
            left -= n


def split_sizes(r, total, lo, hi):
    """Random sizes in [lo, hi] summing to ~total (last one trimmed)."""
    sizes = []
    acc = 0
    while acc < total:
        s = r.randint(lo, hi)
        s = min(s, total - acc) if total - acc >= lo else total - acc
        sizes.append(s)
        acc += s
    return sizes


# ---------------------------------------------------------------- generate
def generate(root, size_gib):
    if os.path.exists(root):
        sys.exit("make-dataset: %s already exists" % root)
    f = size_gib
    text_total = int(300 * MIB * f)
    rand_total = int(300 * MIB * f)
    dup_total = int(100 * MIB * f)
    n_small = max(MIN_SMALL, int(round(50_000 * f)))
    n_dirs = max(5, int(round(500 * f)))
    large_size = max(4 * MIB, int(256 * MIB * f))

    tmp = root + ".partial"
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    os.makedirs(tmp)
    pool = make_line_pool()

    # text/
    r = random.Random(TEXT_SEED)
    os.makedirs(os.path.join(tmp, "text"))
    text_files = []
    lo, hi = (1 * MIB, 8 * MIB) if text_total >= 16 * MIB else (64 * KIB, 2 * MIB)
    for i, s in enumerate(split_sizes(r, text_total, lo, hi)):
        p = os.path.join("text", "log-%04d.txt" % i)
        write_text_file(os.path.join(tmp, p), r, pool, s)
        text_files.append((p, s))

    # random/
    r = random.Random(RANDOM_SEED)
    os.makedirs(os.path.join(tmp, "random"))
    rand_files = []
    lo, hi = (2 * MIB, 16 * MIB) if rand_total >= 32 * MIB else (64 * KIB, 2 * MIB)
    for i, s in enumerate(split_sizes(r, rand_total, lo, hi)):
        p = os.path.join("random", "blob-%04d.bin" % i)
        write_random_file(os.path.join(tmp, p), r, s)
        rand_files.append((p, s))

    # dup/: whole-file copies, alternating text and random sources
    r = random.Random(DUP_SEED)
    os.makedirs(os.path.join(tmp, "dup"))
    cands = [text_files[:], rand_files[:]]
    for c in cands:
        r.shuffle(c)
    copied = 0
    i = 0
    while copied < dup_total and (cands[0] or cands[1]):
        src_list = cands[i % 2] or cands[(i + 1) % 2]
        p, s = src_list.pop()
        dst = os.path.join("dup", "copy-%03d-%s" % (i, os.path.basename(p)))
        shutil.copyfile(os.path.join(tmp, p), os.path.join(tmp, dst))
        copied += s
        i += 1

    # small/: n_small files of 1-8 KiB over n_dirs directories
    r = random.Random(SMALL_SEED)
    sdir = os.path.join(tmp, "small")
    dirs = []
    for d in range(n_dirs):
        dp = os.path.join(sdir, "d%02d" % (d % 50), "s%04d" % d)
        os.makedirs(dp)
        dirs.append(dp)
    text_src = text_bytes(r, pool, 16 * MIB)
    for k in range(n_small):
        size = r.randint(1 * KIB, 8 * KIB)
        if k % 2 == 0:
            off = r.randrange(len(text_src) - size)
            data = text_src[off:off + size]
        else:
            data = r.randbytes(size)
        with open(os.path.join(dirs[k % n_dirs], "f%05d.%s" % (k, "txt" if k % 2 == 0 else "bin")), "wb") as fh:
            fh.write(data)

    # large.bin: mixed segments
    r = random.Random(LARGE_SEED)
    segs = []  # (offset, length) of earlier segments for repeats
    written = 0
    with open(os.path.join(tmp, LARGE_NAME), "wb") as fh:
        while written < large_size:
            n = min(large_size - written, r.randint(256 * KIB, 4 * MIB))
            kind = r.random()
            if kind < 0.42:
                data = text_bytes(r, pool, n)
            elif kind < 0.84:
                data = r.randbytes(n)
            elif kind < 0.90:
                data = bytes(n)
            elif segs:
                fh.flush()
                off, ln = segs[r.randrange(len(segs))]
                ln = min(ln, n)
                with open(os.path.join(tmp, LARGE_NAME), "rb") as rf:
                    rf.seek(off)
                    data = rf.read(ln)
                n = ln
            else:
                data = r.randbytes(n)
            fh.write(data)
            segs.append((written, n))
            written += n

    meta = {
        "format": FORMAT_VERSION,
        "size_gib": size_gib,
        "large_size": large_size,
        "insert_len": INSERT_LEN,
        "text_bytes": sum(s for _, s in text_files),
        "text_files": len(text_files),
        "random_bytes": sum(s for _, s in rand_files),
        "random_files": len(rand_files),
        "dup_bytes": copied,
        "dup_files": i,
        "small_files": n_small,
        "small_dirs": n_dirs,
    }
    os.rename(tmp, root)
    with open(meta_path(root), "w") as fh:
        json.dump(meta, fh, indent=1)
    print(describe_str(root))


def load_meta(root):
    with open(meta_path(root)) as fh:
        return json.load(fh)


# ---------------------------------------------------------------- insertion
def insert_payload():
    return random.Random(INSERT_SEED).randbytes(INSERT_LEN)


def rewrite_large(root, transform):
    path = os.path.join(root, LARGE_NAME)
    tmp = path + ".tmp"
    with open(path, "rb") as fh:
        data = fh.read()
    data = transform(data)
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def insert(root):
    meta = load_meta(root)
    path = os.path.join(root, LARGE_NAME)
    size = os.path.getsize(path)
    if size != meta["large_size"]:
        sys.exit("make-dataset: %s has size %d, expected pristine %d (run revert)"
                 % (path, size, meta["large_size"]))
    mid = meta["large_size"] // 2
    rewrite_large(root, lambda d: d[:mid] + insert_payload() + d[mid:])
    print("inserted %d bytes at offset %d of %s" % (INSERT_LEN, mid, LARGE_NAME))


def revert(root):
    meta = load_meta(root)
    path = os.path.join(root, LARGE_NAME)
    size = os.path.getsize(path)
    if size == meta["large_size"]:
        return
    mid = meta["large_size"] // 2
    if size != meta["large_size"] + INSERT_LEN:
        sys.exit("make-dataset: %s has unexpected size %d; delete the data set" % (path, size))
    with open(path, "rb") as fh:
        fh.seek(mid)
        if fh.read(INSERT_LEN) != insert_payload():
            sys.exit("make-dataset: %s does not contain the inserted bytes; delete the data set" % path)
    rewrite_large(root, lambda d: d[:mid] + d[mid + INSERT_LEN:])
    print("reverted insertion in %s" % LARGE_NAME)


def describe_str(root):
    m = load_meta(root)
    return ("text %d files %.1f MiB, random %d files %.1f MiB, dup %d files %.1f MiB, "
            "small %d files in %d dirs, large %.1f MiB" % (
                m["text_files"], m["text_bytes"] / MIB, m["random_files"], m["random_bytes"] / MIB,
                m["dup_files"], m["dup_bytes"] / MIB, m["small_files"], m["small_dirs"],
                m["large_size"] / MIB))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["generate", "insert", "revert", "describe", "check"])
    ap.add_argument("dir")
    ap.add_argument("--size-gib", type=float, default=1.0)
    a = ap.parse_args()
    if a.cmd == "generate":
        if a.size_gib <= 0:
            sys.exit("make-dataset: --size-gib must be > 0")
        generate(a.dir, a.size_gib)
    elif a.cmd == "insert":
        insert(a.dir)
    elif a.cmd == "revert":
        revert(a.dir)
    elif a.cmd == "describe":
        print(describe_str(a.dir))
    elif a.cmd == "check":
        # exit 0 iff DIR is a complete data set of this format and size
        try:
            m = load_meta(a.dir)
        except (OSError, ValueError):
            sys.exit(1)
        ok = (os.path.isdir(a.dir) and m.get("format") == FORMAT_VERSION
              and abs(m.get("size_gib", -1) - a.size_gib) < 1e-9)
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
