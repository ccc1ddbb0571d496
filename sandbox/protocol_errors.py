"""An AWS error in the protocol of the request it answers: JSON 1.x, CBOR (smithy rpc v2), query XML, EC2 XML or
S3's REST-XML. The emulation engine answers injected faults with it (sandbox.aws) and IAM denials and unmapped
calls (sandbox.iam): kept below both so that neither imports the other for it."""

from __future__ import annotations

import json
from typing import Any


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    size = len(data)
    head = bytes([0x60 | size]) if size < 24 else (bytes([0x78, size]) if size < 256 else
                                                  bytes([0x79]) + size.to_bytes(2, "big"))
    return head + data


def error_body(content_type: str, service: str, code: str, message: str) -> tuple[dict[str, str], Any]:
    """An AWS error in the protocol the request used: JSON, CBOR (smithy rpc v2), query XML or EC2 XML."""
    request_id = "sandbox-injected-fault"
    if service == "s3":  # REST-XML
        return {"Content-Type": "application/xml"}, (f"<Error><Code>{code}</Code><Message>{message}</Message>"
                                                     f"<RequestId>{request_id}</RequestId></Error>")
    if "cbor" in content_type:
        body = bytes([0xA2]) + _cbor_text("__type") + _cbor_text(code) + _cbor_text("message") + _cbor_text(message)
        return {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor",
                "x-amzn-query-error": f"{code};Sender"}, body
    if "json" in content_type or not content_type.startswith("application/x-www-form-urlencoded"):
        return ({"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code,
                 "x-amzn-query-error": f"{code};Sender"}, json.dumps({"__type": code, "message": message}))
    if service == "ec2":
        return {"Content-Type": "text/xml"}, (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}"
                                              f"</Message></Error></Errors><RequestID>{request_id}</RequestID>"
                                              f"</Response>")
    return {"Content-Type": "text/xml"}, (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>"
                                          f"{message}</Message></Error><RequestId>{request_id}</RequestId>"
                                          f"</ErrorResponse>")
