"""SNS: the on-call topic (NotifierPort)."""

from __future__ import annotations

from typing import Any

from functions.core.adapters.clients import Clients


class SnsNotifier:
    def __init__(self, clients: Clients, topic_arn: str):
        self._clients = clients
        self._topic_arn = topic_arn

    def publish(self, subject: str, message: str, card: dict[str, Any] | None = None) -> None:
        # One publish, a message per protocol (MessageStructure json): people read the text, the Slack function
        # gets the card, Amazon Q Developer in chat applications its custom notification (functions.core.notify).
        from functions.core.notify import sns_message

        self._clients("sns").publish(TopicArn=self._topic_arn, Subject=subject, MessageStructure="json",
                                     Message=sns_message(subject, message, card))
