"""Settings: the team (members and their roles) and the tenant's API keys. HTTP only: the rules are in
app/accounts/services.py and app/accounts/api_keys.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Template

from app.accounts import api_keys
from app.accounts import services as accounts
from app.accounts.repository import MemberRecord
from app.accounts.services import Conflict, InvalidInput, NotAllowed
from app.crm.pages.dashboard import Dashboard
from app.crm.pages.settings_common import invalid_status, is_htmx, require_manager, toast_after_swap
from app.lib.i18n import gettext as _

__all__ = ["TEAM_ROUTES"]


@dataclass
class NewMemberForm:
    email: str = ""
    role: str = "member"


@dataclass
class RoleForm:
    role: str = ""


@dataclass
class NewKeyForm:
    name: str = ""


@get("/settings/members", name="members", cache=False)
async def members_page(dashboard: NamedDependency[Dashboard]) -> Template:
    """Every member sees the team; only owners and admins see the controls."""
    return await _members(dashboard)


@post("/settings/members", request_max_body_size=8 * 1024)
async def add_member(dashboard: NamedDependency[Dashboard], data: URLEncodedBody[NewMemberForm]) -> Template:
    require_manager(dashboard)
    try:
        added, temporary_password = await accounts.add_member(
            dashboard.tenant, dashboard.member, email=data.email, role=data.role
        )
    except InvalidInput as error:
        return await _members(dashboard, errors=error.errors, form=data, status_code=invalid_status(dashboard, 400))
    except Conflict as error:
        errors = {error.field: error.reason}
        return await _members(dashboard, errors=errors, form=data, status_code=invalid_status(dashboard, 409))
    except NotAllowed as error:
        return await _refused(dashboard, error, form=data)
    page = await _members(dashboard, added=added, temporary_password=temporary_password, status_code=201)
    return toast_after_swap(page, _("%(email)s was added.") % {"email": added.email})


@post("/settings/members/{membership_id:uuid}/role", request_max_body_size=4 * 1024)
async def change_member_role(
    dashboard: NamedDependency[Dashboard], membership_id: FromPath[uuid.UUID], data: URLEncodedBody[RoleForm]
) -> Template:
    require_manager(dashboard)
    try:
        changed = await accounts.change_role(dashboard.tenant, dashboard.member, membership_id, data.role)
    except accounts.MemberNotFound:
        raise NotFoundException("No such member.") from None
    except InvalidInput as error:
        return await _members(dashboard, errors=error.errors, status_code=invalid_status(dashboard, 400))
    except NotAllowed as error:
        return await _refused(dashboard, error)
    return toast_after_swap(await _members(dashboard), _("%(email)s's role changed.") % {"email": changed.email})


@post("/settings/members/{membership_id:uuid}/remove", request_max_body_size=4 * 1024)
async def remove_member(dashboard: NamedDependency[Dashboard], membership_id: FromPath[uuid.UUID]) -> Template:
    require_manager(dashboard)
    try:
        await accounts.remove_member(dashboard.tenant, dashboard.member, membership_id)
    except accounts.MemberNotFound:
        raise NotFoundException("No such member.") from None
    except NotAllowed as error:
        return await _refused(dashboard, error)
    return toast_after_swap(await _members(dashboard), _("The member was removed."))


async def _refused(dashboard: Dashboard, error: NotAllowed, form: NewMemberForm | None = None) -> Template:
    """A rule of roles said no (the last owner, only owners touch owners): htmx shows the reason on the page;
    anyone else gets it as a 403."""
    if not is_htmx(dashboard):
        raise error
    return await _members(dashboard, errors={"form": str(error)}, form=form, status_code=422)


async def _members(
    dashboard: Dashboard,
    *,
    errors: dict[str, str] | None = None,
    form: NewMemberForm | None = None,
    added: MemberRecord | None = None,
    temporary_password: str = "",
    status_code: int = 200,
) -> Template:
    return dashboard.page(
        "crm/settings/members.html",
        status_code=status_code,
        section="members",
        me=dashboard.member,
        can_manage=dashboard.can_manage,
        members=await accounts.members_of(dashboard.tenant),
        roles=accounts.ROLES,
        errors=errors or {},
        form=form or NewMemberForm(),
        added=added,
        temporary_password=temporary_password,
    )


@get("/settings/api-keys", name="api-keys", cache=False)
async def api_keys_page(dashboard: NamedDependency[Dashboard]) -> Template:
    require_manager(dashboard)
    return await _api_keys(dashboard)


@post("/settings/api-keys", request_max_body_size=4 * 1024)
async def create_api_key(dashboard: NamedDependency[Dashboard], data: URLEncodedBody[NewKeyForm]) -> Template:
    """The new key is in this one response and nowhere else: only its hash is stored."""
    require_manager(dashboard)
    try:
        record, key = await api_keys.create_api_key(
            dashboard.tenant.id, dashboard.tenant.slug, name=data.name, actor=_actor(dashboard)
        )
    except ValueError as error:
        return await _api_keys(dashboard, error=str(error), name=data.name, status_code=invalid_status(dashboard, 400))
    return await _api_keys(dashboard, new_key=key, new_name=record.name, status_code=201)


@post("/settings/api-keys/{key_id:uuid}/revoke", request_max_body_size=4 * 1024)
async def revoke_api_key(dashboard: NamedDependency[Dashboard], key_id: FromPath[uuid.UUID]) -> Template:
    require_manager(dashboard)
    try:
        await api_keys.revoke_api_key(dashboard.tenant.id, dashboard.tenant.slug, key_id, actor=_actor(dashboard))
    except LookupError:
        raise NotFoundException("No such API key.") from None
    return toast_after_swap(await _api_keys(dashboard), _("The key was revoked."))


def _actor(dashboard: Dashboard) -> str:
    return f"user:{dashboard.member.email}"


async def _api_keys(
    dashboard: Dashboard,
    *,
    new_key: str = "",
    new_name: str = "",
    error: str = "",
    name: str = "",
    status_code: int = 200,
) -> Template:
    return dashboard.page(
        "crm/settings/api_keys.html",
        status_code=status_code,
        section="api-keys",
        keys=await api_keys.list_api_keys(dashboard.tenant.id),
        new_key=new_key,
        new_name=new_name,
        error=error,
        name=name,
    )


TEAM_ROUTES: list[Any] = [
    members_page,
    add_member,
    change_member_role,
    remove_member,
    api_keys_page,
    create_api_key,
    revoke_api_key,
]
