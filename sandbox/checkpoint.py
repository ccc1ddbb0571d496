"""Checkpoints of the emulated account: its whole state copied in memory, put back in milliseconds.

A reset of the sandbox (sandbox.core.Sandbox.reset) empties the account and deploys the templates again:
about a second. Rehearsing many faults on the same moment of a scenario (remedy.faults) needs that moment
again and again: `capture` copies every moto backend (and what the procedures' gap fills keep beside them),
`restore` puts a copy back. Every function starts cold after a restore, as in a new Lambda container.

    baseline = capture(sandbox)     # e.g. right after sandbox.reset()
    ...                             # anything: scenarios, faults, procedure runs
    restore(sandbox, baseline)      # the account as it was, running executions stopped first

Not in a checkpoint: the Redshift stand-in (a real PostgreSQL; its tables the procedures touched are put back by
sandbox.gaps.redshift.restore_touched_tables, sessions and statistics are not) and the process's environment.

What this module patches in moto, and why: copy.deepcopy's dispatch for locks, conditions, events and SSM's
ParameterDict while copying (they cannot be deep-copied otherwise; copies are fresh, free ones), SNS's
Subscription.private_key (one signing key per subscription ARN, not one per restored copy), and, inside
prepared_once(), botocore's create_loader and the ASL execution worker's entry point (loaded/parsed once).
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Checkpoint:
    # (BackendDict, account, AccountSpecificBackend, region, copy of the backend)
    backends: list[tuple[Any, str, Any, str, Any]] = field(default_factory=list)
    gaps_state: Any = None  # what the gap fills keep beside moto (sandbox.gaps.state(): each module's STATE)
    # What stand-ins keep beside moto: the network the doctor reaches (sandbox.seed_doctor.BLOCKED) and the Kafka
    # stand-in's brokers (sandbox.kafka_standin.BROKERS).
    beside: dict[str, Any] = field(default_factory=dict)
    clock_offset: Any = None  # sandbox.clock's offset when captured: the account's time goes back with it
    suppressed: list[tuple[str, str]] = field(default_factory=list)


@contextlib.contextmanager
def _copyable() -> Iterator[None]:
    """Locks, conditions and events in moto's objects are copied as new, free ones (no one waits on an idle
    account); copy.deepcopy cannot copy them otherwise."""
    dispatch: dict[Any, Any] = copy._deepcopy_dispatch  # type: ignore[attr-defined]
    fresh = {type(threading.Lock()): lambda _x, _memo: threading.Lock(),
             type(threading.RLock()): lambda _x, _memo: threading.RLock(),
             threading.Condition: lambda _x, _memo: threading.Condition(),
             threading.Event: lambda _x, _memo: threading.Event()}
    from moto.ssm.models import ParameterDict

    fresh[ParameterDict] = _copy_parameter_dict
    saved = {kind: dispatch.get(kind) for kind in fresh}
    dispatch.update(fresh)
    try:
        yield
    finally:
        for kind, previous in saved.items():
            if previous is None:
                dispatch.pop(kind, None)
            else:
                dispatch[kind] = previous


def _copy_parameter_dict(original: Any, memo: dict[int, Any]) -> Any:
    """SSM's parameters (a defaultdict whose constructor needs the account and region)."""
    made = type(original)(original.account_id, original.region_name)
    memo[id(original)] = made
    made.__dict__.update(copy.deepcopy(original.__dict__, memo))
    for name, versions in original.items():
        made[name] = copy.deepcopy(versions, memo)
    return made


def _containers() -> list[tuple[Any, str, Any]]:
    from moto.core.base_backend import BackendDict

    return [(bd, account, asb) for bd in list(BackendDict._instances) for account, asb in dict.items(bd)]


def _memo(containers: list[tuple[Any, str, Any]]) -> dict[int, Any]:
    """References to moto's registries are kept, not copied: only the backends are."""
    memo: dict[int, Any] = {}
    for bd, _account, asb in containers:
        memo[id(bd)] = bd
        memo[id(asb)] = asb
    return memo


_SIGNING_KEYS: dict[str, Any] = {}


def _keep_signing_keys() -> None:
    """moto's SNS subscriptions sign messages with an RSA key made on first use and cached per object: every
    restored copy would make a new one (tens of milliseconds each). A copy signs with its original's key."""
    from moto.sns.models import Subscription

    original = Subscription.private_key
    if getattr(original, "_per_arn", False):
        return

    def private_key(self: Any) -> Any:
        if self.arn not in _SIGNING_KEYS:
            _SIGNING_KEYS[self.arn] = original(self)
        return _SIGNING_KEYS[self.arn]

    private_key._per_arn = True  # type: ignore[attr-defined]
    Subscription.private_key = private_key  # type: ignore[method-assign]


