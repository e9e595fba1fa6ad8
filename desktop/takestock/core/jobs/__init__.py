"""The durable generation engine (see ``engine``); the package re-exports its names."""

from takestock.core.jobs.engine import (
    ACTIVE_STATES,
    FINAL_STATES,
    Credentials,
    Engine,
    Job,
    JobEvent,
    Target,
    check_and_price,
    get_job,
    get_jobs,
    job_ids,
    list_jobs,
    resolve_secrets,
)

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
