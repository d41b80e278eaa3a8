"""Log in and out, CSRF on every form, login required for uploads; sessions ended by a
logout, a new password or role; next= never off the site; safety headers everywhere."""

import pytest

from tests.webserver import add_account, csrf_token, log_in


def test_login_and_logout(app, client):
    add_account(app, "amina", "editor")
    response = log_in(client, "amina")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Log out amina" in home and "/upload" in home
    token = csrf_token(home)
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302
    assert "Log in" in client.get("/").get_data(as_text=True)
    assert client.get("/upload").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part(app, client):
    add_account(app, "amina", "editor")
    for name, password in (("amina", "wrong horse"), ("nobody", "correct horse")):
        response = log_in(client, name, password)
        assert response.status_code == 401
        assert "Wrong name or password" in response.get_data(as_text=True)
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_a_form_without_the_csrf_token_is_refused(app, client):
    add_account(app, "amina", "editor")
    client.get("/login")
    response = client.post("/login", data={"name": "amina", "password": "correct horse"})
    assert response.status_code == 400
    assert "reload the page" in response.get_data(as_text=True)
    wrong = client.post(
        "/login", data={"name": "amina", "password": "correct horse", "csrf_token": "forged"}
    )
    assert wrong.status_code == 400
    log_in(client, "amina")
    assert client.post("/logout").status_code == 400  # logging out is a form too
    json_error = client.post("/logout", headers={"Accept": "application/json"})
    assert json_error.status_code == 400 and json_error.json["error"]["status"] == 400


def test_the_csrf_token_changes_at_login(app, client):
    add_account(app, "amina", "uploader")
    before = csrf_token(client.get("/login").get_data(as_text=True))
    log_in(client, "amina")
    after = csrf_token(client.get("/upload").get_data(as_text=True))
    assert before != after


def test_upload_without_login_goes_to_the_login_page(client):
    response = client.get("/upload")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/upload"
    token = csrf_token(client.get("/login").get_data(as_text=True))
    posted = client.post("/upload", data={"csrf_token": token})
    assert posted.status_code == 302 and posted.headers["Location"].startswith("/login")


def test_login_returns_to_the_page_asked_for_but_never_off_site(app, client):
    add_account(app, "amina", "uploader")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    form = {"name": "amina", "password": "correct horse", "csrf_token": token}
    response = client.post("/login", data={**form, "next": "/upload"})
    assert response.headers["Location"] == "/upload"
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    token = csrf_token(client.get("/login").get_data(as_text=True))
    evil = client.post("/login", data={**form, "csrf_token": token, "next": "//evil.example/"})
    assert evil.headers["Location"] == "/"


def test_an_uploader_cannot_edit(app, client):
    from tests.conftest import clip
    from tests.webserver import add_episode

    ep = add_episode(app, clip("LJ001-0002.wav"), title="Short")
    add_account(app, "joseph", "uploader")
    log_in(client, "joseph")
    assert client.get(f"/episodes/{ep['guid']}/edit").status_code == 403


def test_too_many_wrong_passwords_make_that_device_wait(app, client):
    add_account(app, "amina", "editor")
    for _ in range(5):
        assert log_in(client, "amina", "wrong horse").status_code == 401
    blocked = log_in(client, "amina")  # even the right password waits now
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 60
    assert "Too many wrong passwords" in blocked.get_data(as_text=True)
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"  # the same person on another device
    assert log_in(other, "amina").status_code == 302


def test_logging_out_ends_the_session(auth, client):
    auth.login("amina", "uploader")
    assert client.get("/upload").status_code == 200
    auth.logout()
    assert client.get("/upload").status_code in (302, 401)


# Sessions that can be ended (#13): a cookie saved before a logout, a new password or a new
# role logs nobody in afterwards.


