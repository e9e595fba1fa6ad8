"""Helps ``update-translations.sh`` find every string the UI translates.

``pyside6-lupdate`` sees literals passed straight to ``tr``, ``translate`` and
``QT_TRANSLATE_NOOP``. The UI also translates in ways it cannot follow, and this script
spells those out for it:

* a module's one-line helper, ``def _tr(text): return QCoreApplication.translate("Queue",
  text)``, called as ``_tr("Cancel")``;
* a string picked from a constant: ``self.tr(self.COLUMNS[section])``,
  ``_tr(_KIND_WORDS.get(kind, kind))``, or a loop over one (``for key, title, _ in
  SCREENS: self.tr(title)``).

``stubs OUT FILE...`` writes, for each source file, a stub under OUT at the same relative
path whose line N holds ``QT_TRANSLATE_NOOP(context, text)`` for each such string found
on line N of the source, so lupdate records the right context and line; calls it still
cannot resolve are listed on stderr. ``tidy TS OUT`` points the stubs' locations in the
.ts back at the sources and drops lupdate's notes made of ``#:`` comments. ``check
FILE...`` lists user-visible literals given to Qt widgets without ``tr`` (file:line),
for a person to fix.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# ------------------------------------------------------------------ finding strings

_NOOPS = {"QT_TRANSLATE_NOOP", "QT_TR_NOOP", "QT_TRANSLATE_NOOP3", "QT_TRANSLATE_N_NOOP"}


@dataclass(frozen=True)
class Helper:
    """A module-level function that returns ``QCoreApplication.translate(...)``.

    Each of ``context``, ``text``, ``comment`` and ``n`` is ``("const", value)``,
    ``("param", name)`` or ``None`` (not passed to translate).
    """

    params: tuple[str, ...]
    defaults: dict[str, ast.expr]
    context: tuple[str, object] | None
    text: tuple[str, object] | None
    comment: tuple[str, object] | None
    n: tuple[str, object] | None


@dataclass
class Found:
    stubs: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    unresolved: list[tuple[int, str]] = field(default_factory=list)


def _is_translate(func: ast.expr) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "translate") or (
        isinstance(func, ast.Name) and func.id == "translate"
    )


def _spec(node: ast.expr | None, params: tuple[str, ...]) -> tuple[str, object] | None:
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        return ("const", node.value)
    if isinstance(node, ast.Name) and node.id in params:
        return ("param", node.id)
    return ("other", ast.unparse(node))


def _helpers(tree: ast.Module) -> dict[str, Helper]:
    found: dict[str, Helper] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        body = [
            s
            for s in node.body
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        ]
        if len(body) != 1 or not isinstance(body[0], ast.Return):
            continue
        call = body[0].value
        if not (isinstance(call, ast.Call) and _is_translate(call.func)):
            continue
        args = node.args.posonlyargs + node.args.args
        params = tuple(a.arg for a in args)
        defaults = dict(
            zip(params[len(params) - len(node.args.defaults) :], node.args.defaults, strict=True)
        )
        context, text, comment, n = (
            _spec(a, params) for a in [*call.args, None, None, None, None][:4]
        )
        found[node.name] = Helper(params, defaults, context, text, comment, n)
    return found


class _Scope:
    """Where a call sits: module, enclosing classes and the ``for`` loops around it."""

    def __init__(self, module: ast.Module) -> None:
        self.module = module
        self.classes: list[ast.ClassDef] = []
        self.loops: list[ast.For | ast.comprehension] = []

    def constant(self, name: str, on_self: bool) -> ast.expr | None:
        """The value assigned to ``name`` in the innermost class (for ``self.name``)
        or at module level."""
        bodies = [self.classes[-1].body] if on_self and self.classes else []
        bodies.append(self.module.body)
        for body in bodies:
            for stmt in body:
                targets: list[ast.expr] = []
                value: ast.expr | None = None
                if isinstance(stmt, ast.Assign):
                    targets, value = stmt.targets, stmt.value
                elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                    targets, value = [stmt.target], stmt.value
                for target in targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        return value
        return None


def _collection(expr: ast.expr, scope: _Scope) -> list[ast.expr] | None:
    """The items of a constant tuple/list/set, or the values of a dict, named by expr."""
    value: ast.expr | None = None
    if isinstance(expr, ast.Name):
        value = scope.constant(expr.id, on_self=False)
    elif isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        own_class = bool(scope.classes) and expr.value.id == scope.classes[-1].name
        if expr.value.id in ("self", "cls") or own_class:
            value = scope.constant(expr.attr, on_self=True)
    elif isinstance(expr, ast.Tuple | ast.List | ast.Set | ast.Dict):
        value = expr
    if isinstance(value, ast.Tuple | ast.List | ast.Set):
        return list(value.elts)
    if isinstance(value, ast.Dict):
        return list(value.values)
    return None


def _strings(items: list[ast.expr]) -> list[ast.Constant] | None:
    """The string literals among items; QT_TRANSLATE_NOOP ones lupdate finds itself."""
    out: list[ast.Constant] = []
    for item in items:
        if isinstance(item, ast.Constant) and isinstance(item.value, str):
            out.append(item)
        elif isinstance(item, ast.Call) and getattr(item.func, "id", None) in _NOOPS:
            continue
        else:
            return None
    return out


def _texts(expr: ast.expr, scope: _Scope) -> list[ast.Constant] | None:
    """Every literal ``expr`` can be, or None when that cannot be told."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr]
    if isinstance(expr, ast.Subscript):
        items = _collection(expr.value, scope)
        return _strings(items) if items is not None else None
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "get"
    ):
        items = _collection(expr.func.value, scope)
        return _strings(items) if items is not None else None
    if isinstance(expr, ast.Name):
        for loop in reversed(scope.loops):
            target = loop.target
            if isinstance(target, ast.Name) and target.id == expr.id:
                items = _collection(loop.iter, scope)
                return _strings(items) if items is not None else None
            if isinstance(target, ast.Tuple):
                names = [getattr(t, "id", None) for t in target.elts]
                if expr.id in names:
                    index = names.index(expr.id)
                    rows = _collection(loop.iter, scope)
                    if rows is None:
                        return None
                    picked: list[ast.expr] = []
                    for row in rows:
                        if not isinstance(row, ast.Tuple | ast.List) or len(row.elts) <= index:
                            return None
                        picked.append(row.elts[index])
                    return _strings(picked)
    return None


