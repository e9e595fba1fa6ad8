"""A ComfyUI workflow saved the normal way (the UI format) turned into the API format.

ComfyUI's ``POST /prompt`` takes only the API format; its front end converts the graph
it shows when it queues (``graphToPrompt`` in ComfyUI_frontend's
``src/utils/executionUtil.ts``). This does the same from the saved file and the
server's node classes (``GET /object_info`` or ``/object_info/{class}``):

- a node's widget values (``widgets_values``, a list in widget order, or an object by
  name) go to its widget inputs in the order ``input_order`` gives (else the order of
  ``input.required`` then ``input.optional``): every input whose type is a combo, INT,
  FLOAT, STRING or BOOLEAN and not ``forceInput``. The front end adds a "control after
  generate" widget after a seed (``control_after_generate``, or an INT named ``seed``
  or ``noise_seed``) and an upload button after an ``image_upload`` combo; their saved
  values are skipped. A list value is wrapped as ``{"__value__": [...]}``, as the front
  end does, so ComfyUI does not read it as a link;
- a linked input (``inputs[i].link``, a widget converted to an input included) becomes
  ``[origin node id, origin slot]``, from ``links`` rows ``[id, origin id, origin slot,
  target id, target slot, type]`` (or the same as an object, the 1.0 schema); links
  through a ``Reroute`` are followed, a ``PrimitiveNode`` gives its value, a bypassed
  node (mode 4) passes its input of the link's type through, and a muted node (mode 2)
  is left out with every input linked to it;
- frontend-only nodes (``Note``, ``MarkdownNote``, ``Reroute``, ``PrimitiveNode``)
  produce nothing; ``_meta.title`` is the node's title (where Takestock's marks live),
  else the class's display name.

A node class the server lacks is kept with its links only, so the checks that follow
can name it. Subgraphs and the old group nodes are refused with what to do instead.
Loader nodes of ComfyUI's own templates carry ``properties.models`` (``name``, ``url``,
``directory``): they are returned so a missing file can be named with its folder and
where to download it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from takestock.core.errors import InvalidInput

__all__ = ["SKIPPED_MODES", "VIRTUAL_NODES", "ui_classes", "ui_to_api"]

#: LiteGraph node modes left out of a prompt: 2 "never" (muted), 4 bypass.
MUTED, BYPASSED = 2, 4
SKIPPED_MODES = (MUTED, BYPASSED)
#: Nodes that live only in the front end.
VIRTUAL_NODES = frozenset({"Note", "MarkdownNote", "Reroute", "PrimitiveNode"})
_WIDGET_TYPES = frozenset({"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"})
_CONTROL_VALUES = frozenset({"fixed", "increment", "decrement", "randomize"})
_UPLOAD_OPTIONS = ("image_upload", "video_upload", "audio_upload")
_UPLOAD_VALUES = frozenset({"image", "video", "audio"})
_MAX_HOPS = 64  # reroutes and bypasses followed before a link is given up as a loop


@dataclass(frozen=True, slots=True)
class _Link:
    origin: Any
    origin_slot: int
    type: Any


@dataclass(frozen=True, slots=True)
class _Widget:
    name: str
    control: bool  # followed by a "control after generate" value
    upload: bool  # followed by an upload button's value


def ui_classes(data: Mapping[str, Any]) -> set[str]:
    """The node classes a UI-format workflow runs (what the server must have)."""
    _refuse_nesting(data)
    return {
        str(node.get("type"))
        for node in data["nodes"]
        if isinstance(node, dict)
        and node.get("type") not in VIRTUAL_NODES
        and node.get("mode", 0) not in SKIPPED_MODES
    }


def ui_to_api(
    name: str, data: Mapping[str, Any], info: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """(API-format graph, model files by name) for a UI-format workflow."""
    _refuse_nesting(data)
    nodes = {node.get("id"): node for node in data["nodes"] if isinstance(node, dict)}
    links = _links(name, data.get("links"))
    graph: dict[str, Any] = {}
    files: dict[str, dict[str, str]] = {}
    for node_id, node in nodes.items():
        class_type = node.get("type")
        if class_type in VIRTUAL_NODES or node.get("mode", 0) in SKIPPED_MODES:
            continue
        if not isinstance(class_type, str) or node_id is None:
            raise InvalidInput("workflow", f"{name}: a node has no id or type")
        spec = info.get(class_type)
        inputs = _widget_values(node, spec) if isinstance(spec, dict) else {}
        for slot in node.get("inputs") or ():
            if not isinstance(slot, dict) or slot.get("link") is None or not slot.get("name"):
                continue
            origin = _origin(nodes, links, slot["link"])
            if origin is None:
                inputs.pop(str(slot["name"]), None)
            else:
                inputs[str(slot["name"])] = origin
        title = node.get("title") or (spec or {}).get("display_name") or class_type
        graph[str(node_id)] = {
            "inputs": inputs,
            "class_type": class_type,
            "_meta": {"title": title},
        }
        files.update(_model_files(node))
    # As the front end does: an input linked to a node that is not sent is dropped.
    for entry in graph.values():
        for key, value in list(entry["inputs"].items()):
            if isinstance(value, list) and len(value) == 2 and value[0] not in graph:
                del entry["inputs"][key]
    if not graph:
        raise InvalidInput("workflow", f"{name} has no nodes to run (all muted or notes)")
    return graph, files


def _refuse_nesting(data: Mapping[str, Any]) -> None:
    nodes = data.get("nodes")
    if not isinstance(nodes, list):
        raise InvalidInput("workflow", "a UI-format workflow needs a list of nodes")
    subgraphs = {
        str(s.get("id"))
        for s in ((data.get("definitions") or {}).get("subgraphs") or ())
        if isinstance(s, dict)
    }
    for node in nodes:
        kind = str(node.get("type")) if isinstance(node, dict) else ""
        if kind in subgraphs:
            raise InvalidInput(
                "workflow",
                f"node {node.get('id')} is a subgraph, which Takestock cannot read from a "
                "saved file: unpack it in ComfyUI (right click > Unpack Subgraph) and "
                "save again, or save with Export (API)",
            )
        if kind.startswith(("workflow>", "workflow/")):
            raise InvalidInput(
                "workflow",
                f"node {node.get('id')} is a group node ({kind}): convert it back to "
                "nodes in ComfyUI, or save with Export (API)",
            )


def _links(name: str, raw: Any) -> dict[Any, _Link]:
    links: dict[Any, _Link] = {}
    for row in raw or ():
        if isinstance(row, list) and len(row) >= 5:
            link_id, origin, slot, kind = row[0], row[1], row[2], row[5] if len(row) > 5 else None
        elif isinstance(row, dict):
            link_id, origin, slot = row.get("id"), row.get("origin_id"), row.get("origin_slot")
            kind = row.get("type")
        else:
            raise InvalidInput("workflow", f"{name}: a link is not [id, from, slot, to, slot]")
        if not isinstance(slot, int):
            raise InvalidInput("workflow", f"{name}: link {link_id} has no origin slot")
        links[link_id] = _Link(origin, slot, kind)
    return links


def _origin(nodes: Mapping[Any, Any], links: Mapping[Any, _Link], link_id: Any) -> Any:
    """``[node id, slot]`` or a value for a link, through reroutes and bypasses; None
    when it ends at a muted node or nowhere."""
    for _ in range(_MAX_HOPS):
        link = links.get(link_id)
        source = nodes.get(link.origin) if link is not None else None
        if link is None or source is None:
            return None
        kind, mode = source.get("type"), source.get("mode", 0)
        upstream = [s for s in source.get("inputs") or () if isinstance(s, dict)]
        if kind == "PrimitiveNode":
            values = source.get("widgets_values") or []
            return _wrap(values[0]) if values else None
        if kind == "Reroute" or mode == BYPASSED:
            # A bypassed node hands on its input of the link's type, the same slot first.
            same = upstream[link.origin_slot : link.origin_slot + 1]
            nxt = next(
                (
                    s["link"]
                    for s in same + upstream
                    if s.get("link") is not None
                    and (kind == "Reroute" or _same_type(s.get("type"), link.type))
                ),
                None,
            )
            if nxt is None:
                return None
            link_id = nxt
            continue
        if mode == MUTED:
            return None
        return [str(source.get("id")), link.origin_slot]
    return None


def _same_type(a: Any, b: Any) -> bool:
    return a == b or "*" in (a, b) or b is None


def _widgets(spec: Mapping[str, Any]) -> list[_Widget]:
    declared_all = spec.get("input") or {}
    order = spec.get("input_order") or {}
    widgets = []
    for group in ("required", "optional"):
        declared = declared_all.get(group) or {}
        for name in order.get(group) or list(declared):
            entry = declared.get(name)
            if not isinstance(entry, list) or not entry:
                continue
            kind = entry[0]
            options = entry[1] if len(entry) > 1 and isinstance(entry[1], dict) else {}
            if not (isinstance(kind, list) or kind in _WIDGET_TYPES) or options.get("forceInput"):
                continue
            control = bool(options.get("control_after_generate")) or (
                kind == "INT" and name in ("seed", "noise_seed")
            )
            upload = any(options.get(option) for option in _UPLOAD_OPTIONS)
            widgets.append(_Widget(str(name), control, upload))
    return widgets


def _widget_values(node: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    values = node.get("widgets_values")
    widgets = _widgets(spec)
    if isinstance(values, dict):  # some custom nodes save their values by name
        return {w.name: _wrap(values[w.name]) for w in widgets if w.name in values}
    inputs: dict[str, Any] = {}
    values = values if isinstance(values, list) else []
    at = 0
    for widget in widgets:
        if at >= len(values):
            break
        inputs[widget.name] = _wrap(values[at])
        at += 1
        if widget.control and at < len(values) and values[at] in _CONTROL_VALUES:
            at += 1
        if widget.upload and at < len(values) and values[at] in _UPLOAD_VALUES:
            at += 1
    return inputs


def _wrap(value: Any) -> Any:
    return {"__value__": value} if isinstance(value, list) else value


def _model_files(node: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    properties = node.get("properties")
    models = properties.get("models") if isinstance(properties, dict) else None
    files = {}
    for model in models or ():
        if isinstance(model, dict) and model.get("name") and model.get("directory"):
            entry = {"folder": str(model["directory"])}
            if model.get("url"):
                entry["url"] = str(model["url"])
            files[str(model["name"])] = entry
    return files