def saved_cookie(client) -> str:  # noqa: ANN001
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def replayed(app, cookie: str):  # noqa: ANN001, ANN201
    """A fresh browser that presents a saved cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def test_a_cookie_saved_before_logout_is_refused_after(app, auth, client):
    auth.login("amina", "uploader")
    cookie = saved_cookie(client)
    assert replayed(app, cookie).get("/upload").status_code == 200  # the copy works...
    auth.logout()
    again = replayed(app, cookie)
    response = again.get("/upload")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "Log in" in again.get("/").get_data(as_text=True)


def test_a_cookie_saved_before_a_new_password_is_refused_after(app, auth, client, runner):
    auth.login("amina", "editor")
    cookie = saved_cookie(client)
    done = runner("user", "password", "amina", "--password-stdin", input="a new horse\n")
    assert done.exit_code == 0, done.output
    assert replayed(app, cookie).get("/upload").status_code == 302
    assert client.get("/upload").status_code == 302  # the browser that was logged in too
    assert log_in(client, "amina", "a new horse").status_code == 302  # the new one works
    assert client.get("/upload").status_code == 200


def test_a_new_role_ends_the_logins_made_with_the_old_one(app, auth, client, runner):
    auth.login("amina", "editor")
    cookie = saved_cookie(client)
    assert runner("user", "role", "amina", "uploader").exit_code == 0
    assert replayed(app, cookie).get("/upload").status_code == 302


def test_the_session_cookie_is_httponly_and_samesite(app, client):
    add_account(app, "amina", "uploader")
    response = log_in(client, "amina")
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


EVIL_NEXT = [
    "//evil.example/",
    "/\t/evil.example/x",  # /login?next=/%09/evil.example/x
    "/\n/evil.example/x",
    "/\r\n/evil.example/x",
    "\t//evil.example/",
    " //evil.example/",
    "\x00//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\t\\evil.example/",
    "https://evil.example/",
    "https:evil.example",
    "HTTP://evil.example",
    "javascript:alert(1)",
    "//evil.example@archive/",
    "/%0a/x",  # stays on the site: the path /%0a/x
    "/%2F%2Fevil.example",  # an encoded slash is not a slash: a path here
    "/\x7f/x",
    "evil.example",
    "",
]


def browser_target(location: str, base: str = "http://archive.local/login") -> str:
    """Where a browser goes for a Location header: WHATWG URL parsing drops tabs and line
    breaks anywhere and C0 controls and spaces at the ends, and reads \\ as /."""
    from urllib.parse import urljoin, urlsplit

    cleaned = location.strip("".join(map(chr, range(0x21)))).translate(
        str.maketrans("", "", "\t\n\r")
    )
    cleaned = cleaned.replace("\\", "/")
    return urlsplit(urljoin(base, cleaned)).netloc


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_next_stays_on_this_site_as_a_browser_reads_it(app, client, target):
    add_account(app, "amina", "uploader")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    form = {"name": "amina", "password": "correct horse", "csrf_token": token, "next": target}
    posted = client.post("/login", data=form)
    assert posted.status_code == 302
    assert browser_target(posted.headers["Location"]) == "archive.local"
    # logged in already, the login page sends straight on: the same rule
    from urllib.parse import quote

    again = client.get("/login?next=" + quote(target, safe=""))
    assert again.status_code == 302, again.get_data(as_text=True)
    assert browser_target(again.headers["Location"]) == "archive.local"


def test_next_keeps_a_path_here(app, client):
    add_account(app, "amina", "uploader")
    log_in(client, "amina")
    response = client.get("/login?next=/search%3Fq%3Dwater")
    assert response.headers["Location"] == "/search?q=water"


SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def test_every_response_carries_the_safety_headers(app, client, seed):
    from tests.conftest import clip

    episode = seed.recording(clip("LJ001-0002.wav"), title="Short")
    for path in (
        f"/media/{episode.guid}/audio.mp3",  # no cookie yet: the media layer answers
        "/",
        "/login",
        "/search?q=x",
        "/feeds/all.xml",
        "/no/such/page",
        "/static/style.css",
        "/static/%00x",
        f"/media/{episode.guid}/audio.mp3",  # with the session cookie: Flask's view
    ):
        response = client.get(path)
        assert response.status_code < 500, path
        for name, value in SAFETY_HEADERS.items():
            assert response.headers.get(name) == value, (path, name)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert "unsafe-inline" not in policy


def test_pages_have_no_inline_script():
    """script-src 'self' blocks inline script and on* handlers: the templates have none."""
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parent.parent / "radio" / "templates"
    for page in templates.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", html):
            # a JSON block is data the scripts read, never run (the CSP doesn't apply to it)
            data = 'type="application/json"' in tag
            assert "src=" in tag or data, f"{page.name}: inline <script>"
        assert not re.search(r"\son[a-z]+\s*=", html), f"{page.name}: an on* handler"
        assert "javascript:" not in html, page.name
