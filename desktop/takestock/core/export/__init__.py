"""Hand-off: picked takes to a folder, with their metadata, an editor's bin and an EDL.

One export writes, into one folder the user names:

- each take's video under a readable name, ``<prompt title>_<vendor>_<model>_<take id>.mp4``,
  made safe for Windows, macOS and Linux alike (:func:`portable_component`,
  :class:`NameBook`), hard-linked from the library when the folder is on the same file
  system and copied otherwise, never over a different file already there;
- beside it a sidecar ``.json`` with what made the take and what the creator thinks of it
  (:data:`SIDECAR_FIELDS`), and one ``.csv`` for the batch with the same fields;
- optionally an FCPXML 1.11 document (:func:`fcpxml_document`): an event holding one
  clip per take, its prompt as a note and its vendor, model, verdict, stars and reasons
  as keywords, plus a project that strings the takes out end to end (DaVinci Resolve
  imports FCPXML timelines, not bare event clips);
- optionally CMX 3600 EDLs (:func:`edl_documents`) of the same string-out, which
  Resolve and Premiere Pro both import, relinking through the ``* FROM CLIP NAME:`` and
  ``* SOURCE FILE:`` comments.

Frame rates, durations and picture sizes come from the probe stored with each take,
never from assumptions; a take whose rate is unknown is exported at 24 fps with a
warning in the result.

Nothing secret is written: request parameters pass through :func:`public_parameters`
(credential-named keys dropped, values redacted as the logs are), and no account key,
base URL, task id or signed result URL is read at all.

Errors (see ``core.errors``): :class:`InvalidInput` for a folder that cannot be used or
an empty selection, raised before anything is written; :class:`MediaError` when a
take's file is missing from the library, also before anything is written;
:class:`ExportCancelled` (a :class:`TakestockError`) when the handle asks to stop.
"""

# The package's modules, one per concern: names.py (portable file names), records.py
# (selection, records, sidecar and CSV rows), clips.py (frame rates, editor clips),
# fcpxml.py, edl.py, and folder.py (the export run). Callers import from here.
from takestock.core.export.clips import EditorClip, clip_for, frame_count, frame_rate, timeline_rate
from takestock.core.export.edl import EDL_MAX_EVENTS, edl_documents
from takestock.core.export.fcpxml import FCPXML_VERSION, fcpxml_document
from takestock.core.export.folder import (
    ExportedTake,
    ExportHandle,
    ExportOptions,
    ExportResult,
    check_folder,
    export_takes,
)
from takestock.core.export.names import (
    MAX_COMPONENT_BYTES,
    WINDOWS_MAX_PATH,
    NameBook,
    is_reserved_on_windows,
    portable_component,
    take_stem,
)
from takestock.core.export.records import (
    CSV_COLUMNS,
    SIDECAR_FIELDS,
    Selection,
    TakeRecord,
    load_records,
    public_parameters,
    select_takes,
    sidecar,
)

__all__ = [
    "CSV_COLUMNS",
    "EDL_MAX_EVENTS",
    "FCPXML_VERSION",
    "MAX_COMPONENT_BYTES",
    "SIDECAR_FIELDS",
    "WINDOWS_MAX_PATH",
    "EditorClip",
    "ExportHandle",
    "ExportOptions",
    "ExportResult",
    "ExportedTake",
    "NameBook",
    "Selection",
    "TakeRecord",
    "check_folder",
    "clip_for",
    "edl_documents",
    "export_takes",
    "fcpxml_document",
    "frame_count",
    "frame_rate",
    "is_reserved_on_windows",
    "load_records",
    "portable_component",
    "public_parameters",
    "select_takes",
    "sidecar",
    "take_stem",
    "timeline_rate",
]
