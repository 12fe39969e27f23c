"""Who belongs to which tenant, remembered by each web process and kept exact by the registry's notices.

Every dashboard request checks that its user is a member of its tenant. Asking the registry each time cost a
round trip a request (about a tenth of a dashboard page's CPU time). So a web process remembers the answers, the
"not a member" ones too, and forgets them when the registry says they changed: triggers on memberships, users and
tenants (migrations/registry/) notify the ``wosool_access`` channel in the changing transaction, and the process's
`access_notices` (app/registry/changes.py) hear it as the change commits, whichever process or console made it. So
a removed member is out as soon as the notice arrives (a millisecond or so; at once in the process that removed
them, which forgets them itself), not after some expiry.

Nothing is remembered while the process is not listening (its connection lost, or never started, as in one-off
commands): then every check asks the registry. A check that read the registry while a notice arrived does not
remember what it read. Entries are also dropped after `MAX_AGE_SECONDS`, in case a change slips past
the triggers (say an operator's ``session_replication_role = replica`` session).
"""

from __future__ import annotations

import time
import uuid

from app.accounts import repository
from app.accounts.repository import MemberRecord
from app.lib.remembered import MISSING, Expiring
from app.registry.changes import access_notices

__all__ = [
    "MAX_AGE_SECONDS",
    "REMEMBERED_LIMIT",
    "forget_user",
    "is_listening",
    "membership",
]

MAX_AGE_SECONDS = 60.0
REMEMBERED_LIMIT = 10_000
"""Most (user, tenant) answers a process remembers; the oldest go first."""

_remembered: Expiring[tuple[uuid.UUID, uuid.UUID], MemberRecord | None] = Expiring(REMEMBERED_LIMIT)
"""(user, tenant) -> the membership, or None for "not a member"."""


async def membership(user_id: uuid.UUID, tenant_id: uuid.UUID) -> MemberRecord | None:
    """``user_id``'s membership of ``tenant_id``, or None when they are not a member."""
    key = (user_id, tenant_id)
    now = time.monotonic()
    remembered = _remembered.get(key, now)
    if remembered is not MISSING and is_listening():
        return remembered
    seen = _remembered.changes
    member = await repository.membership(user_id, tenant_id)
    if seen == _remembered.changes and is_listening():
        _remembered.put(key, member, now + MAX_AGE_SECONDS)
    return member


def forget_user(user_id: uuid.UUID) -> None:
    """Forget ``user_id``'s memberships here and now (the notice tells the other processes)."""
    _remembered.forget_where(lambda key, _member: key[0] == user_id)


def is_listening() -> bool:
    """Whether this process hears the registry's notices (until it does, nothing is remembered)."""
    return access_notices.hearing


def _forget_tenant(tenant_id: uuid.UUID) -> None:
    _remembered.forget_where(lambda key, _member: key[1] == tenant_id)


access_notices.on_change("user", forget_user)
access_notices.on_change("tenant", _forget_tenant)
access_notices.on_lost(_remembered.clear)
