"""Synthesized CloudFormation templates as dicts, for tests and the sandbox.

    synth_templates("dev") -> {"remedy-dev-remediation": {...}, "remedy-dev-monitoring": {...}}

Built without asset bundling (the templates are identical apart from the code asset's hash) and cached
per process: jsii start-up and synthesis take seconds.

    synthesized("dev") -> Synthesis(templates, report)   # report: cdk-nag's validation-report.json

`synthesized` keeps the result on disk (.sandbox/templates/), keyed by a digest of every input that shapes it
(see `fingerprint`), and holds a lock while it synthesizes: the test workers, the sandbox and the CLI's
subprocesses synthesize each env once between them, and not again until an input changes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from functions.core.catalog import catalog_path_for
from infra.app_builder import ROOT, build_app

_CACHE: dict[tuple[str, str, str, str | None], dict[str, dict[str, Any]]] = {}


def synth_templates(env: str = "dev", outdir: str | None = None,
                    catalog_path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    path = Path(catalog_path) if catalog_path else catalog_path_for(env, ROOT)
    key = (env, str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest(), outdir)
    if key not in _CACHE:
        assembly = build_app(env, outdir=outdir, bundling=False, catalog_path=path).synth()
        _CACHE[key] = {stack.stack_name: stack.template for stack in assembly.stacks}
    # Callers get their own copy: a test that edits a template must not change another's.
    return copy.deepcopy(_CACHE[key])


# Everything a synthesis reads: the app and its constructs, the function package (its every file is hashed into
# the code asset's version), the catalogs, cdk.json's context, the pinned CDK, cdk-nag and jsii libraries.
INPUTS = ("infra", "functions", "config", "app.py", "cdk.json", "package.json", "requirements.txt",
          "requirements-dev.txt")
LIBRARIES = ("aws-cdk-lib", "constructs", "cdk-nag", "jsii", "aws-cdk.asset-awscli-v1", "aws-cdk.cloud-assembly-schema")
CACHE_DIR = ROOT / ".sandbox" / "templates"


@dataclass(frozen=True)
class Synthesis:
    templates: dict[str, dict[str, Any]]  # by stack name
    report: dict[str, Any]  # cdk-nag's validation report (validation-report.json)


def fingerprint(env: str, catalog_path: Path) -> str:
    """Digest of the inputs of one env's synthesis (a catalog outside config/ counts by its content)."""
    digest = hashlib.sha256(f"{env}\0{catalog_path.read_bytes().hex()}\0".encode())
    digest.update(os.environ.get("CDK_CONTEXT_JSON", "").encode() + b"\0")  # context the CDK CLI would pass
    for library in LIBRARIES:
        try:
            digest.update(f"{library}=={metadata.version(library)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library} absent\0".encode())
    for source in INPUTS:
        path = ROOT / source
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts and file.suffix not in {".pyc", ".pyo"}:
                digest.update(file.relative_to(ROOT).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def synthesized(env: str = "dev", catalog_path: str | Path | None = None,
                cache_dir: Path | None = None) -> Synthesis:
    """One env's templates and cdk-nag report, synthesized once per set of inputs (a fresh copy each call)."""
    import fcntl

    path = Path(catalog_path) if catalog_path else catalog_path_for(env, ROOT)
    cache_dir = cache_dir or CACHE_DIR
    cache = cache_dir / f"{env}-{fingerprint(env, path)}.synth.json"
    if not cache.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        with open(cache.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process synthesizing the same inputs: wait for its file
            if not cache.exists():
                with tempfile.TemporaryDirectory(prefix=f"cdk-{env}-") as outdir:
                    assembly = build_app(env, outdir=outdir, bundling=False, catalog_path=path).synth()
                    result = {"templates": {stack.stack_name: stack.template for stack in assembly.stacks},
                              "report": json.loads((Path(outdir) / "validation-report.json").read_text("utf-8"))}
                partial = cache.with_suffix(f".{os.getpid()}.tmp")
                partial.write_text(json.dumps(result), encoding="utf-8")
                partial.replace(cache)  # atomic: a reader never sees half a file
    loaded = json.loads(cache.read_text(encoding="utf-8"))
    return Synthesis(templates=loaded["templates"], report=loaded["report"])


def main(envs: list[str]) -> int:
    """Synthesize each env into the cache (`make test` and `make check` do it beside ruff and mypy, so that the
    test workers find the templates made instead of waiting, both of them, for the first synthesis)."""
    import sys

    for env in envs or ["dev"]:
        if not catalog_path_for(env, ROOT).is_file():
            known = ", ".join(sorted(p.stem for p in (ROOT / "config").glob("*.yaml")))
            print(f"unknown env {env!r}: no catalog {catalog_path_for(env, ROOT)} (known: {known})", file=sys.stderr)
            return 2
        synthesized(env)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
