"""Sign-up, sign-in, the account page, and a tenant's members (HTTP only: the rules are in services)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_202_ACCEPTED

from app.accounts import api_keys, repository, services
from app.accounts.access import (
    SESSION_EMAIL,
    TenantAccess,
    sign_in_session,
    signed_in_user_id,
    tenant_access,
)
from app.accounts.services import Conflict, InvalidInput, Registration
from app.lib.ratelimit import RateLimited

__all__ = ["ACCOUNT_ROUTES"]


class RegisterOrganization(msgspec.Struct, forbid_unknown_fields=True):
    """A new organization (tenant) and its first owner."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="The organization's name")]
    slug: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=40, description="Lowercase letters, digits and hyphens; 3-40 long"),
    ]
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    locale: Annotated[str, msgspec.Meta(max_length=2)] = ""


@post(
    "/api/auth/register-organization",
    tags=["auth"],
    summary="Create an organization (tenant) and its owner; provisioning continues in the background",
    status_code=HTTP_202_ACCEPTED,
    request_max_body_size=16 * 1024,
)
async def register_organization_api(
    request: Request[Any, Any, Any], data: JSONBody[RegisterOrganization]
) -> Response[Any]:
    """Answers 202 with `slug`, `status` and `status_url`. With an `Idempotency-Key` header a retried request
    gets the first answer again instead of a 409."""
    state = request.app.state
    key = request.headers.get("idempotency-key", "")[:200]
    try:
        registered = await services.register_organization(
            Registration(**msgspec.structs.asdict(data)),
            settings=state.settings,
            queue=state.queue,
            redis=state.redis,
            idempotency_key=key,
            client_ip=_client_ip(request),
        )
    except InvalidInput as error:
        return Response({"status_code": 400, "detail": "Invalid organization", "errors": error.errors}, status_code=400)
    except Conflict as error:
        return Response({"status_code": 409, "detail": error.reason, "field": error.field}, status_code=409)
    return Response(registered.body, status_code=registered.status_code)


@dataclass
class SignUpForm:
    name: str = ""
    slug: str = ""
    email: str = ""
    password: str = ""


@get("/signup", name="signup", include_in_schema=False, cache=False)
async def signup_page() -> Template:
    return Template("accounts/signup.html", context={"form": SignUpForm(), "errors": {}})


@post("/signup", include_in_schema=False, request_max_body_size=16 * 1024)
async def signup(request: Request[Any, Any, Any], data: URLEncodedBody[SignUpForm]) -> Template | Redirect:
    state = request.app.state
    try:
        registered = await services.register_organization(
            Registration(name=data.name, slug=data.slug.strip().lower(), email=data.email, password=data.password),
            settings=state.settings,
            queue=state.queue,
            redis=state.redis,
            client_ip=_client_ip(request),
        )
    except InvalidInput as error:
        return _signup_again(data, error.errors, 400)
    except Conflict as error:
        return _signup_again(data, {error.field: error.reason}, 409)
    except RateLimited as error:
        return _signup_again(data, {"form": str(error)}, 429)
    user = await repository.user_by_id(registered.user_id) if registered.user_id else None
    if user is not None:
        sign_in_session(request, user)
    return Redirect(path=registered.body["url"])


def _signup_again(form: SignUpForm, errors: dict[str, str], status_code: int) -> Template:
    form.password = ""  # never echo a password back into a page
    return Template("accounts/signup.html", context={"form": form, "errors": errors}, status_code=status_code)


@dataclass
class LoginForm:
    email: str = ""
    password: str = ""
    next: str = ""


@get("/login", name="login", include_in_schema=False, cache=False)
async def login_page(next: FromQuery[str] = "") -> Template:
    return Template("accounts/login.html", context={"form": LoginForm(next=_safe_next(next)), "error": ""})


@post("/login", include_in_schema=False, request_max_body_size=8 * 1024)
async def login(request: Request[Any, Any, Any], data: URLEncodedBody[LoginForm]) -> Template | Redirect:
    try:
        user = await services.sign_in(
            data.email, data.password, redis=request.app.state.redis, client_ip=_client_ip(request)
        )
    except services.InvalidCredentials:
        return _login_again(data, "That e-mail address and password do not match an account.", 401)
    except RateLimited as error:
        response = _login_again(data, f"Too many attempts. Try again in {error.retry_after} seconds.", 429)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    sign_in_session(request, user)
    return Redirect(path=_safe_next(data.next) or "/account")


def _login_again(form: LoginForm, error: str, status_code: int) -> Template:
    return Template(
        "accounts/login.html",
        context={"form": LoginForm(email=form.email, next=_safe_next(form.next)), "error": error},
        status_code=status_code,
    )


@post("/logout", include_in_schema=False)
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    request.clear_session()
    return Redirect(path="/")


@get("/account", name="account", include_in_schema=False, cache=False)
async def account_page(request: Request[Any, Any, Any]) -> Template | Redirect:
    """The organizations the signed-in person belongs to: where they switch between tenants."""
    user_id = signed_in_user_id(request)
    if user_id is None:
        return Redirect(path="/login?next=/account")
    memberships = await repository.memberships_of_user(user_id)
    return Template(
        "accounts/account.html",
        context={"memberships": memberships, "email": request.session.get(SESSION_EMAIL, "")},
    )


