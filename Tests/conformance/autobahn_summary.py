#!/usr/bin/env python3
"""Prints the Autobahn results per section (OK, NON-STRICT, INFORMATIONAL, UNIMPLEMENTED, FAILED) and exits 1 if
any case of sections 1-10 FAILED, or any case's close behaviour FAILED."""
import collections
import json
import sys

report = json.load(open(sys.argv[1]))
cases = next(iter(report.values()))
by_section = collections.defaultdict(collections.Counter)
failed = []
for case, result in cases.items():
    section = int(case.split(".")[0])
    behaviour = result["behavior"]
    if result.get("behaviorClose") == "FAILED" and behaviour != "UNIMPLEMENTED":
        behaviour = "FAILED"
    by_section[section][behaviour] += 1
    if behaviour == "FAILED":
        failed.append(case)
columns = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
print("Autobahn fuzzingclient against /api/v1/ws/echo")
print(f"{'section':>8} " + " ".join(f"{c:>14}" for c in columns))
for section in sorted(by_section):
    print(f"{section:>8} " + " ".join(f"{by_section[section][c]:>14}" for c in columns))
total = collections.Counter()
for counter in by_section.values():
    total.update(counter)
print(f"{'total':>8} " + " ".join(f"{total[c]:>14}" for c in columns) + f"   ({len(cases)} cases)")
blocking = [case for case in failed if int(case.split(".")[0]) <= 10]
if blocking:
    print("FAILED cases in 1-10: " + ", ".join(sorted(blocking, key=lambda c: [int(p) for p in c.split(".")])))
    sys.exit(1)
