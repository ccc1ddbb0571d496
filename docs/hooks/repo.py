"""MkDocs hook: the docs read the code, they do not copy it.

Three things, each failing the (strict) build when what it names does not exist:

1. `--8<-- "path/to/module.py::Name"` or `::Class.method`: the snippet of that definition (decorators included),
   found with `ast` and handed to pymdownx.snippets as a line range, so an edit above it does not shift it;
   `--8<-- "config/dev.yaml::guardrails"`: a top-level key of a YAML file.
2. Links from a page to a file of the repository (`[guard](../functions/core/guard.py)`), which read well on a
   repository browser, point in the site to a generated page showing that file (`code/<path>.md`).
3. `<!-- generated: NAME -->` on a line of its own: a table rendered from the code's own registries (the alarms of
   the dev catalog, the playbook declarations, the action registry, the game day scenarios, the CLI, the catalog's
   fields), so a reference table cannot drift from what is deployed.
"""

from __future__ import annotations

import ast
import inspect
import posixpath
import re
import sys
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CODE_PAGES = "code"  # generated pages showing repository files live under this folder of the site
SNIPPET = re.compile(r'^(?P<indent>[ \t]*)--8<-- "(?P<path>[^":]+)::(?P<name>[A-Za-z_][\w.]*)"[ \t]*$', re.M)
GENERATED = re.compile(r'^<!-- generated: (?P<name>[a-z-]+)(?: "(?P<argument>[^"]+)")? -->[ \t]*$', re.M)
LINK = re.compile(r"\]\((?P<target>[^)\s#]+)(?P<fragment>#[^)\s]*)?\)")
LANGUAGES = {".py": "python", ".yaml": "yaml", ".yml": "yaml", ".sql": "sql", ".json": "json", ".toml": "toml",
             ".md": "markdown", ".html": "html", ".j2": "jinja", ".txt": "text", "Makefile": "make"}


# --- 1. definitions by name ---------------------------------------------------------------------------------

def yaml_key_lines(path: str, text: str, key: str) -> tuple[int, int]:
    """First and last line of a top-level key of a YAML file, up to the next top-level key (its comments stay
    with the next key)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(f"{key}:")), None)
    if start is None:
        raise PluginError(f"snippet {path}::{key}: no top-level key {key} there")
    end = start
    for i in range(start + 1, len(lines)):
        if lines[i][:1] not in ("", " ", "\t", "#"):
            break
        if lines[i].strip() and not lines[i].startswith("#"):
            end = i
    return start + 1, end + 1


def definition_lines(path: str, qualname: str) -> tuple[int, int]:
    """First and last line (1-based, decorators included) of the class or function `qualname` in `path`, or of
    the top-level key `qualname` of a YAML file."""
    file = ROOT / path
    if not file.is_file():
        raise PluginError(f"snippet {path}::{qualname}: no such file in the repository")
    if file.suffix in (".yaml", ".yml"):
        return yaml_key_lines(path, file.read_text(encoding="utf-8"), qualname)
    body: list[ast.stmt] = ast.parse(file.read_text(encoding="utf-8")).body
    node: ast.stmt | None = None
    for part in qualname.split("."):
        node = next((n for n in body if _defines(n, part)), None)
        if node is None:
            raise PluginError(f"snippet {path}::{qualname}: {part} is not defined there")
        body = getattr(node, "body", [])
    assert node is not None and node.end_lineno is not None
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)]), node.end_lineno


def _defines(node: ast.stmt, name: str) -> bool:
    """A class, a function, or an assignment to a plain name (a module constant)."""
    if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        return node.name == name
    if isinstance(node, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and node.target.id == name
    return False


def _snippet(match: re.Match[str]) -> str:
    first, last = definition_lines(match["path"], match["name"])
    return f'{match["indent"]}--8<-- "{match["path"]}:{first}:{last}"'


# --- 2. links to repository files ---------------------------------------------------------------------------

def _repo_target(page_src: str, target: str) -> str | None:
    """The repository path a page's relative link names, or None when it is a link within the docs or a URL."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
        return None
    resolved = (DOCS / posixpath.dirname(page_src) / target).resolve()
    if resolved == DOCS or DOCS in resolved.parents:
        return None
    if ROOT not in resolved.parents:
        raise PluginError(f"{page_src}: link {target} leaves the repository")
    if not resolved.is_file():
        raise PluginError(f"{page_src}: link {target}: no such file in the repository")
    return resolved.relative_to(ROOT).as_posix()