def _bind(helper: Helper, call: ast.Call) -> dict[str, ast.expr]:
    bound = dict(helper.defaults)
    for name, arg in zip(helper.params, call.args, strict=False):
        bound[name] = arg
    for kw in call.keywords:
        if kw.arg is not None:
            bound[kw.arg] = kw.value
    return bound


def _literal(spec: tuple[str, object] | None, bound: dict[str, ast.expr]) -> object:
    """A spec's value for one call: a constant, ``...`` when not literal, None if absent."""
    if spec is None:
        return None
    kind, value = spec
    if kind == "const":
        return value
    if kind == "param":
        arg = bound.get(str(value))
        try:
            return ast.literal_eval(arg) if arg is not None else None
        except (ValueError, TypeError, SyntaxError):
            return ...
    return ...


def _stub(context: str, text: str, comment: str | None, numerus: bool) -> str:
    args = [json.dumps(context, ensure_ascii=False), json.dumps(text, ensure_ascii=False)]
    if numerus:
        args += [json.dumps(comment, ensure_ascii=False) if comment else "None", "1"]
        return f"QCoreApplication.translate({', '.join(args)})"
    if comment:
        args.append(json.dumps(comment, ensure_ascii=False))
        return f"QCoreApplication.translate({', '.join(args)})"
    return f"QT_TRANSLATE_NOOP({', '.join(args)})"


def _emit(
    found: Found,
    call: ast.Call,
    context: object,
    text_expr: ast.expr | None,
    comment: object,
    numerus: bool,
    scope: _Scope,
    literal_is_known: bool,
) -> None:
    """Record the strings of one translating call (lupdate already has plain literals
    of tr/translate calls: ``literal_is_known``)."""
    if text_expr is None:
        return
    if literal_is_known and isinstance(text_expr, ast.Constant):
        return
    texts = _texts(text_expr, scope)
    if not isinstance(context, str) or texts is None or comment is ...:
        found.unresolved.append((call.lineno, ast.unparse(call)))
        return
    for text in texts:
        note = comment if isinstance(comment, str) else None
        stub = _stub(context, str(text.value), note, numerus)
        found.stubs[text.lineno].append(stub)


