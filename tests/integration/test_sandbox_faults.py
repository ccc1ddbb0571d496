"""The sandbox answers an injected fault in each service's own protocol, so botocore raises the real
ClientError (code and HTTP status) that production code must handle."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from sandbox.aws import CALLS, EmulatedAccount, inject_error

pytestmark = pytest.mark.integration

CALLS_UNDER_TEST: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("glue", "GetJobRuns", lambda c: c.get_job_runs(JobName="orders-stream")),  # JSON
    ("cloudwatch", "DescribeAlarms", lambda c: c.describe_alarms()),  # CBOR (smithy rpc v2)
    ("sns", "ListTopics", lambda c: c.list_topics()),  # query XML
    ("ec2", "DescribeSecurityGroups", lambda c: c.describe_security_groups()),  # EC2 XML
    ("kafka", "ListClustersV2", lambda c: c.list_clusters_v2()),  # REST JSON
    ("redshift", "DescribeClusters", lambda c: c.describe_clusters()),
]


@pytest.fixture(scope="module")
def account() -> Iterator[EmulatedAccount]:
    emulated = EmulatedAccount("111111111111", "eu-west-1").start()
    yield emulated
    emulated.stop()


def client(account: EmulatedAccount, service: str) -> Any:
    return boto3.client(service, endpoint_url=account.endpoint, region_name="eu-west-1", aws_access_key_id="x",
                        aws_secret_access_key="x", config=Config(retries={"total_max_attempts": 1}))


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 400), ("AccessDeniedException", 400),
                                              ("ServiceUnavailable", 503)])
@pytest.mark.parametrize(("service", "operation", "call"), CALLS_UNDER_TEST)
def test_injected_fault_reaches_botocore_as_the_real_error(account: EmulatedAccount, service: str, operation: str,
                                                           call: Callable[[Any], Any], code: str, status: int) -> None:
    with inject_error(service, operation, code, "injected"), pytest.raises(botocore.exceptions.ClientError) as caught:
        call(client(account, service))
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_calls_are_counted_and_faults_end_with_the_context(account: EmulatedAccount) -> None:
    glue = client(account, "glue")
    before = len(CALLS)
    with inject_error("glue", "ListJobs", "ThrottlingException"), pytest.raises(botocore.exceptions.ClientError):
        glue.list_jobs()
    # The fault ended with its context: the same call answers again (moto's state is per process, so other
    # tests' jobs may be listed).
    assert isinstance(glue.list_jobs()["JobNames"], list)
    assert [c for c in CALLS[before:] if c[0] == "glue"] == [("glue", "ListJobs"), ("glue", "ListJobs")]


def test_in_process_requests_are_answered_like_the_servers_including_an_error_of_motos_own(
        account: EmulatedAccount, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """sandbox.transport answers this process's requests without the socket: the same answers, and an exception
    raised inside moto is a 500 to the caller (as the server answers it, naming the exception), not a crash."""
    from moto.sns.responses import SNSResponse

    from sandbox import transport

    sns = client(account, "sns")
    served = []
    original = transport._answer

    def counting(request: Any, **kwargs: Any) -> Any:
        answer = original(request, **kwargs)
        served.append(answer is not None)
        return answer

    sns.meta.events.unregister("before-send", original)
    sns.meta.events.register("before-send", counting)
    assert "Topics" in sns.list_topics() and served == [True]  # answered in-process

    def broken(self: Any) -> Any:
        raise RuntimeError("a bug of moto's")

    monkeypatch.setattr(SNSResponse, "list_topics", broken)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        sns.list_topics()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500 and served == [True, True]
    # the exception is logged with its traceback, and the page names it and where it was raised (a JSON-protocol
    # client shows the page as the error's message): a 500 in a test report can be traced without a rerun
    logged = [r for r in caplog.records if r.name == "sandbox.transport" and r.exc_info]
    assert logged and logged[-1].exc_info[1] is not None and str(logged[-1].exc_info[1]) == "a bug of moto's"
    from moto.stepfunctions.responses import StepFunctionResponse

    monkeypatch.setattr(StepFunctionResponse, "list_state_machines", broken)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        client(account, "stepfunctions").list_state_machines()
    assert "Internal Server Error: RuntimeError: a bug of moto's (" in str(raised.value)
    assert "test_sandbox_faults.py:" in str(raised.value)
