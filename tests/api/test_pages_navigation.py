"""Pages a newcomer finds without dead ends (issue 33): the front page says what licbench is and links the demo
job, the leaderboard and the API; catalogue pages for codecs, metrics and studies; errors answer JSON under
/api/v1 and an HTML page for a browser elsewhere; a favicon; Plotly compressed from a content-hashed URL."""

from __future__ import annotations

import gzip
import html
import re

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_front_page_says_what_licbench_is_and_links_on(api):
    page = api.get("/")
    assert page.status_code == 200
    assert 'id="intro"' in page.text and "learned image codecs" in page.text
    for href in ('href="/leaderboard"', 'href="/docs"', 'href="/codecs"', 'href="/metrics"', 'href="/studies"'):
        assert href in page.text


def test_codecs_and_metrics_pages_show_the_catalogue(api):
    codecs = api.get("/api/v1/codecs").json()
    page = api.get("/codecs").text
    assert all(f'id="codec-{c["name"]}"' in page for c in codecs)
    metrics = api.get("/api/v1/metrics").json()
    page = api.get("/metrics").text
    psnr = next(m for m in metrics if m["name"] == "psnr")
    row = re.search(r'<tr id="metric-psnr">(.*?)</tr>', page, re.S).group(1)
    assert psnr["unit"] in row and psnr["reference"] in html.unescape(row)
    assert all(f'id="metric-{m["name"]}"' in page for m in metrics)


def test_studies_list_page_loads_its_script(api):
    page = api.get("/studies")
    assert page.status_code == 200 and "/static/studies_list.js" in page.text
    assert api.get("/static/studies_list.js").status_code == 200


def test_api_paths_answer_json_even_to_a_browser(api):
    response = api.get("/api/v1/jobs/424242", headers=HTML)
    assert response.status_code == 404 and response.headers["content-type"].startswith("application/json")
    assert "does not exist" in response.json()["detail"]
    missing = api.get("/api/v1/no-such-route", headers=HTML)
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}


def test_pages_answer_an_html_error_page_to_a_browser_and_json_to_scripts(api):
    stranger = api  # pages know visitors by their session cookie: without one, logged out
    page = stranger.get("/jobs/424242", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'id="error-page"' in page.text and "does not exist" in page.text
    assert 'id="error-login"' in page.text  # logged out: a way on
    assert stranger.get("/jobs/424242").json()["detail"].endswith("does not exist")  # no Accept: JSON
    unknown = stranger.get("/no-such-page", headers=HTML)
    assert unknown.status_code == 404 and 'id="error-page"' in unknown.text
    bad = stranger.get("/jobs/not-a-number", headers=HTML)
    assert bad.status_code == 422 and 'id="error-page"' in bad.text


def test_favicon_is_served(api):
    icon = api.get("/favicon.ico")
    assert (
        icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon" and icon.content[:4] == b"\0\0\1\0"
    )


def test_plotly_is_served_compressed_from_a_content_hashed_immutable_url(api):
    page = api.get("/jobs")  # any page that names the bundle is rendered with the same URL
    hashed = api.get("/vendor/plotly.min.js", follow_redirects=False)
    assert hashed.status_code == 307
    url = hashed.headers["location"]
    assert re.fullmatch(r"/vendor/plotly-[0-9a-f]{16}\.min\.js", url)
    compressed = api.get(url, headers={"accept-encoding": "gzip, br"})
    assert compressed.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert compressed.headers["content-encoding"] == "gzip" and "accept-encoding" in compressed.headers["vary"].lower()
    plain = api.get(url, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert compressed.content == plain.content  # httpx decoded the gzip: the same script
    assert int(compressed.headers["content-length"]) < len(plain.content) / 3
    assert gzip.decompress(gzip.compress(plain.content[:100])) == plain.content[:100]
    stale = api.get("/vendor/plotly-0000000000000000.min.js", follow_redirects=False)
    assert stale.status_code == 307 and stale.headers["location"] == url
    assert page.status_code == 200


def test_empty_pages_say_what_to_do_next(api):
    board = api.get("/leaderboard")
    assert board.status_code == 200 and 'id="lb-empty"' in board.text and "make it public" in board.text
    datasets = api.get("/analysis/iqa-datasets")
    assert 'id="datasets-empty"' in datasets.text and "Import one above" in datasets.text
