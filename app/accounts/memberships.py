"""Who belongs to which tenant, remembered by each web process and kept exact by the registry's notices.

Every dashboard request checks that its user is a member of its tenant. Asking the registry each time cost a
round trip a request (about a tenth of a dashboard page's CPU time). So a web process remembers the answers, the
"not a member" ones too, and forgets them when the registry says they changed: triggers on memberships, users and
tenants (migrations/registry/..._15_50_00_...) notify the ``wosool_access`` channel in the changing transaction,
and `RegistryChanges` hears it as the change commits, whichever process or console made it. So a removed member is
out as soon as the notice arrives (a millisecond or so; at once in the process that removed them, which forgets
them itself), not after some expiry.

Nothing is remembered while the process is not listening (its connection lost, or never started, as in one-off
commands): then every check asks the registry. A check that read the registry while a notice arrived does not
remember what it read (`_changes`). Entries are also dropped after `MAX_AGE_SECONDS`, in case a change slips past
the triggers (say an operator's ``session_replication_role = replica`` session).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import structlog

from app.accounts import repository
from app.accounts.repository import MemberRecord
from app.registry.changes import RegistryChanges

__all__ = [
    "CHANNEL",
    "MAX_AGE_SECONDS",
    "REMEMBERED_LIMIT",
    "forget_user",
    "is_listening",
    "membership",
    "start_listening",
    "stop_listening",
]

CHANNEL = "wosool_access"
MAX_AGE_SECONDS = 60.0
REMEMBERED_LIMIT = 10_000
"""Most (user, tenant) answers a process remembers; the oldest go first."""
log = structlog.get_logger("wosool.accounts")

_remembered: dict[tuple[uuid.UUID, uuid.UUID], tuple[float, MemberRecord | None]] = {}
"""(user, tenant) -> (until when, the membership or None), oldest first."""
_changes = 0
"""Counts notices and losses: a check stores what it read only if none came while it read."""
_listener: RegistryChanges | None = None
_listener_users = 0


async def membership(user_id: uuid.UUID, tenant_id: uuid.UUID) -> MemberRecord | None:
    """``user_id``'s membership of ``tenant_id``, or None when they are not a member."""
    key = (user_id, tenant_id)
    now = time.monotonic()
    remembered = _remembered.get(key)
    if remembered is not None and remembered[0] > now and is_listening():
        return remembered[1]
    seen = _changes
    member = await repository.membership(user_id, tenant_id)
    if seen == _changes and is_listening():
        _remember(key, now + MAX_AGE_SECONDS, member)
    return member


def forget_user(user_id: uuid.UUID) -> None:
    """Forget ``user_id``'s memberships here and now (the notice tells the other processes)."""
    _forget(lambda key: key[0] == user_id)


def is_listening() -> bool:
    return _listener is not None and _listener.listening


def start_listening(dsn: str) -> None:
    """Start hearing the registry's notices (web processes, at start-up), or join the listener already started
    (web and worker share a process under `wosool dev`); until it listens nothing is remembered."""
    global _listener, _listener_users
    _listener_users += 1
    if _listener is None:
        _listener = RegistryChanges(dsn, CHANNEL, on_change=_changed, on_lost=_forget_everything)
        _listener.start()


async def stop_listening() -> None:
    """Leave the listener; the last one out stops it."""
    global _listener, _listener_users
    _listener_users = max(0, _listener_users - 1)
    if _listener_users == 0 and _listener is not None:
        listener, _listener = _listener, None
        await listener.stop()
        _forget_everything()


def _remember(key: tuple[uuid.UUID, uuid.UUID], until: float, member: MemberRecord | None) -> None:
    _remembered.pop(key, None)
    if len(_remembered) >= REMEMBERED_LIMIT:
        del _remembered[next(iter(_remembered))]
    _remembered[key] = (until, member)


def _changed(payload: str) -> None:
    kind, _, raw_id = payload.partition(":")
    try:
        changed = uuid.UUID(raw_id)
    except ValueError:
        log.warning("unreadable access notice", payload=payload[:100])
        _forget_everything()
        return
    position = 0 if kind == "user" else 1
    _forget(lambda key: key[position] == changed)


def _forget(matches: Callable[[tuple[uuid.UUID, uuid.UUID]], bool]) -> None:
    global _changes
    _changes += 1
    for key in [key for key in _remembered if matches(key)]:
        del _remembered[key]


def _forget_everything() -> None:
    global _changes
    _changes += 1
    _remembered.clear()
