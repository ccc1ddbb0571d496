"""Environment of a probe function, in one model. Parsed once per environment (a Lambda cold start)."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field

from functions.core.settings import FunctionSettings


class ProbeSettings(FunctionSettings):
    # The lag probe's brokers adapter, "module:factory" (factory(catalog, clients) -> OffsetsPort): MSK by
    # default; configuration, so that the sandbox can name its stand-in without the code knowing of it.
    lag_offsets_adapter: str = Field(default="functions.probes.kafka:msk_offsets", alias="LAG_OFFSETS_ADAPTER",
                                     pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*:[a-z_][a-z0-9_]*$")
    # The playbooks' breaker table, where a scale-up's pending start waits (the Glue outcomes probe reads it).
    breaker_table: str | None = Field(default=None, alias="BREAKER_TABLE")


_VARIABLES = tuple(str(field.alias) for field in ProbeSettings.model_fields.values())


def probe_settings() -> ProbeSettings:
    # Keyed on the variables' values: a new environment (the sandbox switching functions in one process)
    # is a new cold start; in Lambda the key never changes and this parses once.
    return _parse(tuple((name, os.environ.get(name)) for name in _VARIABLES))


@lru_cache(maxsize=4)
def _parse(items: tuple[tuple[str, str | None], ...]) -> ProbeSettings:
    return ProbeSettings.model_validate({k: v for k, v in items if v is not None})
