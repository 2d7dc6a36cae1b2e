"""Suites are lists of recipes, and a suite run never overwrites a row file."""

import run_suite
import suites


def test_taken_row_files_get_a_numbered_name(tmp_path):
    row = tmp_path / "2026-11-30-frappe-x1-deepfm.json"
    assert run_suite.unused_path(row) == row
    row.write_text("{}")
    assert run_suite.unused_path(row).name == "2026-11-30-frappe-x1-deepfm-2.json"
    (tmp_path / "2026-11-30-frappe-x1-deepfm-2.json").write_text("{}")
    assert run_suite.unused_path(row).name == "2026-11-30-frappe-x1-deepfm-3.json"
    assert row.read_text() == "{}"


def test_suites_name_registered_recipes():
    for suite in suites.SUITES:
        entries = suites.entries(suite)
        assert entries
        for recipe, label in entries:
            assert recipe.name.startswith(label + "/")
