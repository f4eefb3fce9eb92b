"""One colour per method across figures, and the log-scale decision (paper_figures/style.py)."""

from __future__ import annotations

from paper_figures.common import METHOD_ORDER
from paper_figures.style import method_style, needs_log_scale


def test_every_known_method_has_its_own_fixed_colour_and_display_name():
    styles = [method_style(m) for m in METHOD_ORDER]
    assert len({s["color"] for s in styles}) == len(METHOD_ORDER)
    assert len({s["marker"] for s in styles}) == len(METHOD_ORDER)  # coinciding lines stay distinguishable
    assert method_style("nsr") == method_style("nsr") and method_style("nsr")["label"] == "NSR (λ=0)"
    assert method_style("w_reinforce")["label"] == "W-REINFORCE (λ=0.1)"


def test_log_scale_only_when_one_line_dwarfs_the_others():
    assert needs_log_scale([[0.5, 0.7, 0.6], [80.0, 120.0, 95.0]])  # typical 0.6 vs 95: ratio > 100
    assert not needs_log_scale([[0.5, 0.7, 0.6], [5.0, 7.0, 6.0]])  # ratio 10
    assert not needs_log_scale([[1.0, 2.0]])  # one line
    assert not needs_log_scale([[0.0, 0.0], [3.0, 4.0]])  # zeros carry no magnitude