def find(source: str) -> Found:
    """The strings of ``source`` that lupdate cannot see, by line."""
    tree = ast.parse(source)
    helpers = _helpers(tree)
    found = Found()
    scope = _Scope(tree)
    helper_bodies = {
        id(stmt.value)
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in helpers
        for stmt in node.body
        if isinstance(stmt, ast.Return)
    }

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Call) and id(node) not in helper_bodies:
            _visit_call(node)
        if isinstance(node, ast.ClassDef):
            scope.classes.append(node)
        elif isinstance(node, ast.For):
            scope.loops.append(node)
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            scope.loops.extend(node.generators)
        for child in ast.iter_child_nodes(node):
            visit(child)
        if isinstance(node, ast.ClassDef):
            scope.classes.pop()
        elif isinstance(node, ast.For):
            scope.loops.pop()
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            del scope.loops[-len(node.generators) :]

    def _visit_call(call: ast.Call) -> None:
        func = call.func
        args = [*call.args, None, None, None, None]
        if isinstance(func, ast.Name) and func.id in helpers:
            helper = helpers[func.id]
            bound = _bind(helper, call)
            text_param = helper.text[1] if helper.text and helper.text[0] == "param" else None
            text_expr = bound.get(str(text_param)) if text_param else None
            n = _literal(helper.n, bound)
            numerus = helper.n is not None and n is not None and n != -1
            _emit(
                found,
                call,
                _literal(helper.context, bound),
                text_expr,
                _literal(helper.comment, bound),
                numerus,
                scope,
                literal_is_known=False,
            )
        elif _is_translate(func):
            context = args[0]
            if isinstance(context, ast.Constant):
                _emit(
                    found,
                    call,
                    context.value,
                    args[1],
                    args[2].value if isinstance(args[2], ast.Constant) else None,
                    args[3] is not None,
                    scope,
                    literal_is_known=True,
                )
        elif (
            isinstance(func, ast.Attribute)
            and func.attr == "tr"
            and isinstance(func.value, ast.Name)
            and func.value.id in ("self", "cls")
            and scope.classes
        ):
            _emit(
                found,
                call,
                scope.classes[-1].name,
                args[0],
                args[1].value if isinstance(args[1], ast.Constant) else None,
                args[2] is not None,
                scope,
                literal_is_known=True,
            )

    visit(tree)
    return found


def write_stubs(out: Path, files: list[Path]) -> int:
    count = 0
    for path in files:
        found = find(path.read_text(encoding="utf-8"))
        for line, call in found.unresolved:
            print(
                f"{path}:{line}: cannot tell what this translates (mark its strings with"
                f" QT_TRANSLATE_NOOP where they are written): {call}",
                file=sys.stderr,
            )
        if not found.stubs:
            continue
        lines = [""] * max(found.stubs)
        for line, stubs in found.stubs.items():
            lines[line - 1] = "; ".join(dict.fromkeys(stubs))
            count += len(stubs)
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return count


def tidy(ts: Path, out: Path) -> None:
    """Point the stubs' locations in the .ts back at the sources, and drop the
    ``<extracomment>`` elements lupdate makes of ``#:`` comments (here they document
    attributes for Sphinx, not strings for translators: a note for translators goes in
    tr's disambiguation argument)."""
    text = ts.read_text(encoding="utf-8")
    marker = out.as_posix().strip("/") + "/"
    text = re.sub(r'(filename="(?:\.\./)*)' + re.escape(marker), r"\1", text)
    text = re.sub(r"\n[ \t]*<extracomment>.*?</extracomment>", "", text, flags=re.DOTALL)
    ts.write_text(text, encoding="utf-8")


# ------------------------------------------------------------------ untranslated text

