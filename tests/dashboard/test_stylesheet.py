"""The dashboard's stylesheet is served (no app-wide /static/ route shadows it)."""

from __future__ import annotations


def test_stylesheet_is_served(app):
    with app.test_client() as client:
        page = client.get("/login").get_data(as_text=True)
        assert 'href="/static/gardien.css"' in page
        answer = client.get("/static/gardien.css")
    assert answer.status_code == 200
    assert answer.mimetype == "text/css"
    assert "style-src 'self'" in answer.headers["Content-Security-Policy"]
