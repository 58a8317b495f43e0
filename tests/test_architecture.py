"""The layout rules of docs/architecture.md that import-linter cannot check: no module over
600 lines and no function over 80 lines, outside tests and migrations. A function may be longer
only when its docstring says why, in a sentence containing "is long because"."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "matching", "resolution", "ingest", "app", "cli", "demo", "benchmarks")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
EXCUSE = "is long because"


def _modules() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                yield path


def test_the_packages_are_found() -> None:
    found = {path.relative_to(ROOT).parts[0] for path in _modules()}
    assert found == set(PACKAGES)


def test_no_module_is_over_600_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_80_lines_unless_its_docstring_says_why() -> None:
    long = {}
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES and EXCUSE not in (ast.get_docstring(node) or ""):
                long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = lines
    assert long == {}
