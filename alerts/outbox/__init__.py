"""The outbox: routing decisions, queued alerts, incidents and notices, delivery, escalation and replies."""
