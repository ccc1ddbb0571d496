"""The safe batch re-run rule: a re-run must never load the same partition twice into its table.

Shared by glue_job_failure (the retry of a failed batch run) and data_quality (the re-run of one partition),
and checked again by the actions themselves (functions.actions.glue): the facts travel in the action's
parameters, so the guard refuses an unsafe re-run like any action it cannot take, and the refusal is in
the audit trail with its reason.

A batch re-run is safe only when
  1. the job writes with `overwrite_partition` and the run names its partition: the re-run replaces that
     partition, it cannot add to it; or
  2. the job bookmark is enabled for the run and the re-run is a plain retry of the failed run (the same
     arguments): the failed run committed no bookmark, so the retry reads the same input once.
     (A bookmark tracks input, not output: files an `append` job wrote before it failed stay. Rule 2 is the
     team's rule; `overwrite_partition` is the layout that makes retries exact.)
Anything else is refused: `append` without a bookmark, a re-run of an already loaded partition in `append`
mode, a run without its partition argument whose bookmark is off.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Strict alphabets for whatever reaches StartJobRun and the command shown to a person: nothing here can
# carry a shell metacharacter, a quote or whitespace.
JOB_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$"
RUN_ID = r"^jr_[A-Za-z0-9_-]{1,250}$"
ARG_NAME = r"^--[A-Za-z][A-Za-z0-9_.-]{0,63}$"
ARG_VALUE = r"^[A-Za-z0-9_./:=@+,-]{0,512}$"
# A partition: Hive style (dt=2026-11-25, dt=2026-11-25/hr=10) or a date path (2026/11/25, 2026/11/25/10).
PARTITION = (r"^(?:[a-z][a-z0-9_]{0,31}=[A-Za-z0-9_-]{1,32}(?:/[a-z][a-z0-9_]{0,31}=[A-Za-z0-9_-]{1,32}){0,3}"
             r"|[0-9]{4}/[0-9]{2}/[0-9]{2}(?:/[0-9]{2})?)$")

BOOKMARK_OPTION = "--job-bookmark-option"
BOOKMARK_ENABLED = "job-bookmark-enable"
BOOKMARK_DISABLED = "job-bookmark-disable"


class RerunFacts(BaseModel):
    """What the rule judges, established by the diagnosis (catalog + the job and run as Glue reports them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job: str = Field(pattern=JOB_NAME)
    loads: str = Field(pattern=r"^[A-Za-z0-9_./-]{1,255}$")  # the table it loads (or the prefix it writes)
    write_mode: Literal["overwrite_partition", "append"]
    partition_argument: str = Field(pattern=ARG_NAME)
    partition: str | None = Field(default=None, pattern=PARTITION)
    bookmark: bool  # the job bookmark is enabled for this run
    plain_retry: bool  # a retry of the failed run with its own arguments


def refusal(facts: RerunFacts) -> str | None:
    """Why this re-run is unsafe, in one sentence; None when it is safe."""
    if facts.write_mode == "overwrite_partition" and facts.partition:
        return None
    if facts.bookmark and facts.plain_retry:
        return None
    what = f"partition {facts.partition}" if facts.partition else "the run's input"
    if facts.write_mode == "append" and not facts.bookmark:
        return (f"{facts.job} appends to {facts.loads} without a job bookmark: a re-run would load {what} "
                f"into {facts.loads} a second time")
    if facts.write_mode == "append":
        return (f"{facts.job} appends to {facts.loads}: its bookmark protects only a plain retry of a failed "
                f"run, and this re-run would load {what} into {facts.loads} a second time")
    return (f"{facts.job} overwrites partitions of {facts.loads} but the run has no {facts.partition_argument} "
            f"argument and no job bookmark: the re-run's scope is unknown and could load what {facts.loads} "
            f"already holds a second time")


def why_safe(facts: RerunFacts) -> str:
    if facts.write_mode == "overwrite_partition" and facts.partition:
        return f"overwrites partition {facts.partition} of {facts.loads}: a re-run replaces it, never adds to it"
    return f"plain retry with the job bookmark enabled: reads the failed run's input once into {facts.loads}"


def bookmark_enabled(default_arguments: dict[str, str], run_arguments: dict[str, str]) -> bool:
    """The run's own --job-bookmark-option wins over the job's default; only 'enable' counts."""
    value = run_arguments.get(BOOKMARK_OPTION, default_arguments.get(BOOKMARK_OPTION, BOOKMARK_DISABLED))
    return value == BOOKMARK_ENABLED
