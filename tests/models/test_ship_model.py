"""scripts/ship_model.py: the model card's replaceable and added sections."""

import sys

import pytest

pytestmark = pytest.mark.tf
pytest.importorskip("keras")

from conftest import REPO  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
try:
    import ship_model  # noqa: E402
finally:
    sys.path.remove(str(REPO / "scripts"))

CARD = (
    "# m\n\nintro\n\n## Training data\n\nold data\n\n## Evaluation\n\nscores\n\n"
    "## Known limits\n\n* old\n"
)


def test_a_section_of_the_same_heading_replaces_the_generated_one():
    card = ship_model.with_sections(CARD, "## Training data\n\nnew data\n")
    assert "new data" in card and "old data" not in card
    assert card.index("## Training data") < card.index("## Evaluation")  # in its place
    assert card.startswith("# m\n\nintro\n\n")


def test_other_sections_go_before_known_limits_in_their_order():
    extra = "## Real check\n\nshares\n## Dev-cross\n\ntable\n\n## Known limits\n\n* new\n"
    card = ship_model.with_sections(CARD, extra)
    order = [line for line in card.splitlines() if line.startswith("## ")]
    assert order == ["## Training data", "## Evaluation", "## Real check", "## Dev-cross",
                     "## Known limits"]  # fmt: skip
    assert "* new" in card and "* old" not in card
    assert card.endswith("* new\n")


def test_without_known_limits_added_sections_go_at_the_end():
    card = ship_model.with_sections("# m\n\n## A\n\na\n", "## B\n\nb\n")
    assert card == "# m\n\n## A\n\na\n\n## B\n\nb\n"
