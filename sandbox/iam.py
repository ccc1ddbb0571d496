"""IAM enforced in the sandbox: every call a deployed Lambda function or a state machine's task makes is signed
with credentials of that principal's own role and evaluated against the role's synthesized policies
(sandbox.iam_policy), on the action(s) and resource(s) the call touches (sandbox.iam_requests). A denied call is
answered as AWS answers it: the service's error code for its protocol (`AccessDeniedException` for JSON services,
`AccessDenied` for query/XML services and S3, `AuthorizationError` for SNS, `UnauthorizedOperation` for EC2) with
the message "User: arn:aws:sts::<account>:assumed-role/<role>/<session> is not authorized to perform: <action> on
resource: <arn> because no identity-based policy allows the <action> action".

Who signs with what:
- a Lambda function: its role's credentials, session name = the function's name (as Lambda names it);
- a state machine's tasks (aws-sdk integrations, Lambda invocations): its role's credentials;
- the sandbox itself (seeding, scenarios, a person at the CLI): the admin key `sandbox` (ADMIN_KEY), not evaluated,
  and so is every key the sandbox did not hand to a principal.

Each principal's access key id is deterministic (ASIA + 16 characters of a hash of role and session): the same
templates give the same keys in every run, so the fault matrix and tests can name a function's key.

Enforcement has no off switch: a test that wants a call allowed changes the templates' grants, as a deployment
would.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from sandbox.iam_policy import Decision, PolicyError, Request, denial_message, evaluate, validate
from sandbox.iam_requests import Call, UnmappedOperation, requests_for
from sandbox.protocol_errors import error_body

ADMIN_KEY = "sandbox"
STATES_SESSION = "StepFunctions"  # the session name the sandbox gives a state machine's role

@dataclass
class Principal:
    key: str
    account: str
    role_arn: str
    session: str
    service: str  # the role's trusted service: "lambda.amazonaws.com", "states.amazonaws.com" ...
    statements: list[dict[str, Any]] = field(default_factory=list)

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]

    @property
    def arn(self) -> str:
        return f"arn:aws:sts::{self.account}:assumed-role/{self.role_name}/{self.session}"

    @property
    def kind(self) -> str:
        return self.service.split(".", 1)[0]  # "lambda" | "states" | "scheduler"


@dataclass
class Denial:
    principal: str
    action: str
    resource: str
    message: str
    service: str
    operation: str


_PRINCIPALS: dict[str, Principal] = {}
UNMAPPED: list[str] = []  # calls a principal made that sandbox.iam_requests has no row for (each one a failure)
DENIALS: list[Denial] = []  # every call denied, in order (game day reports, tests)


def key_for(role_arn: str, session: str) -> str:
    digest = hashlib.sha256(f"{role_arn}\0{session}".encode()).hexdigest().upper()
    return f"ASIA{digest[:16]}"


def secret_for(key: str) -> str:
    return hashlib.sha256(f"secret\0{key}".encode()).hexdigest()[:40]


def register(deployment: Any, account: str) -> None:
    """The principals of a deployment (sandbox.cfn): one per function (its role, session = its name) and one per
    state machine role. Every policy is validated here: one the evaluator cannot read fails the deployment."""
    principals: dict[str, Principal] = {}
    for role in deployment.roles.values():
        validate(role.statements)
    for spec in deployment.functions.values():
        role = deployment.roles.get(spec.role_arn)
        if role is None:
            raise PolicyError(f"function {spec.name}: its role {spec.role_arn} is not in the templates")
        key = key_for(role.arn, spec.name)
        principals[key] = Principal(key, account, role.arn, spec.name, "lambda.amazonaws.com", role.statements)
    for role in deployment.roles.values():
        if "states.amazonaws.com" in role.services:
            key = key_for(role.arn, STATES_SESSION)
            principals[key] = Principal(key, account, role.arn, STATES_SESSION, "states.amazonaws.com",
                                        role.statements)
    _PRINCIPALS.clear()
    _PRINCIPALS.update(principals)
    for key in _PEOPLE:
        _PRINCIPALS[key] = _person_principal(key, deployment, account)


# -- people ---------------------------------------------------------------------------------------------------
# A person at the CLI (issue 13) is not the sandbox: they sign with their own assumed-role session's key pair
# (arn:aws:sts::<account>:assumed-role/<role>/<session>), evaluated against the managed policies of the templates
# that the account attached to their role (<prefix>-responder, docs/security.md), as IAM evaluates a real on-call
# engineer. Their secret is real too: sandbox.function_url_auth verifies their SigV4 signatures with it.
_PEOPLE: dict[str, tuple[str, str, tuple[str, ...]]] = {}  # key -> (role name, session name, managed policy names)


def person(deployment: Any, account: str, role: str, session: str, policies: tuple[str, ...]) -> dict[str, str]:
    """The credentials of `session` in role `role` holding the templates' managed policies `policies` (by name);
    registered until the process ends (a reset account keeps its people)."""
    key = key_for(f"arn:aws:iam::{account}:role/{role}", session)
    _PEOPLE[key] = (role, session, tuple(policies))
    _PRINCIPALS[key] = _person_principal(key, deployment, account)
    return credentials(key)


def _person_principal(key: str, deployment: Any, account: str) -> Principal:
    role, session, policies = _PEOPLE[key]
    managed = getattr(deployment, "managed_policies", {})
    missing = [name for name in policies if name not in managed]
    if missing:
        raise PolicyError(f"person {role}/{session}: no managed policy {missing[0]} in the templates")
    statements = [statement for name in policies for statement in managed[name]]
    validate(statements)
    return Principal(key, account, f"arn:aws:iam::{account}:role/{role}", session, "", statements)


def principal(key: str) -> Principal | None:
    return _PRINCIPALS.get(key)


def function_key(spec: Any) -> str:
    return key_for(spec.role_arn, spec.name)


def state_machine_key(role_arn: str) -> str:
    return key_for(role_arn, STATES_SESSION)


def keys(kind: str | None = None) -> frozenset[str]:
    """The access key ids of the deployed principals ("lambda": functions, "states": state machines)."""
    return frozenset(k for k, p in _PRINCIPALS.items() if kind is None or p.kind == kind)


def credentials(key: str) -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret_for(key), "AWS_SESSION_TOKEN": f"session-{key}"}


# -- the decision -----------------------------------------------------------------------------------------------

def authorize(key: str, call: Call) -> Denial | None:
    """None when `key` is not a principal's (the sandbox's own calls) or every authorization the call needs is
    allowed; else the first denial. Raises UnmappedOperation for a call the table does not know."""
    who = _PRINCIPALS.get(key)
    if who is None:
        return None
    for request in requests_for(call):
        denial = decide(who, request, call.service, call.operation)
        if denial is not None:
            return denial
    return None


def decide(who: Principal, request: Request, service: str, operation: str) -> Denial | None:
    decision: Decision = evaluate(who.statements, request)
    if decision.allowed:
        return None
    message = denial_message(who.arn, request.action, decision, prefix_case="SNS" if service == "sns" else None,
                             name_star=service != "ec2")
    if service == "ec2":
        message = f"You are not authorized to perform this operation. {message}"
    denial = Denial(who.arn, request.action, decision.resource, message, service, operation)
    DENIALS.append(denial)
    return denial


# -- the answer -------------------------------------------------------------------------------------------------

_QUERY_CODES = {"sns": "AuthorizationError", "ec2": "UnauthorizedOperation"}
_ACCESS_DENIED = {"s3", "iam", "sts", "redshift", "cloudformation", "cloudwatch", "sqs", "sns", "ec2"}
_REST_JSON = {"kafka", "lambda"}


def error_code(service: str) -> tuple[str, int]:
    """The error code and HTTP status AWS answers a denied call of `service` with."""
    if service in _ACCESS_DENIED:
        return _QUERY_CODES.get(service, "AccessDenied"), 403
    if service in _REST_JSON:
        return "AccessDeniedException", 403
    return "AccessDeniedException", 400  # JSON 1.x services (Glue, DynamoDB, SSM, Step Functions ...)


def answer(denial: Denial, content_type: str) -> tuple[int, dict[str, str], Any]:
    code, status = error_code(denial.service)
    headers, body = error_body(content_type, denial.service, code, denial.message)
    headers["status"] = str(status)
    return status, headers, body


def unmapped_answer(error: Exception, service: str, content_type: str) -> tuple[int, dict[str, str], Any]:
    """A call the table does not know: recorded, printed, and answered with an error no code path tolerates."""
    UNMAPPED.append(str(error))
    print(f"sandbox.iam: UNMAPPED {error}", file=sys.stderr)
    headers, body = error_body(content_type, service, "SandboxUnmappedOperation", str(error))
    headers["status"] = "500"
    return 500, headers, body


def check_moto(response: Any, caller: str) -> tuple[int, dict[str, str], Any] | None:
    """The IAM answer for a request moto's BaseResponse is about to handle (None: let it through)."""
    if caller not in _PRINCIPALS:
        return None
    who = _PRINCIPALS[caller]
    service = response.service_name or ""
    service = {"awslambda": "lambda"}.get(service, service)  # moto's module name; IAM's and the table's prefix
    content_type = response.headers.get("Content-Type", "")
    call = Call(service, response._get_action(), _params_of(response), who.account, response.region,
                response.path)
    try:
        denial = authorize(caller, call)
    except (UnmappedOperation, PolicyError) as error:
        return unmapped_answer(error, service, content_type)
    return answer(denial, content_type) if denial else None


