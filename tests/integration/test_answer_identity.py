"""Who answers is what AWS verified (issue 13): the answer function's URL (AuthType AWS_IAM) in the sandbox checks
the SigV4 signature against the caller's own secret and the caller's IAM permissions before the function runs;
the catalog's allow-list and two-person rule decide the rest; people cannot answer a task token themselves."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from remedy.commands import incident
from remedy.gameday.scenarios.procedures import settle, start
from sandbox import function_url_auth, iam
from sandbox.core import Sandbox
from sandbox.people import ANALYST_ROLE, answering, arn, responder

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sb(sandbox_env: Sandbox) -> Iterator[Sandbox]:
    sandbox_env.reset()
    yield sandbox_env


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def signed(sb: Sandbox, body: bytes, secret: str | None = None, who: str = "alice") -> tuple[str, dict[str, str]]:
    creds = responder(sb, who)
    url = incident.answer_url(sb.client, sb.catalog)
    request = AWSRequest(method="POST", url=url, data=body, headers={"content-type": "application/json"})
    SigV4Auth(Credentials(creds["AWS_ACCESS_KEY_ID"], secret or creds["AWS_SECRET_ACCESS_KEY"],
                          creds["AWS_SESSION_TOKEN"]), "lambda", sb.catalog.region).add_auth(request)
    return url, dict(request.prepare().headers.items())


BODY = json.dumps({"approval": "IT-ID-0", "decision": "approve", "dedupe": "d-1"}).encode()


def test_a_signed_request_reaches_the_function_with_the_verified_caller(sb: Sandbox) -> None:
    url, headers = signed(sb, BODY)
    status, result = post(url, BODY, headers)
    assert status == 200  # verified and allowed; nothing waits for IT-ID-0, which the function says
    assert (result["outcome"], result["by"]) == ("NOT_FOUND", arn(sb, "alice"))


@pytest.mark.parametrize("tamper", ["unsigned", "forged", "altered-body", "other-token"])
def test_unsigned_forged_or_altered_requests_are_refused_before_the_function(sb: Sandbox, tamper: str) -> None:
    url, headers = signed(sb, BODY, secret="not-alices-secret" if tamper == "forged" else None)
    body = BODY
    if tamper == "unsigned":
        headers = {"content-type": "application/json"}
    elif tamper == "altered-body":
        body = BODY.replace(b"approve", b"reject ")
    elif tamper == "other-token":
        headers["X-Amz-Security-Token"] = iam.credentials(iam.key_for("x", "y"))["AWS_SESSION_TOKEN"]
    before = len(sb.audit())
    status, result = post(url, body, headers)
    assert (status, result) == (403, {"Message": "Forbidden"})
    assert len(sb.audit()) == before  # the function never ran
    assert function_url_auth.REFUSALS[-1]


def test_the_sandbox_itself_has_no_identity_to_answer_with(sb: Sandbox) -> None:
    with pytest.raises(incident.IncidentError, match="403 Forbidden"):
        incident.approve(sb.client, sb.catalog, "IT-ID-0",
                         credentials={"AWS_ACCESS_KEY_ID": iam.ADMIN_KEY, "AWS_SECRET_ACCESS_KEY": "x"})


def test_a_procedure_approval_is_answered_through_the_url_and_allow_list_and_two_person_apply(sb: Sandbox) -> None:
    start(sb, "scale-glue", "IT-ID-1", job="customers-stream", workers=4,
          requested_by=arn(sb, "alice"))  # alice started it (two-person rule)
    settle(sb, "scale-glue", "IT-ID-1")
    with pytest.raises(incident.IncidentError, match=r"not among the IAM principals.*\[allow-list\]"):
        incident.approve(sb.client, sb.catalog, "IT-ID-1", **answering(sb, "dave", ANALYST_ROLE))
    with pytest.raises(incident.IncidentError, match=r"may not approve it too.*\[two-person\]"):
        incident.approve(sb.client, sb.catalog, "IT-ID-1", **answering(sb, "alice"))
    refused = [r["payload"] for r in sb.audit("IT-ID-1") if r["kind"] == "answer"]
    assert [(r["outcome"], r["rule"], r["principal"]) for r in refused] == [
        ("REFUSED", "allow-list", arn(sb, "dave", ANALYST_ROLE)), ("REFUSED", "two-person", arn(sb, "alice"))]
    answered = incident.approve(sb.client, sb.catalog, "IT-ID-1", reason="ok", **answering(sb, "bob"))
    assert (answered["decision"], answered["by"]) == ("APPROVED", f"bob ({arn(sb, 'bob')})")
    assert settle(sb, "scale-glue", "IT-ID-1", until_end=True)["status"] == "SUCCEEDED"


def test_people_can_neither_read_task_tokens_nor_send_task_success(sb: Sandbox) -> None:
    import boto3

    creds = responder(sb, "alice")
    session = boto3.session.Session(aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                                    aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                                    aws_session_token=creds["AWS_SESSION_TOKEN"], region_name=sb.catalog.region)
    endpoint = sb.account.environ()["AWS_ENDPOINT_URL"]
    sfn = session.client("stepfunctions", endpoint_url=endpoint)
    with pytest.raises(ClientError) as denied:
        sfn.send_task_success(taskToken="any", output="{}")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"{arn(sb, 'alice')} is not authorized to perform: states:SendTaskSuccess" in str(denied.value)
    ddb = session.client("dynamodb", endpoint_url=endpoint)
    with pytest.raises(ClientError) as unread:
        ddb.scan(TableName=f"{sb.catalog.prefix}-approvals-tokens")
    assert unread.value.response["Error"]["Code"] == "AccessDeniedException"
    lam = session.client("lambda", endpoint_url=endpoint)
    with pytest.raises(ClientError) as direct:  # a direct invocation could claim any identity: not theirs to make
        lam.invoke(FunctionName=f"{sb.catalog.prefix}-answer", Payload=b"{}")
    assert direct.value.response["Error"]["Code"] == "AccessDeniedException"
