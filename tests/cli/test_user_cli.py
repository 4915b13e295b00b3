"""``licbench user ...`` and ``licbench token ...`` (issue 12), and migration 0007's owner for old rows."""

from __future__ import annotations

import io

import sqlalchemy as sa
from alembic import command

from app.cli import main
from app.db.migrate import alembic_config, upgrade_to_head


def _who(token: str) -> str | None:
    from app.db.session import session_scope
    from app.services.accounts import tokens

    with session_scope() as session:
        return tokens.authenticate(session, token).user.name


def test_user_create_prints_a_generated_password_that_logs_in(settings_env, capsys, monkeypatch):
    from app.db.session import session_scope
    from app.services.accounts import users

    upgrade_to_head()
    assert main(["user", "create", "alice", "--admin"]) == 0
    out = capsys.readouterr().out
    password = out.strip().splitlines()[-1].removeprefix("password: ")
    assert "created admin 'alice'" in out and len(password) >= 16
    monkeypatch.setattr("sys.stdin", io.StringIO("a chosen password\n"))
    assert main(["user", "create", "bob", "--password-stdin"]) == 0
    assert "password:" not in capsys.readouterr().out
    with session_scope() as session:
        assert users.authenticate(session, "alice", password).role == "admin"
        assert users.authenticate(session, "bob", "a chosen password").role == "member"
        assert users.authenticate(session, "bob", password) is None
        assert not users.find_user(session, "bob").password_hash.startswith("a chosen")  # only a hash is kept
    assert main(["user", "create", "bob"]) == 2
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "create", "eve", "--password-stdin"]) == 2
    assert "at least 8" in capsys.readouterr().err


def test_token_create_for_a_user_prints_the_token_last_and_can_be_revoked(settings_env, capsys):
    upgrade_to_head()
    assert main(["user", "create", "carol"]) == 0
    capsys.readouterr()
    assert main(["token", "create", "--user", "carol"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("lb_") and _who(token) == "carol"
    assert main(["token", "create", "--name", "legacy"]) == 0  # as before accounts: owned by the first admin
    legacy = capsys.readouterr().out.strip().splitlines()[-1]
    assert _who(legacy) == "admin"
    assert main(["token", "create", "--user", "nobody"]) == 2
    assert "no user named 'nobody'" in capsys.readouterr().err
    assert main(["token", "list", "--user", "carol"]) == 0
    listing = capsys.readouterr().out
    assert "carol" in listing and token not in listing
    token_id = int(listing.split()[0])
    assert main(["token", "revoke", str(token_id)]) == 0
    assert "revoked" in capsys.readouterr().out


def test_migration_gives_old_rows_to_a_new_admin_and_downgrades(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    config = alembic_config(url)
    command.upgrade(config, "0006")
    engine = sa.create_engine(url)
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO image_sets (name, created_at) VALUES ('demo: scikit-image photos', '2026-01-01'),"
                " ('old', '2026-01-01')"
            )
        )
        db.execute(
            sa.text("INSERT INTO api_tokens (name, token_sha256, created_at) VALUES ('ci', 'abc', '2026-01-01')")
        )
    command.upgrade(config, "0007")
    with engine.begin() as db:
        admin = db.execute(sa.text("SELECT id, name, role, password_hash FROM users")).one()
        assert admin.role == "admin" and admin.password_hash.startswith("!")  # no password matches until set
        owners = db.execute(sa.text("SELECT owner_id, visibility, name FROM image_sets ORDER BY id")).all()
        assert [(o.owner_id, o.visibility) for o in owners] == [(admin.id, "public"), (admin.id, "private")]
        assert db.execute(sa.text("SELECT user_id FROM api_tokens")).scalar() == admin.id
    command.downgrade(config, "0006")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("image_sets")}
    assert columns == {"id", "name", "created_at"} and "users" not in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_demo_prints_a_generated_admin_login_and_publishes_the_demo_set(settings_env, capsys):
    import re

    from app.db.session import session_scope
    from app.db.tables import ImageSet, Job
    from app.services.accounts import users
    from app.services.operations.demo import DEMO_SET_NAME

    upgrade_to_head()
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    found = re.search(r"demo login: user 'demo-admin', password '([^']+)'", out)
    assert found, out
    with session_scope() as session:
        admin = users.authenticate(session, "demo-admin", found.group(1))
        assert admin is not None and admin.role == "admin"
        demo_set = session.query(ImageSet).filter_by(name=DEMO_SET_NAME).one()
        assert demo_set.visibility == "public" and demo_set.owner_id == admin.id
        assert session.query(Job).filter_by(image_set_id=demo_set.id).one().owner_id == admin.id
    assert main(["demo"]) == 0
    again = capsys.readouterr().out
    assert "already exists" in again and found.group(1) not in again  # a password is shown once
