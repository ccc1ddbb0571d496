"""Environment of a function, parsed once at cold start. Domain code never reads os.environ.

FunctionSettings is what every function's environment has (the catalog) and how it is read (extra variables
ignored, frozen); each kind of function (playbooks here, procedures, probes, maintenance) adds its own fields.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class FunctionSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    catalog_path: str = Field(alias="CATALOG_PATH")


class Settings(FunctionSettings):
    """A playbook function's."""

    audit_table: str = Field(alias="AUDIT_TABLE")
    breaker_table: str = Field(alias="BREAKER_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    topic_arn: str = Field(alias="TOPIC_ARN")
    # Where ESCALATED outcomes and lapsed approvals page (catalog notifications.escalation_topic); "" = nowhere else.
    escalation_topic_arn: str = Field(default="", alias="ESCALATION_TOPIC_ARN")
    kill_switch_parameter: str = Field(alias="KILL_SWITCH_PARAMETER")
    dry_run: bool = Field(default=False, alias="DRY_RUN")


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
