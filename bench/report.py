#!/usr/bin/env python3
"""Format bench/engine.sh and bench/sftp.sh results: text tables on stdout, Markdown to a file.

usage: report.py INFO.tsv RESULTS.tsv OUT.md
  INFO.tsv     key<TAB>value lines (command, date, nproc, versions, ...)
  RESULTS.tsv  tool<TAB>phase<TAB>seconds<TAB>peak_kib<TAB>bytes_added<TAB>status

Optional INFO keys (absent: the engine benchmark's defaults):
  title       Markdown heading text before the date (default "Engine benchmark")
  phases      space-separated subset of backup1 backup2 backup3 restore to report
  goals       space-separated ROW=GOAL pairs replacing every ratio goal, ROW being a
              RATIO_ROWS label with spaces as underscores (e.g. backup1_time=0.7);
              rows not named get no goal
  desc_PHASE  description of PHASE (e.g. desc_restore)
  settings    the Markdown "Settings:" sentence
  stored_TOOL bytes in TOOL's repository at the end of the run (adds a ratio row)
"""

import sys

TOOLS = ["anemone", "restic", "borg"]
PHASES = ["backup1", "backup2", "backup3", "restore"]
PHASE_DESC = {
    "backup1": "first backup",
    "backup2": "unchanged re-backup",
    "backup3": "re-backup after insertion in large file",
    "restore": "full restore (verified)",
}
# (row label, phase or None for whole run, metric, goal vs restic or None)
RATIO_ROWS = [
    ("backup1 time", "backup1", "secs", 0.7),
    ("backup1 peak memory", "backup1", "kib", None),
    ("backup1 bytes added", "backup1", "added", None),
    ("backup2 time", "backup2", "secs", 0.5),
    ("backup2 peak memory", "backup2", "kib", None),
    ("backup2 bytes added", "backup2", "added", None),
    ("backup3 time", "backup3", "secs", None),
    ("backup3 peak memory", "backup3", "kib", None),
    ("backup3 bytes added", "backup3", "added", 1.2),
    ("restore time", "restore", "secs", 0.8),
    ("restore peak memory", "restore", "kib", None),
    ("peak memory (all phases)", None, "kib", 1.0),
]


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def load(info_path, res_path):
    info = {}
    with open(info_path) as fh:
        for line in fh:
            k, _, v = line.rstrip("\n").partition("\t")
            info[k] = v
    res = {}
    with open(res_path) as fh:
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if len(f) != 6:
                continue
            tool, phase, secs, kib, added, status = f
            res[(tool, phase)] = {"secs": num(secs), "kib": num(kib), "added": num(added), "status": status}
    return info, res


def configure(info):
    """Apply the optional INFO keys to PHASES, PHASE_DESC and RATIO_ROWS."""
    global PHASES, RATIO_ROWS
    if info.get("phases"):
        want = info["phases"].split()
        unknown = [p for p in want if p not in PHASES]
        if unknown:
            sys.exit("report.py: unknown phases in INFO: %s" % " ".join(unknown))
        PHASES = [p for p in PHASES if p in want]
        RATIO_ROWS = [r for r in RATIO_ROWS if r[1] is None or r[1] in PHASES]
    for p in PHASES:
        if info.get("desc_" + p):
            PHASE_DESC[p] = info["desc_" + p]
    if "goals" in info:
        goals = {}
        for item in info["goals"].split():
            k, _, v = item.partition("=")
            goals[k] = float(v)
        labels = {r[0].replace(" ", "_") for r in RATIO_ROWS}
        unknown = [k for k in goals if k not in labels]
        if unknown:
            sys.exit("report.py: unknown goal rows in INFO: %s" % " ".join(unknown))
        RATIO_ROWS = [(l, p, m, goals.get(l.replace(" ", "_"))) for l, p, m, _ in RATIO_ROWS]


def metric(res, tool, phase, m):
    if phase is None:  # max over phases; only if every phase succeeded
        vals = [metric(res, tool, p, m) for p in PHASES]
        return None if any(v is None for v in vals) else max(vals)
    r = res.get((tool, phase))
    if not r or r["status"] not in ("ok", "OK"):
        return None
    return r[m]


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(x):
    return "n/a" if x is None else "%.2f" % x


def fmt_bytes(b):
    if b is None:
        return "-"
    return "%d (%.1f MiB)" % (b, b / 1048576) if abs(b) >= 1048576 else "%d" % b


def rows_results(info, res):
    tools = info.get("tools", "").split()
    rows = []
    for p in PHASES:
        for t in tools:
            r = res.get((t, p))
            if r is None:
                rows.append([p, t, "-", "-", "-", "skipped"])
                continue
            rows.append([
                p, t,
                "-" if r["secs"] is None else "%.2f" % r["secs"],
                "-" if r["kib"] is None else "%.1f" % (r["kib"] / 1024),
                fmt_bytes(r["added"]) if p != "restore" else "-",
                r["status"],
            ])
    return ["phase", "tool", "wall s", "peak MiB", "bytes added", "status"], rows


