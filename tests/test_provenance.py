"""Folders replaced whole, and folders one process writes at a time."""

import subprocess
import sys
from pathlib import Path

import pytest

from reczoo import provenance
from reczoo.benchmark.rows import read_rows


def _tree(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()
    }


def _write_new(target, overwrite=True):
    with provenance.staged_folder(target, overwrite=overwrite) as staging:
        (staging / "a.txt").write_text("new a")
        (staging / "b.txt").write_text("new b")


@pytest.fixture
def old(tmp_path):
    target = tmp_path / "preset"
    target.mkdir()
    (target / "a.txt").write_text("old a")
    (target / "c.txt").write_text("old c")
    return target


def _leftovers(target):
    return sorted(p.name for p in target.parent.iterdir() if p.name != target.name)


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "rename-aside"])
def test_a_kill_at_any_point_of_a_replace_leaves_old_or_new_whole(old, monkeypatch, exchange):
    if not exchange:  # the path of systems without renameat2
        monkeypatch.setattr(provenance, "_exchange", lambda a, b: False)
    real_rename = Path.rename
    # Each rename a replace makes, killed in turn (a kill inside the block is
    # the case `count=0`): the old folder or the new one is there, whole.
    for count in range(4):
        calls = []

        def rename(self, target, count=count, calls=calls):
            calls.append(target)
            if len(calls) == count:  # a SIGTERM here (it unwinds as Ctrl-C does)
                raise KeyboardInterrupt
            return real_rename(self, target)

        monkeypatch.setattr(Path, "rename", rename)
        before = _tree(old)
        try:
            if count == 0:
                with provenance.staged_folder(old, overwrite=True) as staging:
                    (staging / "a.txt").write_text("half")
                    raise KeyboardInterrupt
            _write_new(old)
        except KeyboardInterrupt:
            pass
        monkeypatch.setattr(Path, "rename", real_rename)
        after = _tree(old)
        assert after in (before, {"a.txt": "new a", "b.txt": "new b"}), (count, after)
        assert _leftovers(old) == [], (count, _leftovers(old))
        # Back to the old folder for the next point.
        for p in old.iterdir():
            p.unlink()
        (old / "a.txt").write_text("old a")
        (old / "c.txt").write_text("old c")


def test_two_suites_on_one_folder_keep_each_others_rows(tmp_path):
    # Each writer adds its rows one by one, as a suite does after each entry.
    code = (
        "import sys\nfrom reczoo.benchmark.rows import update_rows\n"
        "for i in range(30):\n"
        "    update_rows(sys.argv[2], [{'run_id': f'{sys.argv[1]}-{i}', 'status': 'ok'}])\n"
    )
    writers = [subprocess.Popen([sys.executable, "-c", code, w, str(tmp_path)]) for w in "ab"]
    assert [w.wait(timeout=300) for w in writers] == [0, 0]
    found = sorted(r["run_id"] for r in read_rows(tmp_path))
    assert found == sorted(f"{w}-{i}" for w in "ab" for i in range(30))
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_held_folder_is_refused_at_once_or_waited_for(tmp_path):
    with provenance.folder_lock(tmp_path):
        code = (
            "import sys\nfrom reczoo import provenance\n"
            "try:\n    with provenance.folder_lock(sys.argv[1], wait=False):\n        pass\n"
            "except provenance.FolderInUse as e:\n    print(e)\n    sys.exit(3)\n"
        )
        done = subprocess.run([sys.executable, "-c", code, str(tmp_path)],
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 3 and "in use by another reczoo process" in done.stdout
    (tmp_path / "file").write_text("x")
    with (
        pytest.raises(FileExistsError, match="is a file, not a folder"),
        provenance.folder_lock(tmp_path / "file"),
    ):
        pass
