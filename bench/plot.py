#!/usr/bin/python3
"""bench/plot.py - the plots and the markdown summary of one benchmark run.

    /usr/bin/python3 bench/plot.py <results dir>

Reads what bench/run.sh left in <results dir> (results.jsonl: one
measurement per line; runs.jsonl: one line per run; machine.json) and writes
into the same dir:

    summary.md             machine, method, ratios vs peers, one table per
                           section, the runs, with the plots embedded
    <section>.png          one panel per group: median bars, min-max
                           whiskers, peers in grey beside ours
    <section>-latency.png  p50 / p99 / p99.9 per group, log scale
    ratios.png             every cqlmq-vs-peer ratio of the run

Generic on purpose: a new benchmark needs no change here as long as its
--json lines carry section-independent "group", "name", "peer", "value",
"unit" (and optionally p50_us/p99_us/p999_us, maxrss_kb, errors).
Measurements are compared only inside their (section, group), with the peer
of the same repetition (round), so slow minutes of a shared machine hit both
sides of a ratio. Without matplotlib the summary is written without plots.
Exit status: 0, or 1 when results.jsonl is missing or empty.
"""
import json
import os
import statistics
import sys
import textwrap

LOWER_IS_BETTER = {"ns", "us", "ms", "s", "B", "kB", "MB", "MiB", "B/row"}
PCTS = (("p50_us", "p50"), ("p99_us", "p99"), ("p999_us", "p99.9"))
OURS, PEER = "#1f77b4", "#9e9e9e"
SPREAD_WARN = 0.20  # (max - min) / median above this is flagged as noisy
ticker = None  # matplotlib.ticker, once main() has imported matplotlib


