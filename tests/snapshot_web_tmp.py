"""Temporary (not committed): snapshot of what the web app serves, to compare before/after the refactor."""
import json
import re
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from review.users import add_user
from web.app import create_app

PASSWORD = "correct horse battery"
OUT = Path("/tmp/webtask/snapshot.json")


def norm(text, tokens):
    for t in tokens:
        if t:
            text = text.replace(t, "TOKEN")
    text = re.sub(r"\d{4}-\d\d-\d\dT[\d:.+]+", "TIME", text)
    text = re.sub(r"/jobs/[0-9a-f]{12}", "/jobs/JOB", text)
    return text


def test_snapshot(recorded_run, monkeypatch, tmp_path):
    store, run = recorded_run
    for role in ("viewer", "reviewer", "admin"):
        add_user(store, role, PASSWORD, role)
    client = TestClient(create_app(store, secret="s"))
    out = {}
    def grab(key, r, tokens):
        h = {k: v for k, v in r.headers.items() if k not in ("date", "set-cookie", "content-length")}
        body = r.content.decode("utf-8", "replace") if "xlsx" not in key else str(len(r.content) > 0)
        out[key] = [r.status_code, h, norm(body, tokens)]
    anon = TestClient(create_app(store, secret="s"))
    for p in ["/", f"/runs/{run}", "/api/runs", "/login", "/login?next=//evil", "/nope", "/openapi.json", "/static/style.css"]:
        grab("anon " + p, anon.get(p, follow_redirects=False), [])
        grab("anonjson " + p, anon.get(p, follow_redirects=False, headers={"accept": "application/json"}), [])
    for role in ("viewer", "reviewer", "admin"):
        c = TestClient(create_app(store, secret="s"))
        page = c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        grab(role + " login", c.post("/login", data={"username": role, "password": PASSWORD, "csrf_token": token, "next": "/"}, follow_redirects=False), [token])
        grab(role + " badlogin", c.post("/login", data={"username": role, "password": "x", "csrf_token": token}), [token])
        grab(role + " csrf", c.post("/logout", data={"csrf_token": "bad"}), [token])
        c.post("/login", data={"username": role, "password": PASSWORD, "csrf_token": token, "next": "/"})
        themes = c.get(f"/api/runs/{run}/themes").json()
        tid = themes[0]["theme_id"]
        units = c.get(f"/api/runs/{run}/themes/{tid}/units").json()
        paths = ["/", "/?message=hi", f"/runs/{run}", f"/runs/{run}?segment=nope=1", f"/runs/{run}?segment=age=x", f"/runs/{run}/themes/{tid}", f"/runs/{run}/themes/{tid}?q=a",
                 f"/runs/{run}/themes/nope", f"/runs/{run}/queue", f"/runs/{run}/report", "/runs/nope", "/runs/nope/queue",
                 f"/runs/{run}/download/html", f"/runs/{run}/download/csv", f"/runs/{run}/download/json", f"/runs/{run}/download/xlsx", f"/runs/{run}/download/pdf",
                 "/jobs/nope", "/api/runs", f"/api/runs/{run}", f"/api/runs/{run}/themes", f"/api/runs/{run}/themes/{tid}/units?q=e",
                 f"/api/runs/{run}/themes/nope/units", f"/api/runs/{run}/queue", f"/api/runs/{run}/queue?limit=0", f"/api/runs/{run}/queue?limit=x",
                 "/api/models", "/api/jobs/nope", "/api/runs/nope", "/nope", "/api/nope"]
        for p in paths:
            grab(f"{role} GET {p}", c.get(p, follow_redirects=False), [token])
            grab(f"{role} GETjson {p}", c.get(p, follow_redirects=False, headers={"accept": "application/json"}), [token])
        hdr = {"X-CSRF-Token": token}
        posts = [
            ("/api/runs/%s/corrections" % run, {"action": "explode"}),
            ("/api/runs/%s/corrections" % run, {"action": "move", "unit": units[0]["unit_id"]}),
            ("/api/runs/%s/corrections" % run, {"action": "rename", "theme": "nope", "label": "x"}),
            ("/api/runs/%s/corrections" % run, {"action": "rename"}),
            ("/api/runs/%s/corrections" % run, {"seen": "yesterday"}),
            ("/api/runs/%s/corrections" % run, {"action": "rename", "theme": tid, "label": "Nouveau " + role, "seen": 0}),
            ("/api/runs/%s/corrections" % run, {"action": "rename", "theme": tid, "label": "Encore " + role, "seen": 0}),
            ("/api/runs/nope/corrections", {"action": "rename", "theme": tid, "label": "x"}),
            ("/api/models/v7/promote", None), ("/api/models/rollback", None),
        ]
        for p, b in posts:
            grab(f"{role} POST {p} {b}", c.post(p, json=b, headers=hdr), [token])
            grab(f"{role} POSTnocsrf {p} {b}", c.post(p, json=b), [token])
        forms = [
            (f"/runs/{run}/corrections", {"action": "rename", "theme": tid, "label": "Form " + role}),
            (f"/runs/{run}/corrections", {"action": "rename", "theme": "nope", "label": "x", "back": "//evil"}),
            (f"/runs/{run}/corrections", {"action": "add", "to": tid, "unit": units[0]["unit_id"], "back": f"/runs/{run}?x=1"}),
            (f"/runs/{run}/corrections", {"action": "undo"}),
            ("/runs/nope/corrections", {"action": "undo"}),
            ("/models/v7/promote", {}), ("/models/rollback", {}),
            ("/users", {"username": "z" + role, "password": "short", "role": "viewer"}),
            ("/users", {"username": "z" + role, "password": PASSWORD, "role": "viewer"}),
            ("/users", {"username": "z" + role}),
        ]
        for p, d in forms:
            grab(f"{role} FORM {p} {d}", c.post(p, data={**d, "csrf_token": token}, follow_redirects=False), [token])
            grab(f"{role} FORMjson {p} {d}", c.post(p, data={**d, "csrf_token": token}, follow_redirects=False, headers={"accept": "application/json"}), [token])
            grab(f"{role} FORMbad {p} {d}", c.post(p, data={**d, "csrf_token": "bad"}, follow_redirects=False), [token])
        grab(role + " logout", c.post("/logout", data={"csrf_token": token}, follow_redirects=False), [token])
    OUT.write_text(json.dumps(out, indent=1, ensure_ascii=False, sort_keys=True))
