"""The global kill switch: an SSM parameter a person sets to 'on' to stop every automated action."""

from __future__ import annotations

from aws_cdk import aws_ssm as ssm
from constructs import Construct


class KillSwitch(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, parameter_name: str):
        super().__init__(scope, construct_id)
        # Deployed 'off'. CloudFormation only writes the value when the template changes it, so a deploy
        # does not silently switch automation back on after someone turned it on by hand.
        self.parameter = ssm.StringParameter(
            self, "Parameter",
            parameter_name=parameter_name,
            string_value="off",
            description="remedy kill switch: 'on' stops all automated remediation (read before every action)",
            tier=ssm.ParameterTier.STANDARD,
        )
