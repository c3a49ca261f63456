"""`make bench`: run every benchmark, write `.bench/results.json` (one key per figure, with units) and
print a table. `--quick` runs the everyday-sized variant."""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable

from tests.bench import assist, mail, mail_worst, scaling, sensitivity, workspace
from tests.bench.harness import ROOT

# The pages, sweep, rollup and next-ticket run on the one data set; mail in runs on a database of its own
# that it empties first, then on the data set; the sensitivity scan needs no database; the scaling curves
# (1, 2 and 4 worker processes) run on another database; the assist accuracy on a labelled set of its own.
SUITES: list[tuple[str, Callable[[bool], dict]]] = [
    ("workspace", workspace.run),
    ("mail", lambda quick: mail.run(quick, on_dataset=False)),
    # The same mail applied on the workspace data set (1,000,000 tickets; its additions removed after).
    ("mail_on_dataset", lambda quick: mail.run(quick, on_dataset=True)),
    ("mail_worst", mail_worst.run),
    ("sensitivity", sensitivity.run),
    ("scaling", scaling.run),
    ("assist", assist.run),
]


def main(argv: list[str]) -> int:
    """`--quick`: the everyday size. `--only a,b`: those suites alone (`make bench ONLY=workspace`). The
    results file is written after each suite, so an interrupted run keeps what it measured."""
    quick = "--quick" in argv
    only = argv[argv.index("--only") + 1].split(",") if "--only" in argv else [name for name, _run in SUITES]
    unknown = set(only) - {name for name, _run in SUITES}
    if unknown:
        print(f"unknown suite(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    results: dict = {
        "_meta": {
            "quick": quick,
            "suites": only,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
    }
    results["quick"] = {"value": quick, "unit": "flag"}
    out = ROOT / ".bench"
    out.mkdir(exist_ok=True)
    for name, run in SUITES:
        if name not in only:
            continue
        print(f"== {name}", flush=True)
        started = time.monotonic()
        results.update(run(quick))
        print(f"   {name} took {time.monotonic() - started:.0f} s", flush=True)
        (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{'figure':<30} {'value':>10}  {'unit':<14} {'goal':<8} {'p50/p99 ms':<16} queries")
    for key, figure in results.items():
        if key.startswith("_"):
            continue
        spread = f"{figure['p50_ms']}/{figure['p99_ms']}" if "p50_ms" in figure else ""
        print(
            f"{key:<30} {figure['value']!s:>10}  {figure['unit']:<14} {figure.get('goal', ''):<8} {spread:<16} "
            f"{figure.get('queries') or ''}"
        )
    print("\nLatencies come from a shared 2-core machine: compare runs on an idle one.")
    print(f"\nwritten to {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
