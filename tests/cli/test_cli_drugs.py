"""`benzokit drugs` and `benzokit drug NAME`: the knowledge base, every figure with a source."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from cli_support import Outcome, invoke_benzokit, normalise

from benzokit._disclaimer import DISCLAIMER
from benzokit.drugs import list_drugs

RunCli = Callable[..., Outcome]
WIDE = 1000  # terminal columns: wide enough that Rich never folds a cell
PLACEHOLDER = re.compile(r"\b(todo|tbd|fixme|unknown|placeholder)\b|\?\?", re.IGNORECASE)


def _ok(outcome: Outcome) -> str:
    assert outcome.exception is None, repr(outcome.exception)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stderr == ""
    assert "Traceback" not in outcome.stdout
    return outcome.stdout


def _table_rows(text: str) -> list[list[str]]:
    """Cells of each body row of the first Rich table in ``text`` (rows joined across lines)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("┡"))
    rows: list[list[str]] = []
    current: list[str] | None = None
    for line in lines[start + 1 :]:
        if line.startswith("└"):
            break
        if line.startswith("├"):
            current = None
            continue
        assert line.startswith("│"), line
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if current is None:
            current = cells
            rows.append(current)
        else:
            for index, cell in enumerate(cells):
                current[index] = f"{current[index]} {cell}".strip()
    return rows


def test_drugs_lists_the_knowledge_base(run_cli: RunCli) -> None:
    text = normalise(_ok(run_cli("drugs", columns=WIDE)))
    assert "benzokit knowledge base" in text
    for name in list_drugs():
        assert name in text
    assert "clonazepam" in text
    assert "30–40" in text  # clonazepam half-life, h (Klonopin label)
    assert normalise(DISCLAIMER) in text


def test_drugs_json() -> None:
    payload = json.loads(_ok(invoke_benzokit(["drugs", "--json"])))
    assert payload["disclaimer"] == DISCLAIMER
    entries = {d["name"]: d for d in payload["drugs"]}
    assert sorted(entries) == sorted(list_drugs())
    clonazepam = entries["clonazepam"]
    assert clonazepam["class"] == "benzodiazepine"
    assert clonazepam["half_life_h"] == "30–40"
    equivalent_mg = clonazepam["diazepam_10mg_equivalent_mg"]
    assert equivalent_mg == sorted(equivalent_mg)
    assert 0 < equivalent_mg[0] <= equivalent_mg[-1] <= 2
    assert clonazepam["products"]
    assert all("mg" in p for p in clonazepam["products"])


def test_drug_clonazepam_table_every_row_has_a_source(run_cli: RunCli) -> None:
    text = _ok(run_cli("drug", "clonazepam", columns=WIDE))
    facts = json.loads(_ok(invoke_benzokit(["drug", "clonazepam", "--json"])))["facts"]
    rows = _table_rows(text)
    assert len(rows) == len(facts) > 10
    for row in rows:
        assert len(row) == 3, row
        fact, value, source = row
        assert fact
        assert value
        assert len(source) > 10, f"no source for {fact!r}"
    assert [row[0] for row in rows] == [f["fact"] for f in facts]
    flat = normalise(text)
    assert "How the PK parameters were chosen:" in flat
    assert normalise(DISCLAIMER) in flat


@pytest.mark.parametrize("name", list_drugs())
def test_drug_json_every_fact_has_a_citation(name: str) -> None:
    payload = json.loads(_ok(invoke_benzokit(["drug", name, "--json"])))
    assert payload["name"] == name
    assert payload["disclaimer"] == DISCLAIMER
    facts = payload["facts"]
    assert facts
    for fact in facts:
        assert set(fact) == {"fact", "value", "source", "verified"}
        assert fact["value"].strip(), fact
        # A real citation (publication, label or stated convention), not a placeholder.
        assert len(fact["source"]) > 20, fact
        assert not PLACEHOLDER.search(fact["source"]), fact
        assert isinstance(fact["verified"], bool)


def test_drug_clonazepam_key_facts() -> None:
    facts = json.loads(_ok(invoke_benzokit(["drug", "clonazepam", "--json"])))["facts"]
    by_name: dict[str, dict[str, Any]] = {f["fact"]: f for f in facts}
    molar_mass = float(by_name["molar mass"]["value"].split()[0])
    assert molar_mass == pytest.approx(315.71, abs=0.05)  # C15H10ClN3O3 (PubChem CID 2802)
    assert "30" in by_name["PK half_life_h"]["value"]
    assert "40" in by_name["PK half_life_h"]["value"]
    assert any(f["fact"].startswith("interaction:") for f in facts)


@pytest.mark.parametrize("name", ["clonazepam", "Clonazepam", "CLONAZEPAM", " clonazepam "])
def test_drug_name_is_case_and_space_insensitive(name: str) -> None:
    payload = json.loads(_ok(invoke_benzokit(["drug", name, "--json"])))
    assert payload["name"] == "clonazepam"
