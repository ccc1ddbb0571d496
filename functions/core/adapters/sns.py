"""SNS: the on-call topic (NotifierPort)."""

from __future__ import annotations

from functions.core.adapters.clients import Clients


class SnsNotifier:
    def __init__(self, clients: Clients, topic_arn: str):
        self._clients = clients
        self._topic_arn = topic_arn

    def publish(self, subject: str, message: str) -> None:
        self._clients("sns").publish(TopicArn=self._topic_arn, Subject=subject, Message=message)
