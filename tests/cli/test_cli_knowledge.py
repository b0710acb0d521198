"""``benzokit --knowledge DIR``: a clinic's adjusted files, validated whole, named when wrong."""

from __future__ import annotations

from pathlib import Path

from cli_support import invoke_benzokit, normalise

from benzokit.knowledge import Knowledge


def _overlay_with_rules(folder: Path, extra: str = "") -> Path:
    text = Knowledge.shipped().path("rules.toml").read_text(encoding="utf-8")
    (folder / "rules.toml").write_text(text + extra, encoding="utf-8")
    return folder


def test_knowledge_shows_the_shipped_version_without_an_overlay() -> None:
    outcome = invoke_benzokit(["knowledge"])
    assert outcome.exit_code == 0, outcome.stderr
    assert Knowledge.shipped().version in outcome.stdout
    assert "no --knowledge folder" in outcome.stdout


def test_an_overlay_is_named_with_the_files_it_replaces(tmp_path: Path) -> None:
    overlay = _overlay_with_rules(tmp_path)
    outcome = invoke_benzokit(["--knowledge", str(overlay), "knowledge"])
    assert outcome.exit_code == 0, outcome.stderr
    assert Knowledge.with_overlay(overlay).version in outcome.stdout
    assert "rules.toml: replaces the shipped file" in normalise(outcome.stdout)
    # the next invocation in the same process is back on the shipped files
    assert Knowledge.shipped().version in invoke_benzokit(["knowledge"]).stdout


def test_a_broken_overlay_file_fails_before_any_command_and_is_blamed_on_the_overlay(
    tmp_path: Path,
) -> None:
    overlay = _overlay_with_rules(tmp_path, '\n[unexpected]\nkey = "value"\n')
    outcome = invoke_benzokit(["--knowledge", str(overlay), "drugs"])
    assert outcome.exit_code == 3
    message = normalise(outcome.stderr)
    assert str(overlay / "rules.toml") in message and "unexpected" in message
    assert "--knowledge" in message and "shipped with benzokit is damaged" not in message
    assert outcome.exception is None


def test_an_overlay_file_that_replaces_nothing_is_refused(tmp_path: Path) -> None:
    (tmp_path / "rule.toml").write_text("", encoding="utf-8")
    outcome = invoke_benzokit(["--knowledge", str(tmp_path), "drugs"])
    assert outcome.exit_code == 3
    assert "replaces no shipped file" in normalise(outcome.stderr)
