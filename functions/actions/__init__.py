"""Every registered action, by resource. Importing this package fills functions.core.actions.REGISTRY;
a playbook imports only the modules it uses (cold start), CDK and the tests import them all."""

from functions.actions import (
    glue,  # noqa: F401 - registers the Glue actions
    redshift,  # noqa: F401 - registers the Redshift actions
)
