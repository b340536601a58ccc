"""overwrite=True starts a tunelab project clean, and deletes nothing that tunelab did not
write: pointed at a folder that is not a tunelab project, it leaves the folder's files."""

from __future__ import annotations

import tunelab as kt


def _search(tmp_path, overwrite):
    tuner = kt.RandomSearch(
        lambda hp: hp.Float("x", 0.0, 1.0),
        objective="loss",
        max_trials=2,
        seed=0,
        directory=tmp_path,
        project_name="mine",
        overwrite=overwrite,
    )
    tuner.search(verbose=0)
    return tuner


def test_overwrite_in_a_folder_that_is_not_a_tunelab_project_deletes_nothing(tmp_path):
    notes = tmp_path / "mine" / "trial_1" / "notes.txt"
    notes.parent.mkdir(parents=True)
    notes.write_text("the user's own trial notes")
    _search(tmp_path, overwrite=True)
    assert notes.read_text() == "the user's own trial notes"


def test_overwrite_of_a_tunelab_project_removes_its_trial_folders(tmp_path):
    first = _search(tmp_path, overwrite=False)
    saved = first.get_trial_dir("0")
    saved.mkdir(parents=True)
    (saved / "checkpoint").write_text("old")
    again = _search(tmp_path, overwrite=True)
    assert not (saved / "checkpoint").exists()  # the old project's files are gone
    assert len(again.oracle.trials) == 2
