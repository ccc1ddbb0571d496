"""A small CloudFormation for the emulated account: creates what the synthesized templates declare.

Only the resource types the service's behaviour depends on are created (tables, topics, queues,
parameters, alarms, rules) and the functions are recorded for the in-process Lambda runner; roles and
their policies are recorded for IAM enforcement (sandbox.iam), log groups have no behaviour to rehearse
locally and are skipped. Intrinsic functions are
resolved the way CloudFormation does, so the alarms, patterns and environment variables used in the
sandbox are exactly those of the templates.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


class TemplateError(Exception):
    pass


@dataclass
class FunctionSpec:
    logical_id: str
    stack: str
    name: str
    arn: str
    handler: str
    environment: dict[str, str]
    max_retries: int = 2
    on_failure_arn: str | None = None
    role_arn: str = ""  # the execution role (sandbox.iam: the function signs with its credentials)


@dataclass
class RoleSpec:
    """An IAM role of the templates with the statements of every policy attached to it (sandbox.iam)."""

    name: str
    arn: str
    services: list[str]  # the services its trust policy lets assume it
    statements: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RuleSpec:
    logical_id: str
    stack: str
    name: str
    pattern: dict[str, Any]
    target_arns: list[str]
    dlq_arns: list[str] = field(default_factory=list)
    target_dlqs: dict[str, str] = field(default_factory=dict)  # target ARN -> its DeadLetterConfig queue ARN
    # EventBridge Scheduler schedules (AWS::Scheduler::Schedule): the Input the target receives (context
    # attributes such as <aws.scheduler.scheduled-time> filled in when it fires); None for EventBridge rules.
    input: str | None = None


@dataclass
class Deployment:
    """What the templates created: physical names by logical id, functions, rules, alarm definitions."""

    physical: dict[str, dict[str, str]] = field(default_factory=dict)  # "Stack.Logical" -> {"Ref":..,"Arn":..}
    functions: dict[str, FunctionSpec] = field(default_factory=dict)  # by ARN
    rules: list[RuleSpec] = field(default_factory=list)
    schedules: list[RuleSpec] = field(default_factory=list)  # rules with a ScheduleExpression (pattern = {})
    alarms: dict[str, dict[str, Any]] = field(default_factory=dict)  # alarm name -> resolved properties
    composite_alarms: dict[str, dict[str, Any]] = field(default_factory=dict)
    exports: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, RoleSpec] = field(default_factory=dict)  # by ARN
    # AWS::IAM::ManagedPolicy statements by policy name (not attached to any role of the templates: the account
    # attaches them to people's roles; sandbox.iam.person gives a person the ones named).
    managed_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Lambda function URLs by function ARN: {"AuthType", "url", "url_id"} (sandbox.function_urls serves them).
    function_urls: dict[str, dict[str, str]] = field(default_factory=dict)
    permissions: list[dict[str, Any]] = field(default_factory=list)  # AWS::Lambda::Permission, resolved


class Resolver:
    def __init__(self, stack: str, account: str, region: str, deployment: Deployment):
        self.stack = stack
        self.account = account
        self.region = region
        self.deployment = deployment

    def pseudo(self, name: str) -> str | None:
        return {"AWS::Region": self.region, "AWS::AccountId": self.account, "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": self.stack,
                "AWS::NoValue": None}.get(name) if name.startswith("AWS::") else None

    def attribute(self, logical: str, attr: str) -> str:
        key = f"{self.stack}.{logical}"
        if key not in self.deployment.physical:
            raise TemplateError(f"{key} is referenced before it exists")
        values = self.deployment.physical[key]
        return values.get(attr) or values.get("Arn") or values["Ref"]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        (key, arg), = value.items()
        if key == "Ref":
            if arg.startswith("AWS::"):
                return self.pseudo(arg)
            return self.attribute(arg, "Ref")
        if key == "Fn::GetAtt":
            logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.attribute(logical, attr)
        if key == "Fn::Join":
            sep, parts = arg
            return sep.join(str(self.resolve(p)) for p in parts)
        if key == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if key == "Fn::Split":
            sep, text = arg
            return str(self.resolve(text)).split(sep)
        if key == "Fn::ImportValue":
            name = self.resolve(arg)
            if name not in self.deployment.exports:
                raise TemplateError(f"export {name} does not exist yet")
            return self.deployment.exports[name]
        if key == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

            def sub(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in extra:
                    return str(extra[name])
                if name.startswith("AWS::"):
                    return str(self.pseudo(name))
                logical, _, attr = name.partition(".")
                return self.attribute(logical, attr or "Ref")

            return re.sub(r"\$\{([^}!][^}]*)\}", sub, text)
        return {k: self.resolve(v) for k, v in value.items()}


def deploy(templates: dict[str, dict[str, Any]], account: Any) -> Deployment:
    """Create the templates' resources in the emulated account, stacks in dependency order."""
    deployment = Deployment()
    pending = dict(templates)
    while pending:
        progressed = False
        for stack, template in list(pending.items()):
            try:
                _deploy_stack(stack, template, account, deployment)
            except TemplateError:
                continue
            del pending[stack]
            progressed = True
        if not progressed:
            missing = ", ".join(pending)
            raise TemplateError(f"cannot order stacks {missing}: unresolved cross-stack references")
    return deployment


