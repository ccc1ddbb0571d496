"""Infra tier: synthesize the CDK app (cdk-nag included) once per session and read the templates.

The `synths` and `synth` fixtures live in tests/conftest.py: the gates (tests/gates) read the same synthesis.
Expectations come from the catalog and the declarations (PLAYBOOKS, REGISTRY, Settings), never from
copies of the values: a catalog change moves the test and the templates together.
"""

