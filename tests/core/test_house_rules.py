"""The layering rules of ARCHITECTURE.md, checked by reading the imports.

Every way a module can reach another counts: ``import x``, ``from x import y``, relative
imports (resolved against the importing module's package), and ``importlib.import_module``
or ``__import__`` called with a string literal. The checker's own tests plant violations
of each kind and see them reported, so a checker that silently stops seeing imports fails.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Collection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "desktop" / "takestock"

QT = "Qt code belongs in takestock/ui/; core and vendors must run headless"
UI = "takestock.ui is the top floor; move the shared logic down into takestock/core"

CORE_RULES = {
    "PySide6": QT,
    "shiboken6": QT,
    "takestock.ui": UI,
    "takestock.vendors": (
        "the engine is handed its adapters by the composition root (app.py, cli.py, "
        "wiring.py) and knows them only through core/vendor.py"
    ),
    "takestock.wiring": "wiring is the composition root; core must not reach up to it",
    "takestock.cli": "the CLI is a face on top of core",
}
VENDOR_RULES = {
    "PySide6": QT,
    "shiboken6": QT,
    "takestock.ui": UI,
    "takestock.wiring": "adapters get what they need from their factory (vendors/__init__)",
    "takestock.cli": "adapters must not depend on a face",
}
UI_RULES = {
    "takestock.wiring": (
        "screens take only what they use; the composition root hands it to them "
        "(MainWindow connects screens in one place)"
    ),
    "takestock.cli": "the GUI is a face of its own; share code through takestock/core",
}

# Named debts: ui modules that still take the whole Services bag from wiring. Each entry
# is a screen waiting to take only what it uses; remove it when that lands, never add one.
UI_WIRING_DEBTS = {
    "ui/bridge.py",
    "ui/main_window.py",
    "ui/tray.py",
    "ui/screens/arena.py",
    "ui/screens/compare/screen.py",
    "ui/screens/credits/screen.py",
    "ui/screens/generate.py",
    "ui/screens/generate_targets.py",
    "ui/screens/library/screen.py",
    "ui/screens/prompts.py",
    "ui/screens/queue.py",
    "ui/screens/settings.py",
}


def _module_name(path: Path, root: Path) -> tuple[str, bool]:
    """The dotted name of ``path`` under ``root`` (its parent holds the top package),
    and whether it is a package's ``__init__``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _resolve(module: str | None, level: int, here: str, is_package: bool) -> str:
    """A relative import's absolute name, as Python resolves it."""
    if level == 0:
        return module or ""
    base = here.split(".")
    if not is_package:
        base.pop()
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _literal_import(node: ast.Call) -> str | None:
    """``importlib.import_module("x")`` / ``import_module("x")`` / ``__import__("x")``."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def _imports(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    here, is_package = _module_name(path, root)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module, node.level, here, is_package)
            found.append((node.lineno, base))
            # `from . import ui` names a module, not an attribute: check base.name too.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and (target := _literal_import(node)):
            found.append((node.lineno, target))
    return found


def _violations(
    folder: str,
    forbidden: dict[str, str],
    *,
    root: Path = PACKAGE,
    debts: Collection[str] = (),
) -> list[str]:
    problems = set()
    for path in sorted((root / folder).rglob("*.py")):
        where = path.relative_to(root).as_posix()
        if where in debts:
            continue
        for line, module in _imports(path, root):
            for prefix, advice in forbidden.items():
                if module == prefix or module.startswith(prefix + "."):
                    problems.add(
                        f"{path.relative_to(root.parent)}:{line} imports {prefix}: {advice}"
                    )
    return sorted(problems)


def test_core_imports_no_qt_no_ui_and_no_vendors():
    problems = _violations("core", CORE_RULES)
    assert not problems, "\n".join(problems)


def test_vendors_import_only_core():
    problems = _violations("vendors", VENDOR_RULES)
    assert not problems, "\n".join(problems)


def test_ui_does_not_reach_the_composition_root():
    problems = _violations("ui", UI_RULES, debts=UI_WIRING_DEBTS)
    assert not problems, "\n".join(problems)


def test_the_wiring_debts_are_still_debts():
    """A debt that was paid is struck off the list, so it cannot quietly come back."""
    paid = sorted(
        debt
        for debt in UI_WIRING_DEBTS
        if not _violations("ui", UI_RULES, debts=UI_WIRING_DEBTS - {debt})
    )
    assert not paid, f"remove from UI_WIRING_DEBTS, these no longer import wiring: {paid}"


def test_the_package_list_names_every_subpackage():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = {
        ".".join(p.parent.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py")
    } | {"takestock.resources"}
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "takestock"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_checker_reports_every_kind_of_import(tmp_path):
    root = _plant(
        tmp_path,
        {
            "__init__.py": "",
            "core/__init__.py": "",
            "core/absolute.py": "from PySide6.QtCore import QObject\n",
            "core/plain.py": "import takestock.vendors.sandbox\n",
            "core/relative.py": "from ..vendors import sandbox\n",
            "core/relative_name.py": "from .. import ui\n",
            "core/dynamic.py": "import importlib\nimportlib.import_module('takestock.ui.app')\n",
            "core/dunder.py": "__import__('shiboken6')\n",
            "core/clean.py": "from . import store\nfrom .store import Store\nimport json\n",
            "core/store.py": "",
        },
    )
    problems = _violations("core", CORE_RULES, root=root)
    reported = {line.split(":")[0].rsplit("/", 1)[-1] for line in problems}
    assert reported == {
        "absolute.py",
        "plain.py",
        "relative.py",
        "relative_name.py",
        "dynamic.py",
        "dunder.py",
    }, problems


def test_relative_imports_resolve_as_python_does(tmp_path):
    root = _plant(
        tmp_path,
        {
            "ui/screens/__init__.py": "from .. import widgets\n",
            "ui/screens/library.py": "from ...wiring import Services\nfrom . import compare\n",
        },
    )
    assert (1, "takestock.ui.widgets") in _imports(root / "ui/screens/__init__.py", root)
    modules = {m for _, m in _imports(root / "ui/screens/library.py", root)}
    assert {"takestock.wiring", "takestock.ui.screens.compare"} <= modules
