"""Accounts: hashed passwords, roles, the `radio user` commands."""

import pytest

from radio.data.users import (
    ROLES,
    UserError,
    add_user,
    authenticate,
    find_user,
    list_users,
    set_password,
    set_role,
)


def test_passwords_are_stored_hashed_and_checked(db):
    add_user(db, "amina", "correct horse", "editor")
    row = next(db.query("select * from users where name = 'amina'"))
    assert "correct horse" not in row["password_hash"]
    assert row["password_hash"].startswith(("scrypt:", "pbkdf2:"))
    user = authenticate(db, "amina", "correct horse")
    assert user is not None and user.role == "editor"
    assert authenticate(db, "amina", "wrong horse") is None
    assert authenticate(db, "nobody", "correct horse") is None
    assert find_user(db, "amina").last_login_at is not None


def test_roles_include_the_ones_below():
    from radio.data.users import User

    admin, editor, uploader = (User(i, r, r) for i, r in enumerate(reversed(ROLES)))
    assert admin.can("editor") and admin.can("uploader")
    assert editor.can("uploader") and not editor.can("admin")
    assert not uploader.can("editor") and not uploader.sees_hidden
    assert editor.sees_hidden


@pytest.mark.parametrize(
    ("name", "password", "role", "message"),
    [
        ("", "correct horse", "editor", "needs a name"),
        ("two words", "correct horse", "editor", "one word"),
        ("amina", "short", "editor", "too short"),
        ("amina", "correct horse", "boss", "not a role"),
    ],
)
def test_bad_accounts_are_refused_with_the_fix(db, name, password, role, message):
    with pytest.raises(UserError, match=message):
        add_user(db, name, password, role)


def test_names_are_unique_and_changes_apply(db):
    add_user(db, "joseph", "correct horse", "uploader")
    with pytest.raises(UserError, match="already exists"):
        add_user(db, "joseph", "another horse", "admin")
    set_password(db, "joseph", "battery staple")
    set_role(db, "joseph", "admin")
    assert authenticate(db, "joseph", "battery staple").role == "admin"
    assert [u.name for u in list_users(db)] == ["joseph"]
    with pytest.raises(UserError, match="no user"):
        set_password(db, "nobody", "battery staple")


def test_user_commands(runner):
    added = runner(
        "user", "add", "amina", "--role", "editor", "--password-stdin", input="s3cret pass\n"
    )
    assert added.exit_code == 0, added.output
    assert "Added amina (editor)" in added.output
    prompted = runner("user", "add", "joseph", input="another pass\nanother pass\n")
    assert prompted.exit_code == 0, prompted.output
    listed = runner("user", "list")
    assert "amina" in listed.output and "editor" in listed.output and "uploader" in listed.output
    again = runner("user", "add", "amina", "--password-stdin", input="s3cret pass\n")
    assert again.exit_code == 1 and "already exists" in again.output
    assert runner("user", "role", "joseph", "admin").exit_code == 0
    changed = runner("user", "password", "joseph", "--password-stdin", input="new password\n")
    assert changed.exit_code == 0, changed.output
    assert "joseph               admin" in runner("user", "list").output
    for sub in ("add", "list", "role", "password"):
        assert "Example:" in runner("user", sub, "--help").output
