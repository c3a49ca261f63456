"""`make bench`: run every benchmark, write `.bench/results.json` (one key per figure, with units) and
print a table. `--quick` runs the everyday-sized variant."""

from __future__ import annotations

import json
import platform
import sys
import time

from tests.bench import mail, workspace
from tests.bench.harness import ROOT

SUITES = [("mail", mail.run), ("workspace", workspace.run)]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    results: dict = {
        "_meta": {
            "quick": quick,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
    }
    for name, run in SUITES:
        print(f"== {name}", flush=True)
        results.update(run(quick))
    out = ROOT / ".bench"
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{'figure':<32} {'value':>12}  unit")
    for key, figure in results.items():
        if key.startswith("_"):
            continue
        print(f"{key:<32} {figure['value']!s:>12}  {figure['unit']}")
    print(f"\nwritten to {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