def _deploy_stack(stack: str, template: dict[str, Any], account: Any, deployment: Deployment) -> None:
    resolver = Resolver(stack, account.account_id, account.region, deployment)
    resources = template.get("Resources", {})
    # Check imports first so a stack that must wait creates nothing (nothing half-applied).
    for _name, value in _walk(resources):
        if isinstance(value, dict) and "Fn::ImportValue" in value:
            resolver.resolve(value)
    order = _topological(resources)
    for logical in order:
        resource = resources[logical]
        _create(stack, logical, resource, resolver, account, deployment)
    # Policies last: a policy names the functions and machines its role may reach, which may depend on it.
    for logical in order:
        if resources[logical]["Type"] in ("AWS::IAM::Role", "AWS::IAM::Policy"):
            _attach_policies(stack, logical, resources[logical], resolver, deployment)
        elif resources[logical]["Type"] == "AWS::IAM::ManagedPolicy":
            props = resources[logical].get("Properties", {})
            name = resolver.resolve(props.get("ManagedPolicyName")) or f"{stack}-{logical}"
            document = resolver.resolve(props["PolicyDocument"])
            deployment.managed_policies[str(name)] = _as_list(document.get("Statement", []))
    for output in template.get("Outputs", {}).values():
        export = output.get("Export", {}).get("Name")
        if export:
            deployment.exports[resolver.resolve(export)] = resolver.resolve(output["Value"])


def _walk(node: Any, key: str = "") -> Any:
    yield key, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    for key, value in _walk(node):
        if isinstance(value, dict) and len(value) == 1:
            (k, arg), = value.items()
            if k == "Ref" and isinstance(arg, str) and not arg.startswith("AWS::"):
                found.add(arg)
            elif k == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else arg.split(".", 1)[0])
            elif k == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!][^}]*)\}", text)
                          if not m.startswith("AWS::")}
        del key
    return found


def _topological(resources: dict[str, Any]) -> list[str]:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name not in resources:
            return
        if name in visiting:
            return  # a cycle only through skipped types (roles/policies); creation order does not matter
        visiting.add(name)
        deps = _refs(resources[name].get("Properties", {})) | set(_as_list(resources[name].get("DependsOn")))
        for dep in sorted(deps):
            visit(dep)
        order.append(name)

    for name in resources:
        visit(name)
    return order


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _arn(account: Any, service: str, resource: str) -> str:
    return f"arn:aws:{service}:{account.region}:{account.account_id}:{resource}"


