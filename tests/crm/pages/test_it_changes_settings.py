"""Settings: the index and its sub-navigation, the person's profile and language, the team and API keys in the
dashboard frame, and who may see and change what (owners and admins change; members look; other tenants 404)."""

from __future__ import annotations

from httpx import AsyncClient

from app.accounts import repository
from tests.conftest import World
from tests.people import sign_in

SECTIONS = ["profile", "members", "objects", "pipeline", "api-keys"]


def _token(client: AsyncClient) -> dict[str, str]:
    return {"x-csrftoken": client.cookies["csrftoken"]}


async def test_an_owner_sees_every_section_in_the_dashboard_frame(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")

    page = await client.get("/t/acme/settings")

    assert page.status_code == 200
    assert 'class="app-shell"' in page.text  # the dashboard frame: sidebar and top bar
    nav = page.text.split('class="settings-nav"')[1].split("</nav>")[0]
    for section in SECTIONS:
        assert f'href="/t/acme/settings/{section}"' in nav
    for section in SECTIONS:
        assert (await client.get(f"/t/acme/settings/{section}")).status_code == 200, section


async def test_a_member_sees_only_the_profile_and_the_team(client: AsyncClient, world: World) -> None:
    await sign_in(client, "bob@example.com")

    page = await client.get("/t/acme/settings")
    team = await client.get("/t/acme/settings/members")

    nav = page.text.split('class="settings-nav"')[1].split("</nav>")[0]
    assert 'href="/t/acme/settings/profile"' in nav
    assert 'href="/t/acme/settings/members"' in nav
    assert "/settings/objects" not in page.text
    assert "/settings/pipeline" not in page.text
    assert "/settings/api-keys" not in page.text
    assert team.status_code == 200
    assert "alice@example.com" in team.text
    assert "<select" not in team.text.split('id="main"')[1]  # no role controls
    for section in ("objects", "objects/people", "pipeline", "api-keys"):
        assert (await client.get(f"/t/acme/settings/{section}")).status_code == 403, section


async def test_a_member_cannot_post_any_change(client: AsyncClient, world: World) -> None:
    await sign_in(client, "bob@example.com")
    token = _token(client)

    posts = {
        "/t/acme/settings/objects": {"label_singular_en": "Ticket", "label_singular_ar": "تذكرة"},
        "/t/acme/settings/objects/people/fields": {"label_en": "Tier", "label_ar": "الفئة", "type": "text"},
        "/t/acme/settings/objects/people/fields/city/edit": {"label_en": "Town", "label_ar": "البلدة"},
        "/t/acme/settings/objects/people/labels": {"label_plural_en": "Clients"},
        "/t/acme/settings/pipeline/opportunities/stage/options": {"label_en": "Won", "label_ar": "ربح"},
        "/t/acme/settings/pipeline/opportunities/stage/options/new/move": {"direction": "down"},
        "/t/acme/settings/pipeline/opportunities/stage/options/lost/remove": {},
        "/t/acme/settings/api-keys": {"name": "Zapier"},
    }
    statuses = {path: (await client.post(path, data=data, headers=token)).status_code for path, data in posts.items()}

    assert statuses == dict.fromkeys(posts, 403)
    await sign_in(client, "alice@example.com")
    fields = await client.get("/t/acme/settings/objects/people")
    assert "Tier" not in fields.text
    assert ">Town<" not in fields.text
    stages = await client.get("/t/acme/settings/pipeline")
    assert "Won" not in stages.text


ACME_SETTINGS = [
    "/t/acme/settings",
    "/t/acme/settings/profile",
    "/t/acme/settings/members",
    "/t/acme/settings/objects",
    "/t/acme/settings/objects/people",
    "/t/acme/settings/pipeline",
    "/t/acme/settings/pipeline?object=tasks&field=status",
    "/t/acme/settings/api-keys",
]


async def test_charlie_finds_no_settings_of_acme(client: AsyncClient, world: World) -> None:
    await sign_in(client, "charlie@example.com")

    statuses = {path: (await client.get(path)).status_code for path in ACME_SETTINGS}

    assert statuses == dict.fromkeys(ACME_SETTINGS, 404)
    assert (await client.get("/t/noor/settings/objects/people")).status_code == 200  # his own, he sees


async def test_charlie_cannot_change_acme_settings(client: AsyncClient, world: World) -> None:
    await sign_in(client, "charlie@example.com")
    token = _token(client)

    field = await client.post(
        "/t/acme/settings/objects/people/fields",
        data={"label_en": "Tier", "label_ar": "الفئة", "type": "text"},
        headers=token,
    )
    stage = await client.post(
        "/t/acme/settings/pipeline/opportunities/stage/options",
        data={"label_en": "Won", "label_ar": "ربح"},
        headers=token,
    )
    profile = await client.post("/t/acme/settings/profile", data={"name": "X", "language": "ar"}, headers=token)

    assert (field.status_code, stage.status_code, profile.status_code) == (404, 404, 404)


async def test_someone_changes_their_name_and_language(client: AsyncClient, world: World) -> None:
    await sign_in(client, "bob@example.com")  # any member changes their own profile

    saved = await client.post(
        "/t/acme/settings/profile", data={"name": "  Bob   <b>Builder</b> ", "language": "ar"}, headers=_token(client)
    )
    page = await client.get("/t/acme/settings/profile?saved=1")

    assert saved.status_code == 303
    assert saved.headers["location"] == "/t/acme/settings/profile?saved=1"
    assert client.cookies["wosool_lang"] == "ar"  # the new language applies at once
    user = await repository.user_by_email("bob@example.com")
    assert user is not None
    assert (user.name, user.locale) == ("Bob <b>Builder</b>", "ar")
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "حُفظ ملفك الشخصي." in page.text
    assert 'value="Bob &lt;b&gt;Builder&lt;/b&gt;"' in page.text  # escaped, never markup
    assert "<b>Builder</b>" not in page.text


async def test_a_bad_profile_is_refused_with_its_reason_and_nothing_changes(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")
    before = await repository.user_by_email("alice@example.com")

    refused = await client.post(
        "/t/acme/settings/profile", data={"name": "Alice", "language": "fr"}, headers=_token(client)
    )
    too_long = await client.post(
        "/t/acme/settings/profile", data={"name": "A" * 201, "language": "en"}, headers=_token(client)
    )

    assert refused.status_code == 422
    assert "must be &#39;ar&#39; or &#39;en&#39;" in refused.text or "must be 'ar' or 'en'" in refused.text
    assert 'value="Alice"' in refused.text  # what was typed stays
    assert too_long.status_code == 422
    assert "at most 200" in too_long.text
    assert await repository.user_by_email("alice@example.com") == before


async def test_forms_without_the_csrf_token_are_refused(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")

    response = await client.post("/t/acme/settings/profile", data={"name": "Mallory", "language": "ar"})

    assert response.status_code == 403
    user = await repository.user_by_email("alice@example.com")
    assert user is not None
    assert user.name != "Mallory"


async def test_the_team_and_the_keys_speak_arabic_in_the_frame(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")
    await client.get("/language/ar?next=/")

    team = await client.get("/t/acme/settings/members")
    keys = await client.get("/t/acme/settings/api-keys")

    assert '<html lang="ar" dir="rtl">' in team.text
    assert "<h1>الأعضاء</h1>" in team.text
    assert "إضافة عضو" in team.text
    assert ">مالك<" in team.text  # roles are named in Arabic
    assert 'aria-current="page">الفريق</a>' in team.text  # the sub-navigation marks where we are
    assert "<h1>مفاتيح الواجهة البرمجية</h1>" in keys.text
    assert 'class="app-shell"' in keys.text


async def test_an_htmx_form_with_a_mistake_swaps_in_with_422(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")
    headers = {**_token(client), "hx-request": "true"}

    again = await client.post("/t/acme/settings/members", data={"email": "bob@example.com"}, headers=headers)
    added = await client.post("/t/acme/settings/members", data={"email": "dana@example.com"}, headers=headers)

    assert again.status_code == 422
    assert "already a member" in again.text
    assert 'value="bob@example.com"' in again.text
    assert added.status_code == 201
    assert "wosool:toast" in added.headers["hx-trigger-after-settle"]
    assert {m.email for m in await repository.memberships_of_tenant(world.acme.id)} == {
        "alice@example.com",
        "bob@example.com",
        "dana@example.com",
    }


async def test_the_last_owner_is_kept_and_htmx_hears_why(client: AsyncClient, world: World) -> None:
    alice = next(m for m in await repository.memberships_of_tenant(world.acme.id) if m.role == "owner")
    await sign_in(client, "alice@example.com")

    response = await client.post(
        f"/t/acme/settings/members/{alice.id}/role",
        data={"role": "member"},
        headers={**_token(client), "hx-request": "true"},
    )

    assert response.status_code == 422
    assert "last owner" in response.text
    assert (await repository.membership_by_id(alice.id, world.acme.id)) == alice
