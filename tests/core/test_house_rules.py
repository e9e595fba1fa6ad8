"""The layering rules of ARCHITECTURE.md, checked by reading the imports."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "desktop" / "takestock"


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _violations(folder: str, forbidden: dict[str, str]) -> list[str]:
    problems = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for line, module in _imports(path):
            for prefix, advice in forbidden.items():
                if module == prefix or module.startswith(prefix + "."):
                    where = path.relative_to(ROOT)
                    problems.append(f"{where}:{line} imports {module}: {advice}")
    return problems


QT = "Qt code belongs in takestock/ui/; core and vendors must run headless"
UI = "takestock.ui is the top floor; move the shared logic down into takestock/core"


def test_core_imports_no_qt_no_ui_and_no_vendors():
    problems = _violations(
        "core",
        {
            "PySide6": QT,
            "shiboken6": QT,
            "takestock.ui": UI,
            "takestock.vendors": (
                "the engine is handed its adapters by the composition root (app.py, cli.py, "
                "wiring.py) and knows them only through core/vendor.py"
            ),
            "takestock.wiring": "wiring is the composition root; core must not reach up to it",
            "takestock.cli": "the CLI is a face on top of core",
        },
    )
    assert not problems, "\n".join(problems)


def test_vendors_import_only_core():
    problems = _violations(
        "vendors",
        {
            "PySide6": QT,
            "shiboken6": QT,
            "takestock.ui": UI,
            "takestock.wiring": "adapters get what they need from their factory (vendors/__init__)",
            "takestock.cli": "adapters must not depend on a face",
        },
    )
    assert not problems, "\n".join(problems)


def test_the_package_list_names_every_subpackage():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = {
        ".".join(p.parent.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py")
    } | {"takestock.resources"}
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"


def test_the_checker_would_catch_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtCore import QObject\nimport takestock.vendors.sandbox\n")
    assert [m for _, m in _imports(bad)] == ["PySide6.QtCore", "takestock.vendors.sandbox"]
