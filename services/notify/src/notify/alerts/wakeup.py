"""Wakes the sender at once when planning committed a new alert, instead of
waiting for its next poll. In-process only: another replica finds the alert on
its own poll (every sender_poll_seconds)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

Listener = Callable[[], None]

_listeners: list[Listener] = []
_PENDING = "notify_wake_pending"  # this transaction planned an alert
_HOOKED = "notify_wake_hooked"  # the session's listeners are registered


def add_listener(listener: Listener) -> None:
    """Call `listener` (e.g. an asyncio.Event's `set`) after each commit that planned an alert."""
    _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    """Stop calling `listener`."""
    if listener in _listeners:
        _listeners.remove(listener)


def _after_commit(session: Session) -> None:
    # Called for savepoints too, with the savepoint still current: the real
    # commit is still to come then.
    if session.get_nested_transaction() is not None:
        return
    if session.info.pop(_PENDING, False):
        for listener in list(_listeners):
            listener()


def _after_rollback(session: Session) -> None:
    if session.get_nested_transaction() is None:
        session.info.pop(_PENDING, None)  # nothing planned survived


def wake_after_commit(session: AsyncSession) -> None:
    """Wake the sender once the session's transaction commits (never on rollback:
    then there is nothing new to send)."""
    sync = session.sync_session
    sync.info[_PENDING] = True
    if not sync.info.get(_HOOKED):
        sync.info[_HOOKED] = True
        event.listen(sync, "after_commit", _after_commit)
        event.listen(sync, "after_rollback", _after_rollback)