def rows_ratios(info, res):
    tools = info.get("tools", "").split()
    have_a = "anemone" in tools
    rows = []
    for label, phase, m, goal in RATIO_ROWS:
        a = metric(res, "anemone", phase, m) if have_a else None
        r = metric(res, "restic", phase, m)
        b = metric(res, "borg", phase, m)
        ar, ab, br = ratio(a, r), ratio(a, b), ratio(b, r)
        if goal is None:
            g, st = "-", "-"
        else:
            g = "<= %.1fx restic" % goal
            st = "n/a" if ar is None else ("PASS" if ar <= goal else "MISS")
        rows.append([label, fmt_ratio(ar), fmt_ratio(ab), g, st, fmt_ratio(br)])
    if any(("stored_" + t) in info for t in TOOLS):
        a, r, b = (num(info.get("stored_" + t, "")) for t in TOOLS)
        rows.append(["repository size (end)", fmt_ratio(ratio(a, r)), fmt_ratio(ratio(a, b)), "-", "-",
                     fmt_ratio(ratio(b, r))])
    return ["metric", "anemone/restic", "anemone/borg", "goal", "status", "borg/restic (ref)"], rows


def text_table(head, rows):
    w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    out = ["  ".join(str(x).ljust(w[i]) for i, x in enumerate(head)).rstrip(),
           "  ".join("-" * n for n in w)]
    for r in rows:
        out.append("  ".join(str(x).ljust(w[i]) for i, x in enumerate(r)).rstrip())
    return "\n".join(out)


def md_table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(x) for x in r) + " |")
    return "\n".join(out)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    info, res = load(sys.argv[1], sys.argv[2])
    configure(info)
    tools = info.get("tools", "").split()
    rh, rr = rows_results(info, res)
    qh, qr = rows_ratios(info, res)
    data = "%.2f GiB, %s files (%s)" % (
        int(info.get("data_bytes", 0)) / 2**30, info.get("data_files", "?"), info.get("data_desc", ""))
    versions = [(t, info["version_" + t]) for t in TOOLS if "version_" + t in info]

    print()
    print("Data set: " + data)
    print("Page cache: " + info.get("cache", "?"))
    print("Phases: " + "; ".join("%s = %s" % (p, PHASE_DESC[p]) for p in PHASES))
    print()
    print(text_table(rh, rr))
    print()
    if "anemone" not in tools:
        print("anemone was not run (--only): anemone ratios are n/a; borg/restic shown for reference.")
    print(text_table(qh, qr))

    md = []
    md.append("## %s — %s" % (info.get("title", "Engine benchmark"), info.get("date", "?")))
    md.append("")
    md.append("- Command: `%s`" % info.get("command", "bench/engine.sh"))
    md.append("- Date: %s" % info.get("date", "?"))
    md.append("- Machine: nproc %s, %s, %s RAM, %s, workdir on %s" % (
        info.get("nproc", "?"), info.get("cpu", "?"), info.get("mem", "?"),
        info.get("kernel", "?"), info.get("fs", "?")))
    md.append("- Page cache: %s" % info.get("cache", "?"))
    md.append("- Data set (`--size-gib %s`): %s" % (info.get("size_gib", "?"), data))
    for t, v in versions:
        md.append("- %s: `%s`" % (t, v))
    md.append("- Settings: " + info.get("settings", (
        "restic repo v2 (compression auto); borg `repokey-blake2`, "
        "`--compression zstd,3`; anemone local target. \"Bytes added\" is the growth of "
        "the repository directory (`du -sb`) during the phase; peak memory is the max RSS "
        "reported by GNU time. backup3 bytes added depends on where chunk boundaries fall (restic "
        "picks a random chunker polynomial per repository), so it varies between runs.")))
    md.append("- Phases: " + "; ".join("%s = %s" % (p, PHASE_DESC[p]) for p in PHASES) + ".")
    stored = [(t, num(info["stored_" + t])) for t in TOOLS if "stored_" + t in info]
    if stored:
        md.append("- Repository size at the end (`du -sb`): " + ", ".join(
            "%s %s" % (t, fmt_bytes(b)) for t, b in stored) + ".")
    md.append("")
    md.append("### Results")
    md.append("")
    md.append(md_table(rh, rr))
    md.append("")
    md.append("### Ratios and goals")
    md.append("")
    if "anemone" not in tools:
        md.append("_anemone was not run (`--only`): its ratios are n/a._")
        md.append("")
    md.append(md_table(qh, qr))
    md.append("")
    with open(sys.argv[3], "w") as fh:
        fh.write("\n".join(md))


if __name__ == "__main__":
    main()
