"""On call in Slack: notifications a person can act on, and their answers (issue 13).

- `messages`: Block Kit messages from a notification card (functions.core.notify.card): what fired, what was
  found, what will be done, Approve / Reject buttons with a reason field; the same message redrawn with who
  answered and, later, the verified outcome. Pure: no Slack client, no boto3.
- `app`: the Bolt app (Slack's maintained Python framework): Slack's request signature checked by Bolt (the only
  gate: the endpoint is a public function URL), the click acknowledged within Slack's three seconds, the answer
  given by a lazy listener (Lambda invokes the function again asynchronously) that invokes the answer function
  (functions/answers) with the Slack identity Slack signed, and updates the message in place.
- `adapters`: Secrets Manager (signing secret, bot token), the messages table (incident -> channel and ts),
  the answer function (Lambda Invoke, RequestResponse), the audit trail.

The handler (functions/handlers/slack.py) serves two kinds of events: HTTP requests from Slack (function URL) and
SNS notifications of the on-call topic (posted or updated in the channel).
"""