def _create(stack: str, logical: str, resource: dict[str, Any], resolver: Resolver, account: Any,
            deployment: Deployment) -> None:
    kind = resource["Type"]
    key = f"{stack}.{logical}"
    default_name = f"{stack}-{logical}"[:64]
    props = resource.get("Properties", {})

    def put(ref: str, arn: str | None = None, **extra: str) -> None:
        deployment.physical[key] = {"Ref": ref, **({"Arn": arn} if arn else {}), **extra}

    if kind == "AWS::DynamoDB::Table":
        p = resolver.resolve(props)
        name = p.get("TableName", default_name)
        request: dict[str, Any] = {"TableName": name, "KeySchema": p["KeySchema"],
                                   "AttributeDefinitions": p["AttributeDefinitions"],
                                   "BillingMode": p.get("BillingMode", "PAY_PER_REQUEST")}
        if request["BillingMode"] == "PROVISIONED":
            request["ProvisionedThroughput"] = p["ProvisionedThroughput"]
        ddb = account.client("dynamodb")
        if name not in ddb.list_tables()["TableNames"]:
            ddb.create_table(**request)
            ttl = p.get("TimeToLiveSpecification")
            if ttl:
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        put(name, _arn(account, "dynamodb", f"table/{name}"))
    elif kind == "AWS::SNS::Topic":
        p = resolver.resolve(props)
        arn = account.client("sns").create_topic(Name=p.get("TopicName", default_name))["TopicArn"]
        put(arn, arn, TopicName=arn.rsplit(":", 1)[1])
    elif kind == "AWS::SQS::Queue":
        p = resolver.resolve(props)
        name = p.get("QueueName", default_name)
        url = account.client("sqs").create_queue(QueueName=name)["QueueUrl"]
        put(url, _arn(account, "sqs", name), QueueName=name, QueueUrl=url)
    elif kind == "AWS::SQS::QueuePolicy":  # who may send (EventBridge's dead letters: sandbox.eventbridge_targets)
        p = resolver.resolve(props)
        for url in p.get("Queues", []):
            account.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={
                "Policy": json.dumps(p["PolicyDocument"])})
        put(default_name)
    elif kind == "AWS::SSM::Parameter":
        p = resolver.resolve(props)
        name = p.get("Name", f"/{default_name}")
        account.client("ssm").put_parameter(Name=name, Value=p["Value"], Type=p.get("Type", "String"),
                                            Overwrite=True)
        put(name, _arn(account, "ssm", f"parameter{name}"))
    elif kind == "AWS::CloudWatch::Alarm":
        p = resolver.resolve(props)
        name = p.get("AlarmName", default_name)
        deployment.alarms[name] = p
        account.client("cloudwatch").put_metric_alarm(**_alarm_request(name, p))
        put(name, _arn(account, "cloudwatch", f"alarm:{name}"))
    elif kind == "AWS::CloudWatch::CompositeAlarm":
        p = resolver.resolve(props)
        name = p.get("AlarmName", default_name)
        deployment.composite_alarms[name] = p
        request = {k: p[k] for k in ("AlarmRule", "AlarmDescription", "AlarmActions", "OKActions",
                                      "ActionsEnabled") if k in p}
        account.client("cloudwatch").put_composite_alarm(AlarmName=name, **request)
        put(name, _arn(account, "cloudwatch", f"alarm:{name}"))
    elif kind == "AWS::Events::Rule":
        p = resolver.resolve(props)
        name = p.get("Name", default_name)
        pattern = p.get("EventPattern")
        if p.get("ScheduleExpression"):
            account.client("events").put_rule(Name=name, ScheduleExpression=p["ScheduleExpression"],
                                              State=p.get("State", "ENABLED"))
            deployment.schedules.append(RuleSpec(
                logical_id=logical, stack=stack, name=name, pattern={"schedule": p["ScheduleExpression"]},
                target_arns=[t["Arn"] for t in p.get("Targets", [])], target_dlqs=_target_dlqs(p)))
        elif pattern is not None:
            account.client("events").put_rule(Name=name, EventPattern=json.dumps(pattern),
                                              State=p.get("State", "ENABLED"))
            deployment.rules.append(RuleSpec(
                logical_id=logical, stack=stack, name=name, pattern=pattern,
                target_arns=[t["Arn"] for t in p.get("Targets", [])],
                dlq_arns=[t["DeadLetterConfig"]["Arn"] for t in p.get("Targets", []) if "DeadLetterConfig" in t],
                target_dlqs=_target_dlqs(p)))
        put(name, _arn(account, "events", f"rule/{name}"))
    elif kind == "AWS::Scheduler::Schedule":
        p = resolver.resolve(props)
        name, target = p.get("Name", default_name), p["Target"]
        request = {k: p[k] for k in ("ScheduleExpression", "ScheduleExpressionTimezone", "FlexibleTimeWindow",
                                      "State", "Description", "GroupName") if k in p}
        scheduler = account.client("scheduler")
        exists = name in {s["Name"] for s in scheduler.list_schedules().get("Schedules", [])}  # a redeploy
        (scheduler.update_schedule if exists else scheduler.create_schedule)(Name=name, Target={
            k: target[k] for k in ("Arn", "RoleArn", "Input", "RetryPolicy", "DeadLetterConfig") if k in target},
            **request)
        deployment.schedules.append(RuleSpec(
            logical_id=logical, stack=stack, name=name,
            pattern={"schedule": p["ScheduleExpression"], "timezone": p.get("ScheduleExpressionTimezone", "UTC")},
            target_arns=[target["Arn"]], input=target.get("Input", "{}"),
            dlq_arns=[target["DeadLetterConfig"]["Arn"]] if "DeadLetterConfig" in target else []))
        put(name, _arn(account, "scheduler", f"schedule/{p.get('GroupName', 'default')}/{name}"))
    elif kind == "AWS::S3::Bucket":
        p = resolver.resolve(props)
        name = p.get("BucketName", default_name.lower())
        s3 = account.client("s3")
        if name not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": account.region})
        if p.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        put(name, f"arn:aws:s3:::{name}", DomainName=f"{name}.s3.amazonaws.com")
    elif kind == "AWS::StepFunctions::StateMachine":  # procedures: executed by moto, see sandbox.stepfunctions
        from sandbox.stepfunctions import create_state_machine

        ref, arn, name = create_state_machine(account, stack, logical, resolver.resolve(props))
        put(ref, arn, Name=name)
    elif kind == "AWS::Lambda::Function":
        p = resolver.resolve({k: v for k, v in props.items() if k != "Code"})
        name = p.get("FunctionName", default_name)
        arn = _arn(account, "lambda", f"function:{name}")
        deployment.functions[arn] = FunctionSpec(
            logical_id=logical, stack=stack, name=name, arn=arn, handler=p["Handler"],
            environment={k: str(v) for k, v in p.get("Environment", {}).get("Variables", {}).items()},
            role_arn=str(p.get("Role", "")))
        put(name, arn)
    elif kind == "AWS::IAM::Role":
        if props.get("ManagedPolicyArns") or props.get("PermissionsBoundary"):
            # Their statements live outside the templates: the sandbox cannot evaluate what it cannot read.
            raise ValueError(f"{key}: managed policies and permissions boundaries are not evaluated by the "
                             "sandbox (sandbox.iam); grant with inline statements")
        name = resolver.resolve(props.get("RoleName")) or default_name
        path = resolver.resolve(props.get("Path")) or "/"
        trust = props.get("AssumeRolePolicyDocument", {}).get("Statement", [])
        services = [str(s) for st in trust for s in _as_list(st.get("Principal", {}).get("Service"))]
        arn = f"arn:aws:iam::{account.account_id}:role{path}{name}"
        deployment.roles[arn] = RoleSpec(name=name, arn=arn, services=services)
        put(name, arn, RoleId=f"AROA{abs(hash(arn)) % 10**16:016d}")
    elif kind == "AWS::Lambda::Url":
        from sandbox.function_urls import serve

        p = resolver.resolve(props)
        function_arn = str(p["TargetFunctionArn"])
        if not function_arn.startswith("arn:"):
            function_arn = _arn(account, "lambda", f"function:{function_arn}")
        url = serve(function_arn)
        url_id = re.sub(r"[^a-z0-9]", "", function_arn.rsplit(":", 1)[-1].lower())[:32]
        deployment.function_urls[function_arn] = {"AuthType": str(p["AuthType"]), "url": url, "url_id": url_id}
        put(url, function_arn, FunctionUrl=url, FunctionArn=function_arn)
    elif kind == "AWS::Lambda::Permission":
        deployment.permissions.append(resolver.resolve(props))  # who may invoke (function URLs, SNS)
        put(default_name)
    elif kind == "AWS::SNS::Subscription" and resolver.resolve(props.get("Protocol")) == "lambda":
        # SNS -> Lambda (sandbox.gaps.sns delivers it); e-mail subscriptions are seeded with the catalog's
        # addresses (sandbox.seed_doctor), there is nobody to mail here.
        p = resolver.resolve(props)
        sns = account.client("sns")
        arn = sns.subscribe(TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"],
                            ReturnSubscriptionArn=True)["SubscriptionArn"]
        put(arn, arn)
    elif kind == "AWS::IAM::ManagedPolicy":
        if props.get("Roles") or props.get("Users") or props.get("Groups"):
            raise ValueError(f"{key}: a managed policy attached in the templates (the sandbox evaluates roles' "
                             "inline policies, and managed policies given to people by sandbox.iam.person)")
        put(default_name, _arn(account, "iam", f"policy/{default_name}"))
    elif kind == "AWS::Lambda::EventInvokeConfig":
        p = resolver.resolve(props)
        function_arn = _arn(account, "lambda", f"function:{p['FunctionName']}")
        spec = deployment.functions.get(function_arn)
        if spec is not None:
            spec.max_retries = int(p.get("MaximumRetryAttempts", 2))
            spec.on_failure_arn = p.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        put(default_name)
    else:
        # Log groups, permissions, policies (attached to their roles at the end, _attach_policies)…: names resolve.
        put(default_name, _arn(account, "cloudformation", f"{stack}/{logical}"))


