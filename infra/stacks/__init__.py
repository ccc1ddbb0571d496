"""The service's stacks: MonitoringStack (alarms) and RemediationStack (playbook functions)."""
