"""Issue 12: every mutating route needs a user (anonymous 401, another user 403, owner or admin ok);
strangers read only what is public; session cookies need the CSRF token."""

from __future__ import annotations

import json
import re

from tests.support.accounts import ANONYMOUS, make_user
from tests.support.benchmarks import run_job, upload_set
from tests.support.images import png_bytes, random_photo

PNG = png_bytes(random_photo(48, 64, seed=5))


def _files():
    return [("files", ("a.png", PNG, "image/png"))]


def test_image_sets_jobs_and_curves_need_their_owner(api, settings_env):
    bob = make_user("bob")
    admin = make_user("boss", role="admin")

    # upload
    assert api.post("/api/v1/image-sets", data={"name": "x"}, files=_files(), headers=ANONYMOUS).status_code == 401
    bad = api.post("/api/v1/image-sets", data={"name": "x", "visibility": "everyone"}, files=_files())
    assert bad.status_code == 422 and "visibility" in bad.json()["detail"]
    image_set = upload_set(api, "alice's", sizes=((48, 64),))
    assert image_set["owner"] == "tester" and image_set["visibility"] == "private"
    sid = image_set["id"]

    # private: read by owner only
    assert api.get(f"/api/v1/image-sets/{sid}", headers=ANONYMOUS).status_code == 401
    assert api.get(f"/api/v1/image-sets/{sid}", headers=bob.headers).status_code == 403
    assert api.get(f"/api/v1/image-sets/{sid}", headers=admin.headers).status_code == 200
    image_id = image_set["images"][0]["id"]
    assert api.get(f"/api/v1/images/{image_id}", headers=ANONYMOUS).status_code == 401
    assert api.get(f"/api/v1/images/{image_id}", headers=bob.headers).status_code == 403
    assert sid not in [s["id"] for s in api.get("/api/v1/image-sets", headers=ANONYMOUS).json()]
    assert sid not in [s["id"] for s in api.get("/api/v1/image-sets", headers=bob.headers).json()]
    assert api.get(f"/image-sets/{sid}", headers=ANONYMOUS).status_code == 401

    # jobs on a private set: only who can see it
    job_body = {"image_set_id": sid, "codecs": [{"name": "jpeg", "rate_points": [50]}], "metrics": ["psnr"]}
    assert api.post("/api/v1/jobs", json=job_body, headers=ANONYMOUS).status_code == 401
    assert api.post("/api/v1/jobs", json=job_body, headers=bob.headers).status_code == 403
    queued = api.post("/api/v1/jobs", json=job_body)
    assert queued.status_code == 202
    jid = queued.json()["id"]
    assert api.get(f"/api/v1/jobs/{jid}").json()["owner"] == "tester"
    for path in (f"/api/v1/jobs/{jid}", f"/api/v1/jobs/{jid}/results", f"/api/v1/jobs/{jid}/rd", f"/jobs/{jid}"):
        assert api.get(path, headers=ANONYMOUS).status_code == 401, path
        assert api.get(path, headers=bob.headers).status_code == 403, path
    assert jid not in [j["id"] for j in api.get("/api/v1/jobs", headers=bob.headers).json()]

    # visibility is the owner's to change
    assert api.patch(f"/api/v1/image-sets/{sid}", json={"visibility": "public"}, headers=ANONYMOUS).status_code == 401
    assert api.patch(f"/api/v1/image-sets/{sid}", json={"visibility": "public"}, headers=bob.headers).status_code == 403
    assert api.patch(f"/api/v1/image-sets/{sid}", json={"visibility": "public"}).json()["visibility"] == "public"
    assert api.get(f"/api/v1/image-sets/{sid}", headers=ANONYMOUS).status_code == 200
    assert api.get(f"/api/v1/jobs/{jid}", headers=ANONYMOUS).status_code == 200  # a job is visible where its set is
    assert jid in [j["id"] for j in api.get("/api/v1/jobs", headers=ANONYMOUS).json()]
    assert api.patch(f"/api/v1/image-sets/{sid}", json={"visibility": "public"}, headers=bob.headers).status_code == 403

    # cancel and delete: who started the job, or an admin
    assert api.post(f"/api/v1/jobs/{jid}/cancel", headers=ANONYMOUS).status_code == 401
    assert api.post(f"/api/v1/jobs/{jid}/cancel", headers=bob.headers).status_code == 403
    assert api.delete(f"/api/v1/jobs/{jid}").status_code == 409  # still queued: cancel first
    assert api.post(f"/api/v1/jobs/{jid}/cancel").json()["status"] == "cancelled"
    assert api.delete(f"/api/v1/jobs/{jid}", headers=ANONYMOUS).status_code == 401
    assert api.delete(f"/api/v1/jobs/{jid}", headers=bob.headers).status_code == 403
    assert api.delete(f"/api/v1/jobs/{jid}").status_code == 204
    assert api.get(f"/api/v1/jobs/{jid}").status_code == 404

    # a finished job's results and files go with it; its image set stays
    done = run_job(api, image_set, {"jpeg": [30, 70]}, ["psnr"])
    rows = api.get(f"/api/v1/jobs/{done}/results").json()
    assert len(rows) == 2
    recon = settings_env / "reconstructions" / str(done)
    assert recon.is_dir() and any(recon.iterdir())
    assert api.delete(f"/api/v1/jobs/{done}", headers=bob.headers).status_code == 403
    assert api.delete(f"/api/v1/jobs/{done}", headers=admin.headers).status_code == 204  # admins may
    assert not recon.exists()
    assert api.get(f"/api/v1/results/{rows[0]['id']}/reconstruction").status_code == 404
    assert api.get(f"/api/v1/image-sets/{sid}").status_code == 200

    # reference curves
    document = {
        "name": "mine",
        "description": "",
        "results": {"bpp": [0.1, 0.2, 0.4, 0.8], "psnr-rgb": [28, 30, 33, 36]},
    }
    upload = {"file": ("mine.json", json.dumps(document), "application/json")}
    assert api.post("/api/v1/reference-curves", files=upload, headers=ANONYMOUS).status_code == 401
    curve = api.post("/api/v1/reference-curves", files=upload)
    assert curve.status_code == 201
    cid = curve.json()["id"]
    assert api.delete(f"/api/v1/reference-curves/{cid}", headers=ANONYMOUS).status_code == 401
    assert api.delete(f"/api/v1/reference-curves/{cid}", headers=bob.headers).status_code == 403
    assert api.delete(f"/api/v1/reference-curves/{cid}").status_code == 204

    # deleting the image set removes its images (and the file no other set uses)
    shared = upload_set(api, "bob's copy", sizes=((48, 64),), headers=bob.headers)  # same pixels, other owner
    key = settings_env / "images" / f"{_hash_of(api, image_id)}.png"
    assert key.exists()
    assert api.delete(f"/api/v1/image-sets/{sid}", headers=ANONYMOUS).status_code == 401
    assert api.delete(f"/api/v1/image-sets/{sid}", headers=bob.headers).status_code == 403
    assert api.delete(f"/api/v1/image-sets/{sid}").status_code == 204
    assert api.get(f"/api/v1/image-sets/{sid}").status_code == 404
    assert key.exists()  # bob's set still uses these pixels
    assert api.get(f"/api/v1/images/{shared['images'][0]['id']}", headers=bob.headers).status_code == 200
    assert api.delete(f"/api/v1/image-sets/{shared['id']}", headers=bob.headers).status_code == 204
    assert not key.exists()