#: Widgets and items whose constructor's string arguments are shown to the user.
_SHOWN_CTORS = {
    "QLabel",
    "QPushButton",
    "QToolButton",
    "QCheckBox",
    "QRadioButton",
    "QGroupBox",
    "QAction",
    "QMenu",
    "QCommandLinkButton",
    "QListWidgetItem",
    "QTableWidgetItem",
    "QStandardItem",
}
#: Methods whose string arguments are shown to the user, and which arguments (None: all;
#: addItem's second is data, QTabWidget.addTab's first a widget).
_SHOWN_METHODS: dict[str, tuple[int, ...] | None] = {
    **dict.fromkeys(
        (
            "setText",
            "setToolTip",
            "setPlaceholderText",
            "setWindowTitle",
            "setStatusTip",
            "setWhatsThis",
            "setTitle",
            "setLabelText",
            "setSuffix",
            "setPrefix",
            "setSpecialValueText",
            "showMessage",
            "addItem",
            "addItems",
            "addAction",
            "addMenu",
            "addRow",
            "setHtml",
            "setHorizontalHeaderLabels",
            "setVerticalHeaderLabels",
            "setHeaderLabels",
            "setAccessibleName",
            "setInformativeText",
            "setDetailedText",
            "addButton",
        ),
        (0,),
    ),
    **dict.fromkeys(
        ("addTab", "insertItem", "setItemText", "setTabText", "setTabToolTip", "setButtonText"),
        (0, 1),
    ),
    "insertTab": (1, 2),
    **dict.fromkeys(
        (
            "information",
            "warning",
            "critical",
            "question",
            "about",
            "getExistingDirectory",
            "getOpenFileName",
            "getOpenFileNames",
            "getSaveFileName",
            "getText",
            "getItem",
            "getInt",
            "getDouble",
        ),
        None,
    ),
}
#: Text that is the same in every language.
_UNTRANSLATED_OK = {"Takestock"}
_HTML = re.compile(r"<[^>]*>")
_WORDS = re.compile(r"[A-Za-z]{2,}")


def _shown_text(expr: ast.expr) -> str | None:
    """Why ``expr`` is user-visible text that skipped tr, or None."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        text = expr.value
        shown = text not in _UNTRANSLATED_OK and _WORDS.search(_HTML.sub("", text))
        return repr(text) if shown else None
    if isinstance(expr, ast.JoinedStr):
        literal = "".join(
            v.value for v in expr.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
        return ast.unparse(expr) if _WORDS.search(_HTML.sub("", literal)) else None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod | ast.Add):
        return _shown_text(expr.left) or _shown_text(expr.right)
    if isinstance(expr, ast.Call) and getattr(expr.func, "attr", None) == "format":
        return _shown_text(expr.func.value)  # type: ignore[attr-defined]
    if isinstance(expr, ast.List | ast.Tuple):
        for item in expr.elts:
            if why := _shown_text(item):
                return why
    return None


def untranslated(source: str) -> Iterator[tuple[int, str]]:
    """(line, what) for each literal given to a widget without tr, and each tr of a
    string built at run time (which no translation can match)."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        keywords = [k.value for k in node.keywords if k.arg in ("text", "title")]
        if name in _SHOWN_CTORS or name in _SHOWN_METHODS:
            positions = _SHOWN_METHODS.get(name) if name in _SHOWN_METHODS else None
            args = [a for i, a in enumerate(node.args) if positions is None or i in positions]
            for arg in args + keywords:
                if why := _shown_text(arg):
                    yield node.lineno, f"{name}({why})"
                    break
        elif name in ("tr", "translate") and node.args:
            text = node.args[0 if name == "tr" else min(1, len(node.args) - 1)]
            if isinstance(text, ast.JoinedStr | ast.BinOp) or (
                isinstance(text, ast.Call) and getattr(text.func, "attr", None) == "format"
            ):
                yield node.lineno, f"{name}() of text built at run time: {ast.unparse(text)}"
            if any(k.arg == "n" for k in node.keywords):
                yield node.lineno, f"{name}(..., n=...): lupdate skips keyword n; pass it third"


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "stubs":
        count = write_stubs(Path(argv[1]), [Path(a) for a in argv[2:]])
        print(f"translation_sources: {count} strings lupdate cannot see alone", file=sys.stderr)
        return 0
    if len(argv) == 3 and argv[0] == "tidy":
        tidy(Path(argv[1]), Path(argv[2]))
        return 0
    if argv and argv[0] == "check":
        hits = 0
        for name in argv[1:]:
            for line, what in untranslated(Path(name).read_text(encoding="utf-8")):
                print(f"{name}:{line}: {what}")
                hits += 1
        return 1 if hits else 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
