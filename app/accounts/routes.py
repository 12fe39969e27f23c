"""Sign-up, sign-in and the account page (HTTP only: the rules are in services). A tenant's members and API keys
are dashboard pages: app/crm/pages/settings_team.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_202_ACCEPTED

from app.accounts import repository, services
from app.accounts.access import SESSION_EMAIL, sign_in_session, signed_in_user_id
from app.accounts.services import Conflict, InvalidInput, Registration
from app.lib.i18n import gettext, use_language
from app.lib.locale import locale_for, set_language_cookie
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
            Registration(
                name=data.name,
                slug=data.slug.strip().lower(),
                email=data.email,
                password=data.password,
                locale=locale_for(request).code,  # a new person starts in the browser's language
            ),
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
    response = Redirect(path=registered.body["url"])
    if user is not None:
        sign_in_session(request, user)
        # Someone adding an organization to an existing account keeps the language they chose before.
        set_language_cookie(response, await services.language_at_sign_in(user, locale_for(request).code))
    return response


def _signup_again(form: SignUpForm, errors: dict[str, str], status_code: int) -> Template:
    form.password = ""  # never echo a password back into a page
    return Template("accounts/signup.html", context={"form": form, "errors": errors}, status_code=status_code)


@dataclass
class LoginForm:
    email: str = ""
    password: str = ""
    next: str = ""


@get("/login", name="login", include_in_schema=False, cache=False)
async def login_page(request: Request[Any, Any, Any], next: FromQuery[str] = "") -> Template:
    return Template(
        "accounts/login.html",
        context={"form": LoginForm(next=_safe_next(next)), "error": "", "salla_sign_in": _salla_sign_in(request)},
    )


def _salla_sign_in(request: Request[Any, Any, Any]) -> bool:
    """Store owners log in through Salla when the Salla app's credentials are configured."""
    salla = request.app.state.settings.salla
    return bool(salla.client_id and salla.client_secret)


@post("/login", include_in_schema=False, request_max_body_size=8 * 1024)
async def login(request: Request[Any, Any, Any], data: URLEncodedBody[LoginForm]) -> Template | Redirect:
    try:
        user = await services.sign_in(
            data.email, data.password, redis=request.app.state.redis, client_ip=_client_ip(request)
        )
    except services.InvalidCredentials:
        with use_language(locale_for(request).code):
            message = gettext("That e-mail address and password do not match an account.")
        return _login_again(data, message, 401)
    except RateLimited as error:
        with use_language(locale_for(request).code):
            message = gettext("Too many attempts. Try again in %(seconds)s seconds.") % {"seconds": error.retry_after}
        again = _login_again(data, message, 429)
        again.headers["Retry-After"] = str(error.retry_after)
        return again
    sign_in_session(request, user)
    redirect = Redirect(path=_safe_next(data.next) or "/account")
    # From now on every page speaks the person's own language, whatever this browser said before.
    return set_language_cookie(redirect, await services.language_at_sign_in(user, locale_for(request).code))


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
    return await _account_template(request, user_id)


async def _account_template(
    request: Request[Any, Any, Any], user_id: Any, *, errors: dict[str, str] | None = None, saved: bool = False
) -> Template:
    memberships = await repository.memberships_of_user(user_id)
    user = await repository.user_by_id(user_id)
    return Template(
        "accounts/account.html",
        context={
            "memberships": memberships,
            "email": request.session.get(SESSION_EMAIL, ""),
            "has_password": bool(user and user.password_hash),
            "password_errors": errors or {},
            "password_saved": saved,
        },
        status_code=422 if errors else 200,
    )


@dataclass
class PasswordForm:
    new_password: str = ""
    current_password: str = ""


@post("/account/password", include_in_schema=False, request_max_body_size=8 * 1024)
async def change_password(request: Request[Any, Any, Any], data: URLEncodedBody[PasswordForm]) -> Template | Redirect:
    """Set a first password (an account made by a Salla install has none) or change it."""
    user_id = signed_in_user_id(request)
    if user_id is None:
        return Redirect(path="/login?next=/account")
    try:
        await services.set_password(user_id, new_password=data.new_password, current_password=data.current_password)
    except InvalidInput as problem:
        with use_language(locale_for(request).code):
            errors = {field: _password_problem(field) for field in problem.errors}
        return await _account_template(request, user_id, errors=errors)
    return await _account_template(request, user_id, saved=True)


def _password_problem(field: str) -> str:
    if field == "current_password":
        return gettext("That is not your current password.")
    return gettext("Choose a password of at least 10 characters that is not easy to guess.")


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
    change_password,
]