def _code_page(path: str) -> str:
    language = LANGUAGES.get(Path(path).suffix) or LANGUAGES.get(Path(path).name, "text")
    return (f"---\nsearch:\n  exclude: true\n---\n\n# `{path}`\n\n"
            f'````{language} linenums="1"\n--8<-- "{path}"\n````\n')


def on_config(config: Any) -> Any:
    # Snippets resolve against the repository root wherever mkdocs is started from.
    config.mdx_configs.setdefault("pymdownx.snippets", {})["base_path"] = [str(ROOT)]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    _playbook_pages_in_nav(config.nav or [])
    return config


def _playbook_pages_in_nav(nav: list[Any]) -> None:
    """A playbook's page, docs/playbooks/<name>.md, joins the Playbooks section of the nav by itself (after the
    pages mkdocs.yml lists), titled by its first heading: adding a playbook edits no list here either."""
    section = next((item["Playbooks"] for item in nav if isinstance(item, dict) and "Playbooks" in item), None)
    if not isinstance(section, list):
        return
    listed = {p if isinstance(p, str) else next(iter(p.values())) for p in section}
    for page in sorted((DOCS / "playbooks").glob("*.md")):
        path = f"playbooks/{page.name}"
        if path not in listed:
            heading = next((line[2:].strip() for line in page.read_text(encoding="utf-8").splitlines()
                            if line.startswith("# ")), page.stem)
            section.append({heading: path})


def on_files(files: Files, config: Any) -> Files:
    wanted: set[str] = set()
    for file in files.documentation_pages():
        text = Path(file.abs_src_path or "").read_text(encoding="utf-8")
        text = GENERATED.sub(_generated, text)  # generated tables link repository files too (gap fills)
        for match in LINK.finditer(text):
            path = _repo_target(file.src_uri, match["target"])
            if path:
                wanted.add(path)
    for path in sorted(wanted):
        files.append(File.generated(config, f"{CODE_PAGES}/{path}.md", content=_code_page(path)))
    return files


def _link(page_src: str) -> Callable[[re.Match[str]], str]:
    def rewrite(match: re.Match[str]) -> str:
        path = _repo_target(page_src, match["target"])
        if path is None:
            return match[0]
        if match["fragment"]:
            raise PluginError(f"{page_src}: link {match[0]}: a link to a repository file cannot have an anchor")
        relative = posixpath.relpath(f"{CODE_PAGES}/{path}.md", posixpath.dirname(page_src) or ".")
        return f"]({relative})"
    return rewrite


# --- 3. tables from the code's registries -------------------------------------------------------------------

def _cell(value: object) -> str:
    """A table cell: HTML-escaped outside code spans (`<env>` in prose is text, not a tag)."""
    parts = str(value).replace("\n", " ").split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts).replace("|", "\\|")


