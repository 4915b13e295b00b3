"""Issue 13 (security): a page served from another origin on loopback cannot change anything through a logged-in
visitor's browser (CSRF), tested in Chromium.

The attacker's page is served twice: from ``127.0.0.1`` on another port (same *site* as the app, so the SameSite=Lax
session cookie IS sent with its requests: only the CSRF token stops them) and from ``localhost`` (another site: the
cookie is withheld as well). Each page fires an auto-submitted form post and no-cors fetch posts (cancel a job,
create an image set with a file, create an API token, log out) and a CORS fetch carrying a stolen-looking bearer
header. Afterwards nothing changed; then the same cancel sent by the app's own page (with the token) does cancel
the job, so the session was live throughout and the check is what refused the forgeries.
"""

from __future__ import annotations

import re
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import create_engine, insert, select

from tests.support.accounts import browser_login
from tests.support.browser import launch_chromium, until
from tests.support.images import png_bytes, random_photo

pytestmark = [pytest.mark.integration, pytest.mark.browser]


ATTACK = """<!doctype html><html><body>
<form id="f1" method="post" action="{app}/api/v1/jobs/{job}/cancel" target="sink1"></form>
<form id="f2" method="post" action="{app}/tokens" target="sink2"><input name="name" value="stolen"></form>
<form id="f3" method="post" action="{app}/logout" target="sink3"></form>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe><iframe name="sink3"></iframe>
<script>
(async () => {{
  const app = "{app}";
  const tries = [];
  const send = (url, init) => tries.push(fetch(url, init).then(r => r.type + " " + r.status, e => "blocked " + e));
  send(app + "/api/v1/jobs/{job}/cancel", {{method: "POST", mode: "no-cors", credentials: "include"}});
  const data = new FormData();
  data.append("name", "forged set");
  data.append("files", new Blob([Uint8Array.from(atob("{png}"), c => c.charCodeAt(0))], {{type: "image/png"}}), "x.png");
  send(app + "/api/v1/image-sets", {{method: "POST", mode: "no-cors", credentials: "include", body: data}});
  send(app + "/api/v1/tokens", {{method: "POST", mode: "no-cors", credentials: "include",
                                 headers: {{"Content-Type": "text/plain"}}, body: '{{"name": "stolen"}}'}});
  send(app + "/api/v1/jobs/{job}/cancel", {{method: "POST", mode: "cors", credentials: "include",
                                           headers: {{"Authorization": "Bearer lb_guess"}}}});
  document.getElementById("f1").submit();
  document.getElementById("f2").submit();
  document.getElementById("f3").submit();
  window.attackResults = await Promise.all(tries);
  setTimeout(() => {{ window.attackDone = true; }}, 1500);  // let the form posts land
}})();
</script></body></html>"""


@pytest.fixture(scope="module")
def queued_job(production_stack):
    """A job that stays queued (inserted without tasks, owned by the stack's admin) on a fresh private set."""
    with production_stack.client() as client:
        made = client.post(
            "/api/v1/image-sets",
            data={"name": "csrf target"},
            files=[("files", ("a.png", png_bytes(random_photo(32, 40, seed=8)), "image/png"))],
        )
        assert made.status_code == 201, made.text
        set_id = made.json()["id"]
    from app.db.tables import Job, User

    engine = create_engine(production_stack.env["DATABASE_URL"])
    with engine.begin() as connection:
        owner = connection.scalar(select(User.id).where(User.name == production_stack.user))
        job_id = connection.execute(
            insert(Job).values(
                image_set_id=set_id,
                owner_id=owner,
                status="queued",
                done=0,
                total=1,
                metrics=["psnr"],
                codecs=[{"name": "jpeg", "rate_points": [50]}],
            )
        ).inserted_primary_key[0]
    engine.dispose()
    return job_id


def _attacker_server(directory):
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _posts_logged(log, skip: int) -> list[tuple[str, str]]:
    """(path, status) of the POSTs in uvicorn's access log after its first ``skip`` lines."""
    found = []
    for line in log.read_text(errors="replace").splitlines()[skip:]:
        match = re.search(r'"POST (\S+) HTTP/[0-9.]+" (\d{3})', line)
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def _state(stack, job_id: int) -> tuple:
    with stack.client() as client:
        job = client.get(f"/api/v1/jobs/{job_id}").json()["status"]
        sets = client.get("/api/v1/image-sets").headers["X-Total-Count"]
        tokens = sorted(t["id"] for t in client.get("/api/v1/tokens").json() if t["revoked_at"] is None)
    return job, sets, tokens


def test_pages_on_other_origins_cannot_change_anything_through_a_logged_in_browser(
    production_stack, queued_job, tmp_path
):
    import base64

    from playwright.sync_api import sync_playwright

    stack, job_id = production_stack, queued_job
    (tmp_path / "attack.html").write_text(
        ATTACK.format(
            app=stack.base_url, job=job_id, png=base64.b64encode(png_bytes(random_photo(16, 16, seed=2))).decode()
        )
    )
    attacker = _attacker_server(tmp_path)
    port = attacker.server_address[1]
    before = _state(stack, job_id)
    assert before[0] == "queued"
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            context = browser.new_context()  # one cookie jar: the victim's tabs
            page = context.new_page()
            browser_login(page, stack.base_url, stack.user, stack.password)
            log = stack.data_dir / "server.log"
            for origin, refused in ((f"http://127.0.0.1:{port}", "403"), (f"http://localhost:{port}", "401")):
                # same site: the cookie goes along, the missing CSRF token is the 403; another site: no cookie, 401
                seen = len(log.read_text(errors="replace").splitlines())
                evil = context.new_page()
                evil.goto(f"{origin}/attack.html")
                until(evil, "window.attackDone === true", timeout=30)
                results = evil.evaluate("window.attackResults")
                assert results[-1].startswith("blocked"), results  # CORS: no preflight answer, nothing sent
                evil.close()
                assert _state(stack, job_id) == before, origin
                forged = _posts_logged(log, seen)
                # the forgeries did reach the server (so the test can fail) and each was refused
                assert {f"/api/v1/jobs/{job_id}/cancel", "/api/v1/image-sets", "/api/v1/tokens", "/tokens"} <= {
                    path for path, _ in forged
                }, forged
                assert all(status in (refused, "403") for path, status in forged if path != "/logout"), forged

            # the session is still live and the app's own page, which sends the token, can cancel
            page.goto(f"{stack.base_url}/jobs/{job_id}")
            status = page.evaluate(f"fetch('/api/v1/jobs/{job_id}/cancel', {{method: 'POST'}}).then(r => r.status)")
            assert status == 200
            browser.close()
    finally:
        attacker.shutdown()
    assert _state(stack, job_id)[0] == "cancelled"
