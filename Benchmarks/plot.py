"""Renders Benchmarks/results/*.json as PNG charts under docs/benchmarks/ (run by Benchmarks/plot.sh).

Each scenario's file names its target (`herald`, `current`, `main`, `baseline`, ...), so every chart puts the
targets of one run side by side. A scenario measured at several sizes (a `sockets` or `inbox_size` sweep, files
named <scenario>-<size>-<target>.json) is drawn as lines over the size. PLOT_TARGETS picks the targets to draw
(default: baseline,main,current, the three builds of an A/B run); REST runs are drawn whatever their target.
"""
import glob
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "Benchmarks", "results")
OUT = os.path.join(ROOT, "docs", "benchmarks")
ORDER = os.environ.get("PLOT_TARGETS", "baseline,main,current").split(",")
COLORS = {"baseline": "#8a8f98", "main": "#e5a50a", "current": "#3b6fd8", "herald": "#3b6fd8"}


def load():
    results = []
    for path in sorted(glob.glob(os.path.join(RESULTS, "*.json"))):
        with open(path) as handle:
            result = json.load(handle)
        result["file"] = os.path.basename(path)
        results.append(result)
    return results


def targets(results):
    found = {r.get("target", "?") for r in results} & set(ORDER)
    return sorted(found, key=ORDER.index)


def bars(axis, results, metrics, title, unit):
    """One group of bars per metric, one bar per target."""
    names = targets(results)
    width = 0.8 / max(len(names), 1)
    for index, name in enumerate(names):
        result = next(r for r in results if r.get("target") == name)
        values = [result.get(key) or 0 for key, _ in metrics]
        positions = [m + index * width for m in range(len(metrics))]
        drawn = axis.bar(positions, values, width, label=name, color=COLORS.get(name))
        axis.bar_label(drawn, fmt="%.3g", fontsize=7)
    axis.set_xticks([m + width * (len(names) - 1) / 2 for m in range(len(metrics))])
    axis.set_xticklabels([label for _, label in metrics])
    axis.set_title(title)
    axis.set_ylabel(unit)
    axis.legend(fontsize=8)


def size_of(result, scenario):
    """The sweep size in a file named <scenario>-<size>-<target>.json; None for the scenario's default size,
    and False for another scenario's file."""
    name = result["file"][: -len(".json")]
    if not name.startswith(scenario + "-"):
        return False
    first = name[len(scenario) + 1:].split("-")[0]
    return int(first) if first.isdigit() else None


def single_size(results, scenario):
    """The results of `scenario` at its default size: not part of a sweep."""
    return [r for r in results if r.get("scenario") == scenario and size_of(r, scenario) is None]


def value(result, key):
    """`key` of `result`, where a dotted key reaches into nested objects ("2_connections.list.p99_ms")."""
    for part in key.split("."):
        result = result.get(part, {}) if isinstance(result, dict) else {}
    return result if isinstance(result, (int, float)) else None


def sweep(axis, results, scenario, size_key, metrics, title, unit):
    runs = [r for r in results if r.get("scenario") == scenario and size_of(r, scenario)]
    if not runs:
        axis.set_visible(False)
        return False
    for name in targets(runs):
        mine = sorted((r for r in runs if r.get("target") == name), key=lambda r: r.get(size_key, 0))
        for key, label, style in metrics:
            axis.plot([r.get(size_key) for r in mine], [value(r, key) for r in mine], style, marker="o",
                      color=COLORS.get(name), label=f"{name} {label}")
    axis.set_xscale("log")
    axis.set_xlabel(size_key.replace("_", " "))
    axis.set_ylabel(unit)
    axis.set_title(title)
    axis.legend(fontsize=8)
    return True


def save(figure, name):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"wrote {os.path.relpath(path, ROOT)}")


def main():
    results = load()
    if not results:
        sys.exit(f"no results in {RESULTS}: run Benchmarks/bench.sh first")
    figure, axes = plt.subplots(2, 2, figsize=(11, 8))
    panels = [
        ("throughput", [("delivered_per_second", "delivered/s")], "Throughput, 10,000 sockets", "messages/s"),
        ("idle", [("connect_seconds", "10k connects (s)"), ("kb_per_socket", "KB per socket")],
         "Connects and idle memory", "s / KB"),
        ("fanout", [("p50_ms", "p50"), ("p99_ms", "p99")], "Fan-out to 10,000 sockets", "ms"),
        ("latency", [("p50_ms", "p50"), ("p99_ms", "p99")], "Publish to receipt at 1,000/s", "ms"),
    ]
    for axis, (scenario, metrics, title, unit) in zip(axes.flat, panels):
        runs = single_size(results, scenario)
        if runs:
            bars(axis, runs, metrics, title, unit)
        else:
            axis.set_visible(False)
    save(figure, "realtime.png")

    rest = [r for r in results if r.get("scenario", "").startswith("rest") and not size_of(r, "rest")]
    if rest:
        figure, axes = plt.subplots(1, len(rest), figsize=(6 * len(rest), 4), squeeze=False)
        for axis, result in zip(axes.flat, rest):
            operations = ["list", "unread_page", "unread_count", "mark_read"]
            loads = [key for key in result if key.endswith("_connections")]
            width = 0.8 / max(len(loads), 1)
            for index, level in enumerate(sorted(loads, key=lambda k: int(k.split("_")[0]))):
                values = [result[level].get(op, {}).get("requests_per_second", 0) for op in operations]
                drawn = axis.bar([o + index * width for o in range(len(operations))], values, width,
                                 label=level.replace("_", " "))
                axis.bar_label(drawn, fmt="%.0f", fontsize=7)
            axis.set_xticks([o + width * (len(loads) - 1) / 2 for o in range(len(operations))])
            axis.set_xticklabels(operations)
            axis.set_title(f"{result['scenario']} ({result.get('target')})")
            axis.set_ylabel("requests/s")
            axis.legend(fontsize=8)
        save(figure, "rest.png")

    figure, axes = plt.subplots(1, 3, figsize=(16, 4))
    drawn = sweep(axes[0], results, "fanout", "sockets", [("p50_ms", "p50", "-"), ("p99_ms", "p99", "--")],
                  "Fan-out by audience size", "ms")
    drawn = sweep(axes[1], results, "idle", "sockets", [("kb_per_socket", "KB/socket", "-")],
                  "Memory per socket by sockets", "KB") or drawn
    drawn = sweep(axes[2], results, "rest", "inbox_size",
                  [("2_connections.list.p50_ms", "list p50", "-"), ("2_connections.list.p99_ms", "list p99", "--"),
                   ("2_connections.unread_count.p99_ms", "count p99", ":")],
                  "A list page by inbox size, 2 connections", "ms") or drawn
    if drawn:
        save(figure, "sweeps.png")
    else:
        plt.close(figure)


if __name__ == "__main__":
    main()
