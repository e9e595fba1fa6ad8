"""The durable generation engine, in rooms by concern (see ``engine`` for its rules).

- ``engine``: :class:`Engine`, its lifecycle (run, drive, claim) and planning,
  which delegates to ``core.generate``.
- ``steps``: submit, recover, poll, apply a status, download and finish.
- ``control``: cancel, attach, resolve_unknown and retry; refresh_models and reconcile.
- ``base``: the engine's state, ``running`` and the helpers every step shares
  (transitions, notes, failures, the vendors' clients and slots).
- ``planning``: :class:`Target` and :func:`check_and_price`.

Job rows are read with ``core.job_rows``, whose names this package re-exports.
"""

from takestock.core.account_secrets import Credentials, resolve_secrets
from takestock.core.job_rows import (
    ACTIVE_STATES,
    FINAL_STATES,
    Job,
    JobEvent,
    get_job,
    get_jobs,
    job_ids,
    list_jobs,
)
from takestock.core.jobs.engine import Engine
from takestock.core.jobs.planning import Target, check_and_price

__all__ = [
    "ACTIVE_STATES",
    "FINAL_STATES",
    "Credentials",
    "Engine",
    "Job",
    "JobEvent",
    "Target",
    "check_and_price",
    "get_job",
    "get_jobs",
    "job_ids",
    "list_jobs",
    "resolve_secrets",
]