@get(
    "/t/{slug:str}/settings/members",
    name="members",
    include_in_schema=False,
    cache=False,
    dependencies={"access": Provide(tenant_access)},
)
async def members_page(access: NamedDependency[TenantAccess]) -> Template:
    return await _members(access)


@dataclass
class NewMemberForm:
    email: str = ""
    role: str = "member"


@post(
    "/t/{slug:str}/settings/members",
    include_in_schema=False,
    dependencies={"access": Provide(tenant_access)},
    request_max_body_size=8 * 1024,
)
async def add_member(access: NamedDependency[TenantAccess], data: URLEncodedBody[NewMemberForm]) -> Template:
    try:
        added, temporary_password = await services.add_member(
            access.tenant, access.member, email=data.email, role=data.role
        )
    except InvalidInput as error:
        return await _members(access, errors=error.errors, form=data, status_code=400)
    except Conflict as error:
        return await _members(access, errors={error.field: error.reason}, form=data, status_code=409)
    return await _members(access, added=added, temporary_password=temporary_password, status_code=201)


@dataclass
class RoleForm:
    role: str = ""


@post(
    "/t/{slug:str}/settings/members/{membership_id:uuid}/role",
    include_in_schema=False,
    dependencies={"access": Provide(tenant_access)},
)
async def change_member_role(
    access: NamedDependency[TenantAccess], membership_id: FromPath[uuid.UUID], data: URLEncodedBody[RoleForm]
) -> Template:
    try:
        await services.change_role(access.tenant, access.member, membership_id, data.role)
    except services.MemberNotFound:
        raise NotFoundException("No such member.") from None
    except InvalidInput as error:
        return await _members(access, errors=error.errors, status_code=400)
    return await _members(access)


@post(
    "/t/{slug:str}/settings/members/{membership_id:uuid}/remove",
    include_in_schema=False,
    dependencies={"access": Provide(tenant_access)},
)
async def remove_member(access: NamedDependency[TenantAccess], membership_id: FromPath[uuid.UUID]) -> Template:
    try:
        await services.remove_member(access.tenant, access.member, membership_id)
    except services.MemberNotFound:
        raise NotFoundException("No such member.") from None
    return await _members(access)


def _require_key_manager(access: TenantAccess) -> None:
    if not access.can_manage_members:
        raise services.NotAllowed("only owners and admins manage API keys")


@get(
    "/t/{slug:str}/settings/api-keys",
    name="api-keys",
    include_in_schema=False,
    cache=False,
    dependencies={"access": Provide(tenant_access)},
)
async def api_keys_page(access: NamedDependency[TenantAccess]) -> Template:
    _require_key_manager(access)
    return await _api_keys(access)


@dataclass
class NewKeyForm:
    name: str = ""


@post(
    "/t/{slug:str}/settings/api-keys",
    include_in_schema=False,
    dependencies={"access": Provide(tenant_access)},
    request_max_body_size=4 * 1024,
)
async def create_api_key(access: NamedDependency[TenantAccess], data: URLEncodedBody[NewKeyForm]) -> Template:
    """The new key is in this one response and nowhere else: only its hash is stored."""
    _require_key_manager(access)
    try:
        record, key = await api_keys.create_api_key(
            access.tenant.id, access.tenant.slug, name=data.name, actor=f"user:{access.member.email}"
        )
    except ValueError as error:
        return await _api_keys(access, error=str(error), status_code=400)
    return await _api_keys(access, new_key=key, new_name=record.name, status_code=201)


@post(
    "/t/{slug:str}/settings/api-keys/{key_id:uuid}/revoke",
    include_in_schema=False,
    dependencies={"access": Provide(tenant_access)},
)
async def revoke_api_key(access: NamedDependency[TenantAccess], key_id: FromPath[uuid.UUID]) -> Template:
    _require_key_manager(access)
    try:
        await api_keys.revoke_api_key(access.tenant.id, access.tenant.slug, key_id, actor=f"user:{access.member.email}")
    except LookupError:
        raise NotFoundException("No such API key.") from None
    return await _api_keys(access)


async def _api_keys(
    access: TenantAccess, *, new_key: str = "", new_name: str = "", error: str = "", status_code: int = 200
) -> Template:
    return Template(
        "accounts/api_keys.html",
        context={
            "tenant": access.tenant,
            "keys": await api_keys.list_api_keys(access.tenant.id),
            "new_key": new_key,
            "new_name": new_name,
            "error": error,
        },
        status_code=status_code,
    )


async def _members(
    access: NamedDependency[TenantAccess],
    *,
    errors: dict[str, str] | None = None,
    form: NewMemberForm | None = None,
    added: repository.MemberRecord | None = None,
    temporary_password: str = "",
    status_code: int = 200,
) -> Template:
    return Template(
        "accounts/members.html",
        context={
            "tenant": access.tenant,
            "me": access.member,
            "can_manage": access.can_manage_members,
            "members": await repository.memberships_of_tenant(access.tenant.id),
            "roles": services.ROLES,
            "errors": errors or {},
            "form": form or NewMemberForm(),
            "added": added,
            "temporary_password": temporary_password,
        },
        status_code=status_code,
    )


def _client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(target: str) -> str:
    """Only paths on this site: never a redirect to somewhere else."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


ACCOUNT_ROUTES = [
    register_organization_api,
    signup_page,
    signup,
    login_page,
    login,
    logout,
    account_page,
    members_page,
    add_member,
    change_member_role,
    remove_member,
    api_keys_page,
    create_api_key,
    revoke_api_key,
]
