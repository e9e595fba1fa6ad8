"""``takestock.resources`` is the top-level ``resources/`` folder (pyproject's package-dir).

PyInstaller looks for submodules only in the parent package's folder
(``desktop/takestock``), so point it at the repository root, where ``resources/`` is.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]


def pre_find_module_path(api):
    api.search_dirs = [str(ROOT)]
