"""The public Powertools layer comes from a different publisher account outside the commercial partition
(finding 10 of the fidelity issue): one constant would point a China or GovCloud stack at a layer that does not
exist there."""

from __future__ import annotations

import pytest

from infra.powertools import powertools_publisher


@pytest.mark.parametrize(("region", "account"), [
    ("eu-west-1", "017000801446"), ("us-east-1", "017000801446"),
    ("cn-north-1", "498634801083"), ("us-gov-east-1", "165087284144"), ("us-gov-west-1", "165093116878"),
])
def test_each_partition_has_its_publisher(region: str, account: str) -> None:
    assert powertools_publisher(region) == account


def test_a_region_without_a_public_layer_is_refused_with_what_to_do() -> None:
    with pytest.raises(ValueError, match="no public Powertools layer is published in cn-northwest-1"):
        powertools_publisher("cn-northwest-1")
