"""What a click on an alert's button does to its case: the action applied to the database, then
the messages already posted for the case re-rendered to show it (claimed, replied, closed, snoozed).

The channel that received the click (alerts.channels.slack.interactions) only checks and reads
the request; monitor.app.serve hands what it read to `CaseActions`.
"""

from __future__ import annotations

import logging
import threading

from alerts.channels import build_channels
from alerts.outbox.dispatch import refresh_case
from alerts.outbox.escalation import Outcome, apply_action
from monitor.core.config import Settings
from monitor.store import Store

log = logging.getLogger(__name__)


class CaseActions:
    """Applies button clicks to the database and refreshes the messages they came from."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.channels = build_channels(settings)
        self._local = threading.local()

    @property
    def store(self) -> Store:
        if getattr(self._local, "store", None) is None:
            self._local.store = Store(self.settings.database)  # one connection per thread
        store: Store = self._local.store
        return store

    def apply(self, alert_id: int, action: str, who: str) -> Outcome:
        outcome = apply_action(self.store, alert_id, action, who, tz=self.settings.tz)
        log.info("%s", outcome.summary)
        refresh_case(self.store, self.settings, outcome.alert_ids or [alert_id], self.channels)
        return outcome
