"""The queue's writes through the API and the page forms: `seen` is required, a stale view is a 409 saying who
changed what; the queue's JSON carries each item's context and the review's progress."""

import pytest
from test_web import sign_in, site, store  # noqa: F401 (fixtures: the site as test_web serves it)

from review.corrections import ACTIONS, DONE, correct, history, load_state


@pytest.fixture
def reviewer(site):  # noqa: F811
    db, run, client = site
    _, token = sign_in(client, "reviewer")
    return db, run, client, {"X-CSRF-Token": token}


def test_a_write_without_seen_is_refused_and_nothing_is_saved(reviewer):
    db, run, client, headers = reviewer
    unit = client.get(f"/api/runs/{run}/queue").json()["items"][0]["unit_id"]
    refused = client.post(f"/api/runs/{run}/corrections", json={"action": "confirm", "unit": unit}, headers=headers)
    assert refused.status_code == 422 and "body.seen" in refused.json()["detail"]
    form = {"csrf_token": headers["X-CSRF-Token"], "action": "confirm", "unit": unit}
    assert client.post(f"/runs/{run}/corrections", data=form).status_code == 422  # the page forms too
    assert history(db, run) == []
    saved = client.post(f"/api/runs/{run}/corrections", json={"action": "confirm", "unit": unit, "seen": 0}, headers=headers)
    assert saved.status_code == 200 and saved.json()["event"] == 1


def test_the_stale_view_sequence_ends_in_a_409_naming_who_changed_what(reviewer):
    """A reads the queue; B marks item 2 off-topic; A confirms item 1; A's move of item 2 is refused, not saved
    over B's correction."""
    db, run, client, headers = reviewer
    queue = client.get(f"/api/runs/{run}/queue").json()
    seen, first, second = queue["version"], queue["items"][0], queue["items"][1]
    correct(db, run, "bob", "off_topic", seen=seen, unit=second["unit_id"])

    def write(item: dict, **fields):
        body = {"unit": item["unit_id"], "seen": seen, **fields}
        return client.post(f"/api/runs/{run}/corrections", json=body, headers=headers)

    assert write(first, action="confirm").json()["event"] == seen + 2  # another item: no conflict
    other = next(c[0] for c in second["theme_choices"] if c[0] != second["theme_id"])
    stale = write(second, action="move", to=other)
    assert stale.status_code == 409
    assert stale.json()["detail"].startswith(
        f"Votre vue (version {seen}) n'est plus à jour : bob a marqué hors sujet l'idée {second['unit_id']} à "
    )
    assert f"(version {seen + 1}). Rechargez (version actuelle : {seen + 2})" in stale.json()["detail"]
    assert second["unit_id"] in load_state(db, run).off_topic  # B's correction stands
    assert len(history(db, run)) == 2


def test_the_queue_json_carries_context_choices_and_progress(reviewer):
    db, run, client, headers = reviewer
    queue = client.get(f"/api/runs/{run}/queue", params={"limit": 3}).json()
    state = load_state(db, run)
    assert set(queue["progress"]) == {"reviewed", "open", "until_retrain", "held_out_f1"}
    assert queue["progress"]["reviewed"] == 0 and queue["progress"]["open"] > 3
    item = queue["items"][0]
    assert item["answer"][item["unit_start"] : item["unit_end"]] == item["text"]
    assert {c[0] for c in item["theme_choices"]} == set(state.themes)  # every theme can be chosen
    body = {"action": "confirm", "unit": item["unit_id"], "seen": queue["version"]}
    client.post(f"/api/runs/{run}/corrections", json=body, headers=headers)
    after = client.get(f"/api/runs/{run}/queue", params={"limit": 1}).json()["progress"]
    assert (after["reviewed"], after["open"]) == (1, queue["progress"]["open"] - 1)


def test_every_action_has_its_french_phrase_for_the_stale_view_message():
    assert set(DONE) == set(ACTIONS)