def load_lines(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                print("plot.py: %s:%d: not JSON, skipped" % (path, n), file=sys.stderr)
    return out


def lower_better(unit):
    return unit in LOWER_IS_BETTER


def fmt(v, unit=""):
    """Short human number: 12.3 M, 456 k, 78.9, 0.123."""
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1e9:
        s = "%.2f G" % (v / 1e9)
    elif a >= 1e6:
        s = "%.2f M" % (v / 1e6)
    elif a >= 1e4:
        s = "%.0f k" % (v / 1e3)
    elif a >= 1e3:
        s = "%.1f k" % (v / 1e3)
    elif a >= 100:
        s = "%.0f" % v
    elif a >= 10:
        s = "%.1f" % v
    elif a >= 1:
        s = "%.2f" % v
    elif a == 0:
        s = "0"
    else:
        s = "%.3g" % v
    return (s + " " + unit).strip() if unit else s


def tick(v, _pos=None):
    """Axis tick: like fmt() without trailing zeros (5 M, 2.5 k)."""
    s = fmt(v)
    num, _, suffix = s.partition(" ")
    if "." in num and "e" not in num:
        num = num.rstrip("0").rstrip(".")
    return (num + " " + suffix).strip()


class Series:
    """One (section, group, name): its values over the repetitions."""

    def __init__(self, rec):
        self.section = rec.get("section", "?")
        self.group = rec.get("group", "?")
        self.name = rec.get("name", "?")
        self.unit = rec.get("unit", "")
        self.peer = bool(rec.get("peer", False))
        self.entries = []
        self.by_rep = {}  # rep -> value
        self.values = []
        self.pcts = {k: [] for k, _ in PCTS}
        self.rss = []
        self.errors = 0

    def add(self, rec):
        v = float(rec["value"])
        self.values.append(v)
        self.by_rep[rec.get("rep", len(self.values))] = v
        if rec.get("entry") not in self.entries:
            self.entries.append(rec.get("entry"))
        for k, _ in PCTS:
            if k in rec:
                self.pcts[k].append(float(rec[k]))
        if "maxrss_kb" in rec:
            self.rss.append(int(rec["maxrss_kb"]))
        self.errors += int(rec.get("errors", 0) or 0)

    @property
    def median(self):
        return statistics.median(self.values)

    @property
    def spread(self):
        m = self.median
        return (max(self.values) - min(self.values)) / m if m else 0.0

    def pct(self, k):
        return statistics.median(self.pcts[k]) if self.pcts[k] else None

    def has_pcts(self):
        return bool(self.pcts["p50_us"])

    def label(self):
        return self.name + (" (peer)" if self.peer else "")


def collect(records):
    """Returns {section: {group: [Series...]}} in first-seen order."""
    sections = {}
    for r in records:
        if "value" not in r:
            continue
        sec = sections.setdefault(r.get("section", "?"), {})
        grp = sec.setdefault(r.get("group", "?"), [])
        for s in grp:
            if s.name == r.get("name") and s.peer == bool(r.get("peer", False)):
                break
        else:
            s = Series(r)
            grp.append(s)
        s.add(r)
    return sections


class Ratio:
    """ours vs peer inside one group; `adv` > 1 means ours is better."""

    def __init__(self, ours, peer):
        self.ours, self.peer = ours, peer
        reps = sorted(set(ours.by_rep) & set(peer.by_rep))
        raw = [ours.by_rep[r] / peer.by_rep[r] for r in reps if peer.by_rep[r]]
        self.paired = bool(raw)
        if not raw and peer.median:
            raw = [ours.median / peer.median]
        self.raw = raw  # ours / peer, one per round
        lb = lower_better(ours.unit)
        adv = [(1 / x if x else float("inf")) if lb else x for x in raw]
        self.adv = sorted(adv)

    @property
    def ok(self):
        return bool(self.adv)

    @property
    def med(self):
        return statistics.median(self.adv)

    def text(self):
        m = self.med
        word = "better" if m >= 1 else "worse"
        f = m if m >= 1 else (1 / m if m else float("inf"))
        rng = ""
        if len(self.adv) > 1:
            rng = " [%.2f-%.2f]" % (self.adv[0], self.adv[-1])
        return "%.2f%s (%.1fx %s)" % (m, rng, f, word)


def ratios_of(sections):
    out = []
    for sec, groups in sections.items():
        for grp, series in groups.items():
            peers = [s for s in series if s.peer]
            if not peers:
                continue
            for s in series:
                if s.peer:
                    continue
                peer = next((p for p in peers if p.unit == s.unit), None)
                if peer is None:
                    continue
                r = Ratio(s, peer)
                if r.ok:
                    out.append(r)
    return out


# ---------------------------------------------------------------- plots

def plot_section(plt, sec, groups, ratios, path, subtitle):
    """One horizontal bar panel per group: median, min-max whiskers."""
    panels = [(g, ss) for g, ss in groups.items() if any(s.values and max(s.values) > 0
                                                         for s in ss)]
    if not panels:
        return False
    heights = [0.9 + 0.42 * len(ss) for _, ss in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, sum(heights) + 1.0),
                             gridspec_kw={"height_ratios": heights}, squeeze=False,
                             constrained_layout=True)
    adv = {(r.ours.group, r.ours.name): r for r in ratios}
    for ax, (grp, ss) in zip(axes[:, 0], panels):
        ss = list(reversed(ss))  # first-seen at the top
        meds = [s.median for s in ss]
        lo = [s.median - min(s.values) for s in ss]
        hi = [max(s.values) - s.median for s in ss]
        colors = [PEER if s.peer else OURS for s in ss]
        y = range(len(ss))
        ax.barh(y, meds, xerr=[lo, hi], color=colors, height=0.6,
                error_kw={"ecolor": "black", "capsize": 3, "lw": 1})
        ax.set_yticks(list(y))
        ax.set_yticklabels([textwrap.fill(s.label(), 40) for s in ss], fontsize=8)
        pos = [v for v in meds if v > 0]
        log = len(pos) == len(meds) and max(pos) / min(pos) > 10
        if log:
            ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(tick))
        top = max(max(s.values) for s in ss)
        ax.set_xlim(right=top * (8 if log else 1.45), left=(min(pos) / 3 if log else 0))
        for i, s in enumerate(ss):
            note = fmt(s.median, s.unit)
            r = adv.get((grp, s.name))
            if r is not None and r.ours is s:
                note += "   %.2fx vs peer" % r.med
            ax.text(max(s.values) * (1.15 if log else 1.0) + (0 if log else top * 0.02), i,
                    note, va="center", fontsize=8)
        unit = ss[0].unit
        ax.set_xlabel("%s (%s is better)%s" % (unit, "lower" if lower_better(unit)
                                                else "higher", ", log scale" if log else ""),
                      fontsize=8)
        ax.set_title(grp, fontsize=10, loc="left")
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    has_peer = any(s.peer for ss in groups.values() for s in ss)
    fig.suptitle("%s - median of the runs, whiskers min-max; %s\n%s"
                 % (sec, "grey = peer" if has_peer else "no peer measured in this section",
                    subtitle), fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_latency(plt, sec, groups, path, subtitle):
    """p50 / p99 / p99.9 per group on a log axis, one line per series."""
    panels = [(g, [s for s in ss if s.has_pcts()]) for g, ss in groups.items()]
    panels = [(g, ss) for g, ss in panels if ss]
    if not panels:
        return False
    cols = 2 if len(panels) > 1 else 1
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.3 * rows + 0.8),
                             squeeze=False, constrained_layout=True)
    xs = list(range(len(PCTS)))
    for idx, (grp, ss) in enumerate(panels):
        ax = axes[idx // cols][idx % cols]
        for s in ss:
            med = [s.pct(k) for k, _ in PCTS]
            lo = [m - min(s.pcts[k]) for m, (k, _) in zip(med, PCTS)]
            hi = [max(s.pcts[k]) - m for m, (k, _) in zip(med, PCTS)]
            ax.errorbar(xs, med, yerr=[lo, hi], marker="o" if not s.peer else "s",
                        ls="--" if s.peer else "-", capsize=3, label=s.label(),
                        color=PEER if s.peer and len(ss) == 2 else None)
            for x, m in zip(xs, med):  # peers' labels on the left, ours on the right
                ax.annotate(fmt(m), (x, m), textcoords="offset points",
                            xytext=(-8, -3) if s.peer else (6, -3),
                            ha="right" if s.peer else "left", fontsize=7)
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(tick))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xticks(xs)
        ax.set_xticklabels([n for _, n in PCTS])
        ax.set_xlim(-0.3, len(PCTS) - 0.4)
        ax.set_ylabel("latency, us (log scale; lower is better)", fontsize=8)
        ax.set_title(textwrap.fill(grp, 48), fontsize=9, loc="left")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, loc="best")
    for idx in range(len(panels), rows * cols):
        axes[idx // cols][idx % cols].axis("off")
    fig.suptitle("%s - per-request latency percentiles (median of the runs, whiskers "
                 "min-max)\n%s" % (sec, subtitle), fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_ratios(plt, ratios, path, subtitle):
    if not ratios:
        return False
    rs = list(reversed(ratios))
    fig, ax = plt.subplots(figsize=(11, 1.4 + 0.45 * len(rs)))
    meds = [r.med for r in rs]
    lo = [r.med - r.adv[0] for r in rs]
    hi = [r.adv[-1] - r.med for r in rs]
    colors = ["#2ca02c" if m >= 1 else "#d62728" for m in meds]
    y = range(len(rs))
    ax.barh(y, meds, xerr=[lo, hi], color=colors, height=0.6,
            error_kw={"ecolor": "black", "capsize": 3, "lw": 1})
    ax.axvline(1, color="black", lw=1)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(tick))
    ax.set_yticks(list(y))
    ax.set_yticklabels([textwrap.fill("%s: %s - %s vs %s" % (
        r.ours.section, r.ours.group, r.ours.name, r.peer.name), 62) for r in rs], fontsize=7)
    for i, r in enumerate(rs):
        ax.text(r.adv[-1] * 1.1, i, "%.2fx" % r.med, va="center", fontsize=8)
    ax.set_xlim(min(min(r.adv) for r in rs) / 3, max(max(r.adv) for r in rs) * 4)
    ax.set_xlabel("advantage over the peer measured in the same run "
                  "(log scale; > 1 = cqlmq better, < 1 = worse)", fontsize=8)
    ax.set_title("cqlmq vs peers - median of per-round ratios, whiskers min-max\n%s"
                 % subtitle, fontsize=9)
    ax.grid(axis="x", alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ---------------------------------------------------------------- summary

def machine_lines(m):
    if not m:
        return ["(machine.json missing)"]
    lines = [
        "- Machine: %s x %s, %s, %s, virtualization: %s" % (
            m.get("nproc"), m.get("cpu_model"), m.get("mem_total"), m.get("kernel"),
            m.get("virtualization")),
        "- OS: %s; compiler: %s; %s" % (m.get("os"), m.get("compiler"), m.get("cmake")),
        "- Build: %s (`%s`), sanitizers: %s" % (m.get("build_type"),
                                                (m.get("build_flags") or "").strip(),
                                                m.get("sanitize") or "OFF"),
        "- Libraries: libzmq %s, libuv %s, msgpack-c %s; python %s, DataStax python "
        "driver %s" % (m.get("libzmq"), m.get("libuv"), m.get("msgpack_c"), m.get("python"),
                       m.get("python_driver")),
        "- Source: commit %s with %s uncommitted files" % (m.get("git_commit"),
                                                           m.get("git_uncommitted_files")),
        "- Load average at start / end: %s / %s; CPU steal during the run: %s %%; "
        "wall time %s s" % (m.get("loadavg_start"), m.get("loadavg_end"),
                            m.get("cpu_steal_pct"), m.get("wall_seconds")),
    ]
    return lines


def baseline_lines(out, sections):
    """Compares this run with baseline/ (the results committed before it)."""
    base = load_lines(os.path.join(out, "baseline", "results.jsonl"))
    if not base:
        return []
    try:
        with open(os.path.join(out, "baseline", "machine.json")) as f:
            bstamp = json.load(f).get("stamp", "?")
    except (OSError, ValueError):
        bstamp = "?"
    before = {}
    for sec, groups in collect(base).items():
        for grp, ss in groups.items():
            for s in ss:
                before[(sec, grp, s.name, s.peer)] = s
    moved, same = [], 0
    for sec, groups in sections.items():
        for grp, ss in groups.items():
            for s in ss:
                b = before.get((sec, grp, s.name, s.peer))
                if b is None or b.unit != s.unit or not b.median or not s.median:
                    continue
                if min(s.values) <= max(b.values) and min(b.values) <= max(s.values):
                    same += 1
                    continue
                ch = b.median / s.median if lower_better(s.unit) else s.median / b.median
                moved.append((sec, grp, s, b, ch))
    L = ["## Change since the previous results (%s)" % bstamp, "",
         "Before = bench/results/latest/ as committed before this run, possibly another "
         "machine or load. %d measurements stayed inside each other's [min-max] range; "
         "those listed moved outside it. Change > 1 is better (faster, or lower latency "
         "or memory); on a shared machine treat anything under about 1.5x as noise unless "
         "it repeats." % same, ""]
    if moved:
        L += ["| section | group | measurement | before | now | change |",
              "|---|---|---|---:|---:|---:|"]
        for sec, grp, s, b, ch in moved:
            L.append("| %s | %s | %s | %s | %s | %.2fx |" % (
                sec, grp, s.label(), fmt(b.median, s.unit), fmt(s.median, s.unit), ch))
        L.append("")
    return L


def summary(out, sections, ratios, runs, m, plots):
    stamp = m.get("stamp", os.path.basename(out.rstrip("/")))
    L = ["# cqlmq benchmark results - %s" % stamp, "",
         "Written by `bench/plot.py` from a run of `bench/run.sh` (`make bench`). "
         "Each entry ran the number of times listed under Runs, in interleaved rounds; "
         "values are the median with [min-max] over those runs. A ratio compares a "
         "measurement with the peer measured in the same round, then takes the median "
         "of the per-round ratios. Spread = (max - min) / median; above %d %% it is "
         "flagged **noisy**." % (SPREAD_WARN * 100), ""]
    L += machine_lines(m)
    L.append("")
    warn = []
    if (m.get("build_type") or "").lower() == "debug" or (m.get("sanitize") or "").upper() \
            in ("ON", "1", "TRUE"):
        warn.append("This is a Debug or sanitizer build: its numbers say nothing about "
                    "release performance.")
    skipped = ("not built", "no cqlmq-node")
    bad = [r for r in runs if r.get("status") not in ("ok",) + skipped]
    if bad:
        warn.append("Failed runs: " + ", ".join("%s #%s (%s)" % (r["entry"], r["rep"],
                                                                r["status"]) for r in bad))
    errs = [s for g in sections.values() for ss in g.values() for s in ss if s.errors]
    if errs:
        warn.append("Requests answered with errors: " + ", ".join(
            "%s / %s: %d" % (s.group, s.name, s.errors) for s in errs))
    for w in warn:
        L += ["> **Warning:** " + w, ""]

    L += ["## Ratios against peers measured in the same run", ""]
    if ratios:
        if "ratios" in plots:
            L += ["![ratios](ratios.png)", ""]
        L += ["| section | group | ours | peer | ours | peer | advantage [min-max] |",
              "|---|---|---|---|---:|---:|---|"]
        for r in ratios:
            u = r.ours.unit
            L.append("| %s | %s | %s | %s | %s | %s | %s%s |" % (
                r.ours.section, r.ours.group, r.ours.name, r.peer.name,
                fmt(r.ours.median, u), fmt(r.peer.median, u), r.text(),
                "" if r.paired else " (unpaired medians)"))
        L += ["", "Advantage > 1 means cqlmq's side is better (faster, or lower latency); "
              "for latency units it is peer / ours, for rates ours / peer.", ""]
    else:
        L += ["No measurement had a peer in this run.", ""]

    for sec, groups in sections.items():
        L += ["## %s" % sec, ""]
        if sec in plots:
            L += ["![%s](%s.png)" % (sec, sec), ""]
        if sec + "-latency" in plots:
            L += ["![%s latency](%s-latency.png)" % (sec, sec), ""]
        L += ["| group | measurement | median | [min-max] | runs | spread | "
              "p50 / p99 / p99.9 (us) | peak RSS |",
              "|---|---|---:|---|---:|---:|---|---:|"]
        for grp, ss in groups.items():
            for s in ss:
                p = "-"
                if s.has_pcts():
                    p = " / ".join(fmt(s.pct(k)) for k, _ in PCTS)
                sp = "%.0f %%" % (100 * s.spread) + (" **noisy**" if s.spread > SPREAD_WARN
                                                     else "")
                rss = "%.1f MiB" % (max(s.rss) / 1024.0) if s.rss else "-"
                L.append("| %s | %s | %s | [%s-%s] | %d | %s | %s | %s |" % (
                    grp, s.label(), fmt(s.median, s.unit), fmt(min(s.values)),
                    fmt(max(s.values)), len(s.values), sp, p, rss))
        L.append("")

    L += baseline_lines(out, sections)

    L += ["## Runs", "", "| entry | section | runs ok | seconds per run | load before/after | "
          "command |", "|---|---|---:|---|---|---|"]
    by_entry = {}
    for r in runs:
        by_entry.setdefault(r["entry"], []).append(r)
    for ent, rs in by_entry.items():
        ok = [r for r in rs if r.get("status") == "ok"]
        secs = ", ".join("%.1f" % r["seconds"] for r in rs if "seconds" in r) or "-"
        loads = ", ".join("%s/%s" % (r.get("load1_before"), r.get("load1_after"))
                          for r in rs if "load1_before" in r) or "-"
        st = "%d of %d" % (len(ok), len(rs))
        if not ok and rs and rs[0].get("status") in skipped:
            st = "skipped: " + rs[0]["status"]
        L.append("| %s | %s | %s | %s | %s | `%s` |" % (ent, rs[0]["section"], st, secs,
                                                          loads, rs[0].get("command", "")))
    L.append("")
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(L))


def main():
    if len(sys.argv) != 2:
        print("usage: plot.py <results dir>", file=sys.stderr)
        return 2
    out = sys.argv[1]
    records = load_lines(os.path.join(out, "results.jsonl"))
    if not records:
        print("plot.py: no results in %s" % out, file=sys.stderr)
        return 1
    runs = load_lines(os.path.join(out, "runs.jsonl"))
    try:
        with open(os.path.join(out, "machine.json")) as f:
            m = json.load(f)
    except (OSError, ValueError):
        m = {}
    sections = collect(records)
    ratios = ratios_of(sections)
    subtitle = "%s x %s, %s, %s build, %s" % (m.get("nproc", "?"), m.get("cpu_model", "?"),
                                             m.get("kernel", "?"), m.get("build_type", "?"),
                                             m.get("stamp", ""))
    plots = set()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        global ticker
        import matplotlib.ticker as ticker
    except ImportError:
        plt = None
        print("plot.py: matplotlib missing (apt-get install python3-matplotlib): "
              "summary without plots", file=sys.stderr)
    if plt is not None:
        for sec, groups in sections.items():
            try:
                if plot_section(plt, sec, groups, ratios, os.path.join(out, sec + ".png"),
                                subtitle):
                    plots.add(sec)
                if plot_latency(plt, sec, groups, os.path.join(out, sec + "-latency.png"),
                                subtitle):
                    plots.add(sec + "-latency")
            except Exception as e:  # a broken plot must not lose the summary
                print("plot.py: plot of %s failed: %s" % (sec, e), file=sys.stderr)
        try:
            if plot_ratios(plt, ratios, os.path.join(out, "ratios.png"), subtitle):
                plots.add("ratios")
        except Exception as e:
            print("plot.py: ratio plot failed: %s" % e, file=sys.stderr)
    summary(out, sections, ratios, runs, m, plots)
    return 0


if __name__ == "__main__":
    sys.exit(main())