def check_s3(request: Any, full_url: str, operation: str, caller: str) -> tuple[int, dict[str, str], Any] | None:
    if caller not in _PRINCIPALS:
        return None
    from moto.core.routing import get_service_router

    who = _PRINCIPALS[caller]
    try:
        params = dict(get_service_router("s3").match(request)[1])
    except Exception:
        params = {}
    query = parse_qs(urlparse(full_url).query, keep_blank_values=True)
    params.update({k: v[0] for k, v in query.items()})
    copy_source = request.headers.get("x-amz-copy-source")
    if copy_source:
        params["CopySource"] = copy_source
    call = Call("s3", operation, params, who.account, "", urlparse(full_url).path)
    try:
        denial = authorize(caller, call)
    except (UnmappedOperation, PolicyError) as error:
        return unmapped_answer(error, "s3", "")
    return answer(denial, "") if denial else None


def check_global(service: str, operation: str, caller: str) -> tuple[int, dict[str, str], Any] | None:
    """AWS Health and Support (answered before moto's routing): their operations take no resource ARN."""
    if caller not in _PRINCIPALS:
        return None
    who = _PRINCIPALS[caller]
    content_type = "application/x-amz-json-1.1"
    try:
        denial = authorize(caller, Call(service, operation, {}, who.account, ""))
    except (UnmappedOperation, PolicyError) as error:
        return unmapped_answer(error, service, content_type)
    return answer(denial, content_type) if denial else None


def _params_of(response: Any) -> dict[str, Any]:
    """The request's parameters as its operation's input shape names them, whatever the protocol."""
    if getattr(response, "automated_parameter_parsing", False):
        params = dict(getattr(response, "params", {}) or {})
        params.update(getattr(response, "uri_match", {}) or {})
        return params
    content_type = str(response.headers.get("Content-Type", ""))
    if content_type.startswith("application/x-www-form-urlencoded"):
        try:
            return dict(response._get_params())
        except Exception:
            return {k: v[0] for k, v in response.querystring.items()}
    body = response.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {}
    return parsed if isinstance(parsed, dict) else {}
