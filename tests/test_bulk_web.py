"""The theme page's bulk form, its per-unit form leaving this theme, and the "most similar" API, through the app."""

import html
import re

import test_web

from review.corrections import history, load_state
from review.similar import most_similar

# test_web's app over the recorded sample (one SQLite file) and its sign-in
store, site, sign_in = test_web.store, test_web.site, test_web.sign_in


def _two_themes(state):
    sizes = sorted(((len(state.members(t)), t) for t in state.themes if t != "autres"), reverse=True)
    return sizes[0][1], sizes[1][1]


def test_the_bulk_form_saves_one_event_offers_its_undo_and_refuses_a_stale_view(site):
    store, run, client = site
    _, token = sign_in(client, "reviewer")
    state = load_state(store, run)
    a, b = _two_themes(state)
    units = state.members(a)[:6]
    page = f"/runs/{run}/themes/{a}"
    form = {"csrf_token": token, "back": page, "operation": "move", "units": units[:3], "to": b, "from": a}
    assert client.post(f"/runs/{run}/bulk", data=form).status_code == 422  # no version seen: refused
    assert client.post(f"/runs/{run}/bulk", data={**form, "seen": 0, "csrf_token": "forged"}).status_code == 403
    saved = client.post(f"/runs/{run}/bulk", data={**form, "seen": 0}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].startswith(f"{page}?undo=1&message=")
    shown = client.get(saved.headers["location"]).text
    assert f"#1 enregistré : 3 idées déplacées vers « {state.themes[b].label} »" in shown
    assert re.search(r'name="event" value="1"', shown) and "Annuler cette correction (#1)" in shown
    stale = client.post(f"/runs/{run}/bulk", data={**form, "units": units[2:6], "operation": "confirm", "seen": 0})
    assert "Non enregistré : Votre vue (version 0) n'est plus à jour" in html.unescape(stale.text)
    assert [e.action for e in history(store, run)] == ["bulk"] and not set(units[3:]) & load_state(store, run).reviewed


def test_a_move_from_a_theme_page_leaves_that_theme_not_the_main_one(site):
    store, run, client = site
    _, token = sign_in(client, "reviewer")
    state = load_state(store, run)
    a, b = _two_themes(state)
    c = next(t for t in state.themes if t not in (a, b, "autres"))
    unit = state.members(a)[0]
    client.post(f"/runs/{run}/corrections", data={"csrf_token": token, "action": "add", "unit": unit, "to": b, "seen": 0})
    assert load_state(store, run).labels[unit] == [a, b]
    move = {"csrf_token": token, "action": "move", "unit": unit, "to": c, "from": b, "seen": 1}  # on b's page
    client.post(f"/runs/{run}/corrections", data=move)
    assert load_state(store, run).labels[unit] == [a, c]


def test_the_most_similar_units_through_the_api(site):
    store, run, client = site
    sign_in(client, "viewer")  # reading only: a viewer may ask
    state = load_state(store, run)
    a, _ = _two_themes(state)
    unit, chosen = state.members(a)[0], state.members(a)[1:3]
    url = f"/api/runs/{run}/units/{unit}/similar"
    found = client.get(url, params={"n": 5, "theme": a, "exclude": chosen}).json()
    assert found == {"unit": unit, "units": most_similar(store, run, unit, 5, theme=a, exclude=chosen)}
    assert len(found["units"]) == 5 and not {unit, *chosen} & set(found["units"])
    assert client.get(f"/api/runs/{run}/units/R999/similar").status_code == 404
    assert client.get(url, params={"n": 0}).json()["detail"] == "n doit être compris entre 1 et 500"
    assert client.get(url, params={"theme": "t-nope"}).status_code == 404
