"""The suite's own shape: no test module imports another (shared helpers live in tests/helpers.py,
tests/review_helpers.py, tests/web.py, tests/workers.py and conftest.py fixtures)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_test_module_imports_another_or_conftest():
    offenders = {
        path.name: sorted(name for name in _imported_modules(path)
                          if name.startswith(("tests.test_", "tests.conftest")) or name in ("conftest",))
        for path in sorted(TESTS.glob("*.py"))
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_no_two_test_modules_share_a_name():
    # tests/browser has no __init__.py: pytest imports its modules by their bare name, so a browser test named
    # like a test in tests/ stops the collection of the whole suite.
    seen: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        if "node_modules" not in path.parts:
            seen.setdefault(path.name, []).append(str(path.relative_to(TESTS)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