def _table(headers: list[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _dev_catalog() -> Any:
    from functions.core.catalog import load_catalog

    return load_catalog(ROOT / "config" / "dev.yaml")


def alarms_table() -> str:
    from infra import signals

    catalog = _dev_catalog()
    metric_alarms = signals.alarm_specs(catalog)
    rows: list[list[object]] = []
    for spec in metric_alarms:
        metric = spec.metric
        if isinstance(metric, signals.MathSpec):
            reads = f"`{metric.expression}` over " + ", ".join(
                f"{i} = {m.namespace} {m.name} ({m.statistic})" for i, m in sorted(metric.metrics.items()))
        else:
            dims = ", ".join(f"{k}={v}" for k, v in metric.dimensions.items())
            reads = f"{metric.namespace} `{metric.name}` ({dims}), {metric.statistic}"
        comparison = {"GreaterThanThreshold": ">", "LessThanThreshold": "<", "GreaterThanOrEqualToThreshold": ">=",
                      "LessThanOrEqualToThreshold": "<="}.get(spec.comparison, spec.comparison)
        rows.append([f"`{spec.name}`", reads, f"{comparison} {spec.threshold:g}", f"{spec.period_seconds} s",
                     f"{spec.datapoints_to_alarm} of {spec.evaluation_periods}", spec.treat_missing_data,
                     "yes" if spec.pages else "via composite"])
    table = _table(["Alarm (dev catalog)", "Reads", "Threshold", "Period", "M of N", "Missing data", "Pages"], rows)
    composites = [*signals.composite_specs(catalog, metric_alarms),
                  *signals.service_composite_specs(catalog, metric_alarms)]
    crow: list[list[object]] = []
    for c in composites:
        rule = (f"any of {len(c.alarms)}" if c.at_least == 1 else f"{c.at_least} of {len(c.alarms)} at once")
        suppressed = (f"`{c.suppressor}` (wait {c.wait_seconds} s, extension {c.extension_seconds} s)"
                      if c.suppressor else "")
        crow.append([f"`{c.name}`", rule + ": " + ", ".join(f"`{a}`" for a in c.alarms), suppressed,
                     "yes" if c.pages else "no"])
    return (table + "\n\nComposite alarms of the same catalog:\n\n"
            + _table(["Composite", "ALARM when", "Actions suppressed while", "Pages"], crow))


def signals_table() -> str:
    from functions.core.naming import SIGNALS

    return _table(["Signal", "Routed to playbook"],
                  [[f"`{s}`", f"`{p}`" if p else "none: pages a person, feeds the lineage hold"]
                   for s, p in SIGNALS.items()])


def playbooks_table() -> str:
    from functions.playbooks import CORE_READS, PLAYBOOKS

    def page(name: str) -> str:  # links resolve from docs/playbooks/index.md, where this table is
        return f"[`{name}`]({name}.md)" if (DOCS / "playbooks" / f"{name}.md").is_file() else f"`{name}`"

    rows = [[page(d.name), d.runbook_section, ", ".join(f"`{s}`" for s in d.signals)
             + (f"; Glue Job State Change {'/'.join(d.glue_job_states)}" if d.glue_job_states else ""),
             ", ".join(f"`{a}`" for a in d.actions), ", ".join(f"`{r}`" for r in (*CORE_READS, *d.reads)),
             "yes" if d.in_vpc else "no"] for d in PLAYBOOKS.values()]
    return _table(["Playbook", "Runbook section", "Triggered by", "Actions it may plan", "Reads (IAM)", "In VPC"],
                  rows)


def actions_table() -> str:
    import functions.actions.glue
    import functions.actions.redshift  # noqa: F401
    from functions.core.actions import REGISTRY

    rows = [[f"`{s.name}`", s.summary, ", ".join(f"`{a}`" for a in s.iam_actions), f"`{s.resource_kind}`",
             "yes" if s.destructive else "no", ", ".join(f"`{f}`" for f in s.params.model_fields)]
            for s in sorted(REGISTRY.values(), key=lambda s: s.name)]
    return _table(["Action", "What it does", "IAM actions", "Resource", "Destructive", "Parameters"], rows)


def scenarios_table(runbook: str | None = None) -> str:
    """Every game day scenario, or those whose runbook section contains `runbook`."""
    from remedy.gameday import registry

    chosen = [s for s in registry.all_scenarios() if runbook is None or runbook in s.runbook]
    if not chosen:
        raise PluginError(f"no game day scenario rehearses a runbook section containing {runbook!r}")
    return _table(["Scenario", "Runbook", "What it rehearses"], [[f"`{s.name}`", s.runbook, s.title] for s in chosen])


def cli_table() -> str:
    import typer
    from typer import _click as click  # typer 0.29 carries its own click

    from remedy.cli import app

    rows: list[list[object]] = []

    def walk(command: click.Command, words: list[str]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name in sorted(subcommands):
                walk(subcommands[name], [*words, name])
            return
        context = click.Context(command, info_name=" ".join(words))
        usage = " ".join(command.collect_usage_pieces(context))
        options = "<br>".join(
            f"`{' / '.join(p.opts)}`" + (f": {_cell(getattr(p, 'help', ''))}" if getattr(p, "help", None) else "")
            for p in command.params if p.param_type_name == "option" and p.name != "help")
        summary = (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
        rows.append([f"`{' '.join(words)} {usage}`", summary, options])

    walk(typer.main.get_command(app), ["remedy"])
    return _table(["Command", "What it does", "Options"], rows)


def _field_comments(model: type) -> dict[str, str]:
    """The comment lines right above each field of a pydantic model's class body, and its trailing comment."""
    try:
        lines, _ = inspect.getsourcelines(model)
    except (OSError, TypeError):
        return {}
    comments: dict[str, str] = {}
    pending: list[str] = []
    for line in lines[1:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("# ").rstrip())
            continue
        field = re.match(r"^    (\w+)\s*:", line)
        if field:
            trailing = line.split("  # ", 1)[1].strip() if "  # " in line else ""
            comments[field[1]] = " ".join([*pending, trailing]).strip()
        pending = []
    return comments


def _type_name(annotation: Any) -> str:
    """A field's type as a reader writes it: `str | None`, `'a' | 'b'`, `list[Topic]` (constraints left out)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin is typing.Union or origin is types.UnionType:
        return " | ".join(_type_name(a) for a in args)
    if origin in (list, tuple, dict, set):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in args if a is not Ellipsis)}]"
    if annotation is type(None):
        return "None"
    return annotation.__name__ if isinstance(annotation, type) else str(annotation)


def _models_in(annotation: Any) -> list[type]:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def catalog_table() -> str:
    from pydantic_core import PydanticUndefined

    from functions.core.catalog import Catalog

    rows: list[list[object]] = []

    def walk(model: type, prefix: str) -> None:
        comments = _field_comments(model)
        for name, field in model.model_fields.items():  # type: ignore[attr-defined]
            path = f"{prefix}{name}"
            if field.is_required():
                default = "required"
            elif field.default_factory is not None:
                default = "(computed)"
            else:
                default = "" if field.default is PydanticUndefined else f"`{field.default!r}`"
            rows.append([f"`{path}`", f"`{_type_name(field.annotation)}`", default, comments.get(name, "")])
            origin = typing.get_origin(field.annotation)
            suffix = "[]." if origin in (list, tuple) else ".<key>." if origin is dict else "."
            for sub in _models_in(field.annotation):
                walk(sub, path + suffix)

    walk(Catalog, "")
    return _table(["Field", "Type", "Default", "Notes (from the schema's comments)"], rows)


def gap_fills_tables() -> str:
    """One table per gap-fill module (sandbox/gaps/<service>.py): its OPERATIONS, why moto's is not enough."""
    from sandbox import gaps

    sections = []
    for module in gaps.modules():
        path = module.__name__.replace(".", "/") + ".py"
        summary = _cell((module.__doc__ or "").strip().split("\n\n", 1)[0])
        rows = [[f"`{op}`", fill.why, fill.what, f"[API reference]({fill.doc})"]
                for op, fill in module.OPERATIONS.items()]
        sections.append(f"#### [`{path}`](../{path})\n\n{summary}\n\n"
                        + _table(["Operation", "Why moto's is not enough", "What the sandbox answers", "AWS"], rows))
    return "\n\n".join(sections)


GENERATORS: dict[str, Callable[..., str]] = {
    "alarms": alarms_table, "signals": signals_table, "playbooks": playbooks_table, "actions": actions_table,
    "scenarios": scenarios_table, "cli": cli_table, "catalog": catalog_table, "gaps": gap_fills_tables,
}


def _generated(match: re.Match[str]) -> str:
    generator = GENERATORS.get(match["name"])
    if generator is None:
        raise PluginError(f"<!-- generated: {match['name']} -->: no such table (known: {', '.join(GENERATORS)})")
    return generator(match["argument"]) if match["argument"] else generator()


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    src = page.file.src_uri
    if src.startswith(f"{CODE_PAGES}/"):
        return markdown
    markdown = SNIPPET.sub(_snippet, markdown)
    markdown = GENERATED.sub(_generated, markdown)
    return LINK.sub(_link(src), markdown)
