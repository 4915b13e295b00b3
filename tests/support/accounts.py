"""Users and authenticated clients for tests (issue 12: every mutating route needs a user)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

ANONYMOUS = {"Authorization": ""}  # request headers that drop the client's default bearer token


@dataclass(frozen=True)
class Account:
    name: str
    password: str
    token: str
    role: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@cache
def _password_hash(password: str) -> str:
    """The app's own argon2id hash of ``password``, made once per test session and password.

    argon2id is slow on purpose (about a second per hash on a loaded 2-core machine); the test users' passwords
    repeat from test to test, so one real hash each serves them all (it verifies like any other).
    """
    from app.services.accounts import users

    return users.hash_password(password)


def make_user(name: str, role: str = "member", password: str | None = None) -> Account:
    """A user in the configured database (settings' DATA_DIR) with a password and an API token."""
    from app.db.session import session_scope
    from app.services.accounts import tokens, users

    password = password or f"pw-{name}-0123456789"
    with session_scope() as session:
        user = users.find_user(session, name) or users.create_user(session, name, None, role=role)
        user.password_hash = _password_hash(password)
        session.flush()
        token = tokens.create_token(session, f"{name} test token", user=user)
    return Account(name, password, token, role)


def authorize(client, name: str, role: str = "member") -> Account:
    """Make ``client`` (a TestClient or httpx client) send ``name``'s bearer token on every request."""
    account = make_user(name, role)
    client.headers["Authorization"] = f"Bearer {account.token}"
    client.account = account
    return account


def browser_login(page, base_url: str, name: str, password: str) -> None:
    """Log a Playwright page in through the login form (session cookie)."""
    page.goto(f"{base_url}/login")
    page.fill("#login-name", name)
    page.fill("#login-password", password)
    page.click("#login-button")
    page.wait_for_selector("#current-user")
