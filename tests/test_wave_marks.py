"""The run page and the report mark a change between waves ▲/▼ only when it is beyond sampling noise."""

from types import SimpleNamespace

import pytest

from review.store import Store
from web.deps import WebContext


@pytest.fixture(scope="module")
def change():
    env = WebContext(Store("sqlite://")).templates.env
    macro = env.from_string('{% from "_macros.html" import change %}{{ change(t) }}')
    return lambda **theme: " ".join(macro.render(t=SimpleNamespace(proposed=False, **theme)).split())


def test_a_significant_rise_or_fall_is_marked_and_a_noisy_one_is_not(change):
    assert change(change_pts=15.0, change_significant=True).startswith('+15,0 pt <span class="sig above"')
    assert change(change_pts=15.0, change_significant=True).endswith(">▲</span>")
    assert change(change_pts=-20.0, change_significant=True).endswith(">▼</span>")
    assert change(change_pts=4.5, change_significant=False) == "+4,5 pt"
    assert change(change_pts=None, change_significant=False) == ""
