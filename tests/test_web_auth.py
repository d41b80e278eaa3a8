"""Log in and out, CSRF on every form, login required for uploads."""

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
