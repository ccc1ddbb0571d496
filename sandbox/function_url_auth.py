"""AuthType AWS_IAM for the sandbox's function URLs (sandbox.function_urls.IAM_VERIFIER): what Lambda does before a
signed request reaches the function, so the caller the answer function reads is one the sandbox verified.

1. Signature Version 4 (the "Create a signed AWS API request" and "Elements of an AWS API request signature"
   pages of the IAM User Guide): the Authorization header `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/
   lambda/aws4_request, SignedHeaders=…, Signature=…`; the canonical request (method, URI, sorted query, the
   signed headers, the SHA-256 of the body as received), the string to sign and the HMAC chain of the secret
   are rebuilt here from what arrived, independently of botocore, with the secret the sandbox gave that key
   (sandbox.iam). Refused (403): no signature, an unknown key, another service or region, a session token that
   is not the key's, a request dated more than 15 minutes from now, any header, query or body byte changed after
   signing (the signature no longer matches).
2. IAM (Lambda developer guide, "Control access to Lambda function URLs"; IAM service reference): a same-account
   caller needs lambda:InvokeFunctionUrl on the function with lambda:FunctionUrlAuthType = AWS_IAM, and, for
   function URLs created since October 2025, lambda:InvokeFunction with lambda:InvokedViaFunctionUrl = true.
   Evaluated against the caller's policies (sandbox.iam.decide: a denial is recorded as every denial is).
3. The verified caller, as requestContext.authorizer.iam carries it (payload format 2.0): accessKey, accountId,
   callerId (<role id>:<session> for an assumed role), userArn, userId, cognitoIdentity and principalOrgId null.

Lambda answers a refused request with 403 {"Message":"Forbidden"} before the function runs; so does the sandbox.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=15)  # SigV4: a signature is valid 15 minutes from its X-Amz-Date
_AUTHORIZATION = re.compile(r"^AWS4-HMAC-SHA256 Credential=(?P<credential>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+)"
                            r",\s*Signature=(?P<signature>[0-9a-f]{64})$")
REFUSALS: list[str] = []  # why each refused request was refused, in order (tests, game day)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_request(method: str, raw_path: str, headers: dict[str, str], signed: list[str], body: bytes) -> str:
    parts = urlsplit(raw_path)
    # Each path segment URI-encoded (for services other than S3 the already-encoded path is normalized and
    # encoded once more: what the SDKs sign).
    path = quote(unquote(parts.path or "/"), safe="/~")
    path = quote(path, safe="/~")
    query = sorted((_encode(unquote(k)), _encode(unquote(v))) for k, _, v in
                   (pair.partition("=") for pair in parts.query.split("&") if pair))
    lower = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    canonical_headers = "".join(f"{name}:{lower.get(name, '')}\n" for name in signed)
    return "\n".join([method, path, "&".join(f"{k}={v}" for k, v in query), canonical_headers, ";".join(signed),
                      _sha256(body)])


def signature(secret: str, date: str, region: str, service: str, amz_date: str, request: str) -> str:
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, _sha256(request.encode())])
    key = _hmac(f"AWS4{secret}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _refuse(why: str) -> None:
    REFUSALS.append(why)


def verify(method: str, raw_path: str, headers: dict[str, str], body: bytes, function_arn: str, region: str,
           now: datetime | None = None) -> dict[str, Any] | None:
    """The verified caller of a signed request to `function_arn`'s URL (requestContext.authorizer.iam), or None
    (refused: 403) with the reason appended to REFUSALS."""
    from sandbox import iam
    from sandbox.iam_policy import Request

    lower = {k.lower(): v for k, v in headers.items()}
    found = _AUTHORIZATION.match(lower.get("authorization", "").strip())
    if not found:
        return _refuse("no SigV4 Authorization header")
    key, date, scope_region, service, terminal = ([*found["credential"].split("/"), "", "", "", ""])[:5]
    signed = found["signed"].split(";")
    who = iam.principal(key)
    if who is None:
        return _refuse(f"unknown access key {key}")
    if (service, terminal, scope_region) != ("lambda", "aws4_request", region):
        return _refuse(f"credential scope {found['credential']} is not lambda in {region}")
    if "host" not in signed or "x-amz-date" not in signed:
        return _refuse("host and x-amz-date must be signed")
    amz_date = lower.get("x-amz-date", "")
    try:
        when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return _refuse(f"bad X-Amz-Date {amz_date!r}")
    if not amz_date.startswith(date) or abs((now or datetime.now(UTC)) - when) > MAX_SKEW:
        return _refuse(f"signature expired or not yet valid (X-Amz-Date {amz_date})")
    token = iam.credentials(key)["AWS_SESSION_TOKEN"]
    if lower.get("x-amz-security-token") != token or "x-amz-security-token" not in signed:
        return _refuse("the security token is not the access key's (or not signed)")
    expected = signature(iam.secret_for(key), date, region, "lambda", amz_date,
                         canonical_request(method, raw_path, lower, signed, body))
    if not hmac.compare_digest(expected, found["signature"]):
        return _refuse("the request signature does not match (forged, or altered after signing)")
    for request in (Request("lambda:InvokeFunctionUrl", (function_arn,), {"lambda:FunctionUrlAuthType": "AWS_IAM"}),
                    Request("lambda:InvokeFunction", (function_arn,), {"lambda:InvokedViaFunctionUrl": "true"})):
        denial = iam.decide(who, request, "lambda", "InvokeFunctionUrl")
        if denial is not None:
            return _refuse(denial.message)
    role_id = f"AROA{_sha256(who.role_arn.encode())[:17].upper()}"
    return {"accessKey": key, "accountId": who.account, "callerId": f"{role_id}:{who.session}",
            "cognitoIdentity": None, "principalOrgId": None, "userArn": who.arn, "userId": f"{role_id}:{who.session}"}


def install() -> None:
    """Plug the verification into the sandbox's function URLs (every AWS_IAM URL is refused without it)."""
    from sandbox import function_urls

    function_urls.IAM_VERIFIER = verify
