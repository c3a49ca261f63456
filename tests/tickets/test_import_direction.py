"""The dependency direction: `sop`, `metrics` and `assist` build on `tickets`; `tickets` imports none of them,
at module level or inside a function (a function-level import that breaks a cycle is still the cycle).
Where the core must tell an upper app something it sends a signal (`tickets.signals`) or asks a registry
(`tickets.extensions`), connected in the upper app's `AppConfig.ready()`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UPPER_APPS = ("sop", "metrics", "assist")


def imported_modules(source: str) -> list[tuple[int, str]]:
    """Every module an `import` or `from ... import` names, anywhere in the file, with its line. Relative
    imports are left out: inside `tickets` they stay inside it."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def upward_imports(package: str) -> list[str]:
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in imported_modules(path.read_text()):
            if module.split(".")[0] in UPPER_APPS:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return wrong


def test_tickets_imports_neither_sop_nor_metrics():
    assert upward_imports("tickets") == []


@pytest.mark.parametrize(
    "source",
    [
        "from sop.services import reply_with_macro\n",
        "import metrics.models\n",
        "def solve():\n    from metrics.services import on_ticket_solved\n    on_ticket_solved()\n",
        "class Page:\n    def panel(self):\n        import sop.selectors as s\n        return s\n",
        "from importlib import import_module\nimport_module('metrics.demo')\n",
    ],
)
def test_the_check_sees_module_and_function_level_imports(source):
    assert [module.split(".")[0] for _, module in imported_modules(source)][-1] in UPPER_APPS


def test_the_check_reads_every_module_of_tickets():
    # A check that parsed nothing would pass whatever tickets imports.
    modules = list((ROOT / "tickets").rglob("*.py"))
    assert len(modules) > 50
    assert ROOT / "tickets" / "services.py" in modules
    assert ROOT / "tickets" / "workspace" / "views.py" in modules
