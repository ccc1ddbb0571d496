"""CDK app of the service (see infra.app_builder); templates for tests and the sandbox (infra.template)."""

import os

# Node 20 is past its jsii support date on the build machines: jsii prints a full-screen banner on every
# start (the *_DEPRECATED_* variable no longer applies to an end-of-life version). Override to see it.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