def _hash_of(api, image_id: int) -> str:
    from app.db.session import session_scope
    from app.db.tables import Image

    with session_scope() as session:
        return session.get(Image, image_id).content_hash


def test_tokens_belong_to_users_and_can_be_revoked(api):
    bob = make_user("bob")
    assert api.get("/api/v1/me", headers=ANONYMOUS).status_code == 401
    assert api.get("/api/v1/me", headers=bob.headers).json()["name"] == "bob"
    assert api.post("/api/v1/tokens", json={"name": "ci"}, headers=ANONYMOUS).status_code == 401
    created = api.post("/api/v1/tokens", json={"name": "ci"}, headers=bob.headers).json()
    assert created["user"] == "bob" and created["token"].startswith("lb_")
    second = {"Authorization": f"Bearer {created['token']}"}
    assert api.get("/api/v1/me", headers=second).json()["name"] == "bob"
    assert api.delete(f"/api/v1/tokens/{created['id']}").status_code == 403  # tester may not revoke bob's
    assert api.delete(f"/api/v1/tokens/{created['id']}", headers=ANONYMOUS).status_code == 401
    assert api.delete(f"/api/v1/tokens/{created['id']}", headers=bob.headers).status_code == 204
    revoked = api.get("/api/v1/me", headers=second)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]
    assert all(t["user"] == "bob" for t in api.get("/api/v1/tokens", headers=bob.headers).json())


def _login(client, name: str, password: str):
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login", data={"name": name, "password": password, "csrf_token": csrf, "next": "/jobs"}, follow_redirects=False
    )


def test_session_cookie_login_csrf_and_logout(api):
    from fastapi.testclient import TestClient

    carol = make_user("carol")
    browser = TestClient(api.app)  # no bearer token: cookies only
    page = browser.get("/login")
    assert page.status_code == 200
    # the login form itself is CSRF-protected
    assert (
        browser.post("/login", data={"name": "carol", "password": carol.password, "csrf_token": "x"}).status_code == 403
    )
    assert _login(browser, "carol", "wrong password").status_code == 401
    answer = _login(browser, "carol", carol.password)
    assert answer.status_code == 303 and answer.headers["location"] == "/jobs"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert browser.get("/api/v1/me").json()["name"] == "carol"

    home = browser.get("/").text
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', home).group(1)
    files = _files()
    no_csrf = browser.post("/api/v1/image-sets", data={"name": "c"}, files=files)
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["detail"]
    with_csrf = browser.post("/api/v1/image-sets", data={"name": "c"}, files=files, headers={"X-CSRF-Token": csrf})
    assert with_csrf.status_code == 201 and with_csrf.json()["owner"] == "carol"

    # token page: create (form post with CSRF) and revoke
    assert browser.post("/tokens", data={"name": "laptop", "csrf_token": "nope"}).status_code == 403
    made = browser.post("/tokens", data={"name": "laptop", "csrf_token": csrf})
    token = re.search(r'id="new-token">([^<]+)<', made.text).group(1)
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["name"] == "carol"

    assert browser.post("/logout", data={"csrf_token": "bad"}, follow_redirects=False).status_code == 403
    out = browser.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    browser.cookies.clear()  # the TestClient keeps cookies the server deleted with a past expiry date
    assert browser.get("/api/v1/me").status_code == 401
    # a forged cookie is nobody
    browser.cookies.set("licbench_session", "eyJ1aWQiOjF9.forged.sig")
    assert browser.get("/api/v1/me").status_code == 401


def test_new_password_ends_old_sessions(api):
    from fastapi.testclient import TestClient

    from app.db.session import session_scope
    from app.services.accounts import users

    dave = make_user("dave")
    browser = TestClient(api.app)
    assert _login(browser, "dave", dave.password).status_code == 303
    assert browser.get("/api/v1/me").status_code == 200
    with session_scope() as session:
        users.set_password(session, users.require_user(session, "dave"), "another password 123")
    assert browser.get("/api/v1/me").status_code == 401
