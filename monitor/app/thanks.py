"""Praise thanked: recorded on the mention, and its praise alert closed so nobody thanks it twice."""

from __future__ import annotations

from datetime import datetime

from alerts.outbox.triage import PRAISE_REASONS
from monitor.core.errors import InputError
from monitor.store import Store


def record_thanked(store: Store, source: str, external_id: str, who: str, now: datetime) -> bool:
    """Record that ``who`` thanked the mention; False when it was thanked already.

    Only praise of our brands (what `mentions thanks` lists) can be thanked: anything else is an InputError.
    """
    if store.mention(source, external_id) is None:
        raise InputError(f"no mention {source} {external_id} (see `listenpost mentions thanks`)")
    verdict = store.latest_verdict(source, external_id)
    if verdict is None or verdict[1] not in PRAISE_REASONS:
        why = f"{verdict[0]}, {verdict[1] or 'no reason'}" if verdict else "not classified"
        raise InputError(f"{source} {external_id} is not praise of our brands ({why}); only what "
                         "`listenpost mentions thanks` lists can be thanked")
    done = store.record_thanks(source, external_id, who, now)
    if done:  # its praise alert is answered too: not left open with a Thanked button for someone else
        praise = store.open_praise_alert(source, external_id)
        if praise is not None:
            store.update_case(praise, closed_at=now, closed_by=who, resolution="thanked")
    return done
