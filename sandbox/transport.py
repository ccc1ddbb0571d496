"""In-process transport: this process's botocore requests to its own sandbox are answered by moto's WSGI app in
the calling thread, instead of over a loopback socket to the server thread.

Why: the answer is the same app's (moto's routing, the gap fills, IAM, injected faults and the call records all
live in it: sandbox.aws patches it, not the socket), but a request over loopback also costs a connection, a server
thread per request and HTTP parsed on both ends: a third of the CPU of a sandbox-heavy test run (measured
2026-12-02 on the fault matrix with py-spy). Other processes (`remedy` run as a subprocess, the CLI against a
running sandbox) still reach the server over HTTP, which stays up.

How: a `before-send` handler, botocore's documented hook for answering a request without sending it (moto's own
mock uses it), registered for every botocore session created after this module is imported
(botocore.handlers.BUILTIN_HANDLERS) and on the sessions the sandbox keeps. A request for any other endpoint (a
real AWS one) gets None: botocore sends it as usual.

What it changes: nothing of the request (signed headers, body, query) or of the answer (status, headers, body;
an exception moto raises is a 500, as the server answers it, whose page here also names the exception), except
that a header whose name has an underscore reaches moto folded to a dash (moto's server keeps them for S3 object
metadata; nothing here writes such metadata).
"""

from __future__ import annotations

import html
import logging
import threading
import traceback
from typing import Any
from urllib.parse import urlsplit

_APPS: dict[str, Any] = {}  # "http://127.0.0.1:<port>" -> moto's WSGI app for that sandbox
_LOCK = threading.Lock()
_log = logging.getLogger(__name__)


def serve(endpoint: str) -> None:
    """Answer this process's requests for `endpoint` in-process from now on."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    with _LOCK:
        _APPS[endpoint.rstrip("/")] = DomainDispatcherApplication(create_backend_app)


def forget(endpoint: str) -> None:
    with _LOCK:
        _APPS.pop(endpoint.rstrip("/"), None)


def _answer(request: Any, **_kwargs: Any) -> Any:
    """botocore's before-send: an AWSResponse for a sandbox request, None for anything else."""
    if not _APPS:
        return None
    url = urlsplit(request.url)
    app = _APPS.get(f"{url.scheme}://{url.netloc}")
    if app is None:
        return None
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = [(k, v.decode("utf-8") if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()]
    builder = EnvironBuilder(method=request.method, path=url.path or "/", query_string=url.query,
                             base_url=f"{url.scheme}://{url.netloc}", headers=headers, data=body or b"")
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    try:
        app_iter, status, response_headers = run_wsgi_app(app, environ)
        try:
            data = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
    except Exception as error:  # as the server does: moto's own error is a 500 to the caller, not a crash
        _log.warning("moto raised answering %s %s", request.method, request.url, exc_info=True)
        # The body names the exception and where it was raised (the server's page says only "Internal Server
        # Error"): a 500 seen in a test report can be told apart and traced without a rerun.
        where = traceback.extract_tb(error.__traceback__)[-1]
        text = f"{type(error).__name__}: {error} ({where.filename.rsplit('site-packages/', 1)[-1]}:{where.lineno})"
        page = f"<h1>Internal Server Error: {html.escape(text, quote=False)}</h1>"
        return AWSResponse(request.url, 500, {"Content-Type": "text/html; charset=utf-8"},
                           MockRawResponse(page.encode()))
    return AWSResponse(request.url, int(status.split(maxsplit=1)[0]), dict(response_headers.items()),
                       MockRawResponse(data))


def install() -> None:
    """Register the hook for every botocore session created from now on (once per process)."""
    from botocore.handlers import BUILTIN_HANDLERS

    if not any(handler is _answer for _event, handler, *_ in BUILTIN_HANDLERS):
        BUILTIN_HANDLERS.append(("before-send", _answer))


def register(session: Any) -> None:
    """The hook on a session created before install() (boto3's default session, the sandbox's own)."""
    core = getattr(session, "_session", session)  # a boto3 Session wraps a botocore one
    core.unregister("before-send", _answer)
    core.register("before-send", _answer)
