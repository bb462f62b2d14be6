"""scripts/ship_model.py: the model card's replaceable and added sections."""

import json
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


def test_onnx_only_refreshes_the_cards_onnx_line(tmp_path):
    config = {
        "onnx": {"file": "model.onnx", "opset": 17, "converter": "tf2onnx 1.17.0",
                 "sha256": "ab" * 32, "max_head_difference": 5.4e-05},
    }  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps(config))
    card = (
        "# m\n\n* Parameters: 1\n* ONNX export `model.onnx` (opset 17, tf2onnx 1.17.0), sha256\n"
        "  `" + "cd" * 32 + "` (checked at load): old\n  text; every head within 7.3e-05.\n"
        "* Architecture: x\n\n## Training\n"
    )
    (tmp_path / "MODEL_CARD.md").write_text(card)
    ship_model.refresh_card_onnx(tmp_path)
    new = (tmp_path / "MODEL_CARD.md").read_text()
    assert "ab" * 32 in new and "cd" * 32 not in new and "5.4e-05" in new
    assert new.replace(ship_model.onnx_bullet(config) + "\n", "") == card.replace(
        card[card.index("* ONNX") : card.index("* Architecture")], ""
    )
