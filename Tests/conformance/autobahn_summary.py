#!/usr/bin/env python3
"""Prints the Autobahn results per section (OK, NON-STRICT, INFORMATIONAL, UNIMPLEMENTED, FAILED) and exits 1 if
any case FAILED (its close behaviour included), or if a permessage-deflate case (12, 13) found no compression:
Herald negotiates it, so UNIMPLEMENTED there means the negotiation broke."""
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
uncompressed = [case for case, result in cases.items()
                if int(case.split(".")[0]) in (12, 13) and result["behavior"] == "UNIMPLEMENTED"]
order = lambda c: [int(p) for p in c.split(".")]
if failed:
    print("FAILED cases: " + ", ".join(sorted(failed, key=order)))
if uncompressed:
    print("permessage-deflate not negotiated in: " + ", ".join(sorted(uncompressed, key=order)))
if failed or uncompressed:
    sys.exit(1)
