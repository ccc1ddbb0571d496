"""Moved to sandbox/gaps/awslambda.py (gap fills are now one module per AWS service, sandbox/gaps/)."""

from sandbox.gaps.awslambda import install  # noqa: F401  (old import path, kept while callers move)
