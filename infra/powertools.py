"""What every function of the service shares about Powertools for AWS Lambda: the public layer it runs
with. The service name it logs and publishes metrics under (the `service` dimension of EMF metrics) is
functions.core.observability.SERVICE, the one the functions themselves use."""

from __future__ import annotations

from functions.core.catalog import Catalog
from infra import names
from infra.constructs.playbook_function import RUNTIME

# Who publishes the public Powertools for AWS Lambda (Python) layers: one account for every commercial region,
# one per region elsewhere (Powertools docs, "Lambda Layer": AWS China and AWS GovCloud regions tables). A region
# of another partition that is not listed has no public layer.
POWERTOOLS_ACCOUNT = "017000801446"
POWERTOOLS_ACCOUNTS_OUTSIDE_COMMERCIAL = {
    "cn-north-1": "498634801083",
    "us-gov-east-1": "165087284144",
    "us-gov-west-1": "165093116878",
}
def powertools_publisher(region: str) -> str:
    """The account whose public Powertools layer a function in `region` uses."""
    if names.partition_for(region) == "aws":
        return POWERTOOLS_ACCOUNT
    try:
        return POWERTOOLS_ACCOUNTS_OUTSIDE_COMMERCIAL[region]
    except KeyError:
        raise ValueError(f"no public Powertools layer is published in {region} (published outside the aws partition "
                         f"in {', '.join(sorted(POWERTOOLS_ACCOUNTS_OUTSIDE_COMMERCIAL))}): deploy the layer into "
                         f"the account yourself, e.g. from its Serverless Application Repository app") from None


def powertools_layer_arn(catalog: Catalog, version: int) -> str:
    runtime = RUNTIME.name.replace(".", "")  # python3.14 -> python314
    return (f"arn:{names.partition_for(catalog.region)}:lambda:{catalog.region}:{powertools_publisher(catalog.region)}"
            f":layer:AWSLambdaPowertoolsPythonV3-{runtime}-x86_64:{version}")
