"""What went wrong, in one line: the text an audit record, a finding or a notification carries for an error.

One place for it (the playbooks, the guard and the procedures had their own copies): an AWS error is named by its
code (botocore's ClientError carries it in `response`), anything else by its type; the first line of the message
follows, the whole kept short enough for a notification. No botocore import: the error is read, not caught here.
"""

from __future__ import annotations

LIMIT = 200  # characters: a finding's or a notification's line, never a stack of text


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ClientError (e.g. "ConditionalCheckFailedException"); "" for anything
    else, or when the response carries none."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return ""
    return str((response.get("Error") or {}).get("Code") or "")


def error_line(error: BaseException, limit: int | None = LIMIT) -> str:
    """`<code>: <first line>` for an AWS error, `<type>: <first line>` otherwise, at most `limit` characters."""
    text = str(error).splitlines()[0] if str(error).strip() else type(error).__name__
    line = f"{error_code(error) or type(error).__name__}: {text}"
    return line if limit is None else line[:limit]
