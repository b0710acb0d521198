"""``benzokit admin import-scale``: a licensed scale file validated whole, then added to the overlay;
a broken one (a missing item) is named with its file and field, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cli_support import Outcome

from benzokit.knowledge import Knowledge
from benzokit.monitor.scales import load_scales

DATA = Path(__file__).parents[2] / "src/benzokit/monitor/data"
CHECKLIST = "scale_withdrawal_checklist.toml"


def _without_item(text: str, item: str) -> str:
    start = text.index(f'[[scales.withdrawal_checklist.items]]\nid = "{item}"')
    end = text.index("[[scales.withdrawal_checklist.items]]", start + 10)
    return text[:start] + text[end:]


def test_a_valid_scale_file_is_imported_into_the_overlay(
    run_cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    overlay = tmp_path / "clinic"
    overlay.mkdir()
    source = tmp_path / CHECKLIST
    source.write_text(
        (DATA / CHECKLIST).read_text().replace('version = "1"', 'version = "1-clinic"')
    )
    done = run_cli("admin", "import-scale", str(source), "--into", str(overlay))
    assert done.exit_code == 0, done
    assert "imported" in done.stdout
    assert (overlay / CHECKLIST).read_text() == source.read_text()
    assert load_scales(Knowledge(overlay)).get("withdrawal_checklist").version == "1-clinic"


def test_a_missing_item_is_named_and_nothing_is_written(
    run_cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    overlay = tmp_path / "clinic"
    overlay.mkdir()
    text = _without_item((DATA / CHECKLIST).read_text(), "panic")
    broken = tmp_path / CHECKLIST
    broken.write_text(text.replace("item_count = 13\n", "").replace("high = 39", "high = 36"))
    failed = run_cli("admin", "import-scale", str(broken), "--into", str(overlay))
    assert failed.exit_code == 2, failed
    assert str(broken) in failed.stderr
    assert (
        "scales.withdrawal_checklist.items" in failed.stderr and "missing: panic" in failed.stderr
    )
    assert list(overlay.iterdir()) == []
    # counted by the file itself: the item count of the instrument
    counted = tmp_path / "counted" / CHECKLIST
    counted.parent.mkdir()
    counted.write_text(text.replace("high = 39", "high = 36"))
    failed = run_cli("admin", "import-scale", str(counted), "--into", str(overlay))
    assert failed.exit_code == 2 and "an item is missing" in failed.stderr, failed
    assert list(overlay.iterdir()) == []


def test_a_placeholder_or_misnamed_file_is_refused(
    run_cli: Callable[..., Outcome], tmp_path: Path
) -> None:
    overlay = tmp_path / "clinic"
    overlay.mkdir()
    copied = tmp_path / "scale_ciwa_b.toml"
    copied.write_text((DATA / "scale_ciwa_b.toml").read_text())
    placeholder = run_cli("admin", "import-scale", str(copied), "--into", str(overlay))
    assert placeholder.exit_code == 2 and "placeholder" in placeholder.stderr, placeholder
    misnamed = tmp_path / "ciwa.toml"
    misnamed.write_text("x = 1")
    refused = run_cli("admin", "import-scale", str(misnamed), "--into", str(overlay))
    assert refused.exit_code == 2 and "scale_*.toml" in refused.stderr, refused
    assert list(overlay.iterdir()) == []