def capture(sandbox: Any) -> Checkpoint:
    from moto.core.base_backend import backend_lock

    _keep_signing_keys()

    from sandbox import gaps

    with backend_lock, _copyable():
        containers = _containers()
        memo = _memo(containers)
        backends = [(bd, account, asb, region, copy.deepcopy(backend, memo))
                    for bd, account, asb in containers for region, backend in dict.items(asb)]
        state = gaps.state()
        beside = copy.deepcopy(_beside())
    from sandbox import clock

    return Checkpoint(backends=backends, gaps_state=state, suppressed=list(sandbox.suppressed), beside=beside,
                      clock_offset=clock.offset())


def _beside() -> dict[str, Any]:
    from sandbox import kafka_standin, seed_doctor

    return {"blocked": set(seed_doctor.BLOCKED), "brokers": kafka_standin.BROKERS}


def _put_beside(saved: dict[str, Any]) -> None:
    from sandbox import kafka_standin, seed_doctor

    if not saved:
        return
    seed_doctor.BLOCKED.clear()
    seed_doctor.BLOCKED.update(saved["blocked"])
    kafka_standin.BROKERS = copy.deepcopy(saved["brokers"])


def restore(sandbox: Any, checkpoint: Checkpoint) -> None:
    from moto.core.base_backend import BackendDict, backend_lock

    from sandbox import gaps, stepfunctions
    from sandbox.gaps import redshift

    if _running_executions():
        stepfunctions.stop_executions(sandbox)  # nothing keeps running against the state being replaced
    redshift.restore_touched_tables(sandbox.catalog)  # what the procedures changed in the stand-in
    with backend_lock, _copyable():
        memo = _memo(_containers() + [(bd, account, asb) for bd, account, asb, _r, _b in checkpoint.backends])
        kept = {(id(asb), region) for _bd, _account, asb, region, _b in checkpoint.backends}
        for _bd, _account, asb in _containers():  # backends made after the checkpoint: gone
            for region in [r for r in dict.keys(asb) if (id(asb), r) not in kept]:
                dict.__delitem__(asb, region)
        for bd, account, asb, region, backend in checkpoint.backends:
            if dict.get(bd, account) is not asb:
                dict.__setitem__(bd, account, asb)
            if not any(existing is bd for existing in BackendDict._instances):
                BackendDict._instances.append(bd)
            dict.__setitem__(asb, region, copy.deepcopy(backend, memo))
        gaps.restore_state(checkpoint.gaps_state)
        _put_beside(checkpoint.beside)
        if checkpoint.clock_offset is not None:
            __import__("sandbox.clock").clock.restore_offset(checkpoint.clock_offset)
    stepfunctions.INVOCATIONS.clear()
    sandbox.suppressed = list(checkpoint.suppressed)
    cold_start(sandbox)


def _running_executions() -> bool:
    from moto.stepfunctions.models import StepFunctionBackend

    return any(execution.status == "RUNNING" for _bd, _account, asb in _containers()
               for backend in dict.values(asb) if isinstance(backend, StepFunctionBackend)
               for machine in backend.state_machines for execution in machine.executions)


def cold_start(sandbox: Any) -> None:
    """Every function starts cold at its next invocation: the caches its runtime keeps per container
    (settings, catalog, clients, wiring) are emptied, as in a new Lambda container."""
    import sys

    for name in ("functions.core.runtime", "functions.procedures.runtime", "functions.probes.runtime",
                 "functions.maintenance.runtime"):
        module = sys.modules.get(name)
        for value in vars(module).values() if module else ():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
    sandbox._function_env = None


@contextlib.contextmanager
def prepared_once() -> Iterator[None]:
    """What does not change from one restored case to the next is prepared once per process, not per case:
    - every botocore session reads the SDK's data files (service models, endpoint rules) through one loader: a
      cold start after every restore (a new container, a new boto3 session in Powertools' idempotency layer)
      costs what it costs in Lambda minus re-reading the same files from disk;
    - the emulated Step Functions parse a state machine's definition once, not at every execution (its
      evaluation keeps each execution's state in the execution's own environment, not in the parsed program).
    What a session loads and how a definition runs are unchanged."""
    from botocore import session
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend import execution_worker

    original_loader = session.create_loader
    original_entrypoint = execution_worker.ExecutionWorker._get_evaluation_entrypoint
    loaders: dict[Any, Any] = {}
    programs: dict[str, Any] = {}

    def create_loader(search_path_string: Any = None) -> Any:
        if search_path_string not in loaders:
            loaders[search_path_string] = original_loader(search_path_string)
        return loaders[search_path_string]

    def entrypoint(self: Any) -> Any:
        definition = self._evaluation_details.state_machine_details.definition
        if definition not in programs:
            programs[definition] = AmazonStateLanguageParser.parse(definition)[0]
        return programs[definition]

    session.create_loader = create_loader
    execution_worker.ExecutionWorker._get_evaluation_entrypoint = entrypoint
    try:
        yield
    finally:
        session.create_loader = original_loader
        execution_worker.ExecutionWorker._get_evaluation_entrypoint = original_entrypoint