def _target_dlqs(rule: dict[str, Any]) -> dict[str, str]:
    return {str(t["Arn"]): str(t["DeadLetterConfig"]["Arn"])
            for t in rule.get("Targets", []) if "DeadLetterConfig" in t}


def _attach_policies(stack: str, logical: str, resource: dict[str, Any], resolver: Resolver,
                     deployment: Deployment) -> None:
    """The statements of an AWS::IAM::Policy (or a role's inline Policies) onto the roles they are attached to."""
    props = resource.get("Properties", {})
    if resource["Type"] == "AWS::IAM::Role":
        targets = [deployment.roles[deployment.physical[f"{stack}.{logical}"]["Arn"]]]
        documents = [resolver.resolve(p["PolicyDocument"]) for p in props.get("Policies", [])]
    else:
        if props.get("Users") or props.get("Groups"):
            raise ValueError(f"{stack}.{logical}: a policy for users or groups (the sandbox evaluates roles only)")
        by_name = {role.name: role for role in deployment.roles.values()}
        targets = [by_name[str(name)] for name in resolver.resolve(props.get("Roles", [])) if str(name) in by_name]
        documents = [resolver.resolve(props["PolicyDocument"])]
    for role in targets:
        for document in documents:
            role.statements.extend(_as_list(document.get("Statement", [])))


def _alarm_request(name: str, p: dict[str, Any]) -> dict[str, Any]:
    keys = ("AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions",
            "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
            "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
            "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId")
    request = {k: p[k] for k in keys if k in p}
    for number in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if number in request:
            request[number] = int(request[number])
    if "Threshold" in request:
        request["Threshold"] = float(request["Threshold"])
    return {"AlarmName": name, **request}
