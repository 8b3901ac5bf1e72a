"""``keras-gan train`` never removes a file it did not write, and resumes with the run's settings.

Each test starts from a directory a user could have: their own files, a finished run, an
interrupted one, or a damaged manifest.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keras_gan.cli import main
from keras_gan.runs import directory as rundir

TINY = ["--width", "4", "--latent-dim", "4", "--batch-size", "8", "--epochs", "1"]


def _train(idx_dir: Path, out: Path, *extra: str) -> int:
    return main(["train", "--dataset", str(idx_dir), "--out", str(out), *TINY, *extra])


def _user_files(out: Path) -> dict[str, bytes]:
    files = {"samples/my_photo.png": b"not ours", "history.json": b'{"mine": 1}', "notes.txt": b"x"}
    for name, data in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    return files


@pytest.mark.parametrize("flags", [[], ["--overwrite"], ["--resume"]])
def test_a_directory_that_is_not_a_run_is_refused_and_untouched(tmp_path, capsys, flags):
    files = _user_files(tmp_path)
    assert main(["train", "--out", str(tmp_path), "--seed", "0", *flags]) == 2
    err = capsys.readouterr().err
    assert "is not a keras-gan run directory" in err and str(tmp_path) in err
    assert "Traceback" not in err
    for name, data in files.items():
        assert (tmp_path / name).read_bytes() == data, name
    assert not (tmp_path / rundir.MANIFEST).exists()


def test_gmm_refuses_a_directory_that_is_not_a_run(tmp_path, capsys):
    files = _user_files(tmp_path)
    assert main(["train", "--model", "gmm", "--out", str(tmp_path), "--overwrite"]) == 2
    assert "is not a keras-gan run directory" in capsys.readouterr().err
    for name, data in files.items():
        assert (tmp_path / name).read_bytes() == data, name


def test_resume_and_overwrite_together_are_an_error(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "r"), "--resume", "--overwrite"]) == 2
    assert "--resume and --overwrite contradict each other" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_finished_run_is_kept_until_overwrite_and_then_only_its_files_go(idx_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(idx_dir, out, "--seed", "0", "--epochs", "2") == 0
    manifest = json.loads((out / rundir.MANIFEST).read_text())
    assert manifest["finished"] is True and manifest["settings"]["seed"] == 0
    assert "samples/epoch_002.png" in manifest["files"]
    (out / "samples" / "my_photo.png").write_bytes(b"user's")
    (out / "mine.txt").write_bytes(b"user's")
    model = (out / "model.keras").read_bytes()

    # Without --overwrite: refused before anything is loaded.
    assert _train(idx_dir, out, "--seed", "1") == 2
    assert "holds a finished run" in capsys.readouterr().err
    # With --overwrite but a bad dataset: refused after validation, nothing removed yet.
    code = main(
        ["train", "--dataset", str(tmp_path / "nowhere"), "--out", str(out), *TINY, "--overwrite"]
    )
    assert code == 2 and "nowhere" in capsys.readouterr().err
    assert (out / "model.keras").read_bytes() == model
    assert (out / "samples" / "epoch_002.png").is_file()

    # A valid --overwrite replaces the run's files; the user's files stay.
    assert _train(idx_dir, out, "--seed", "1", "--overwrite") == 0
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["epoch_001.png", "my_photo.png"]
    assert (out / "samples" / "my_photo.png").read_bytes() == b"user's"
    assert (out / "mine.txt").read_bytes() == b"user's"
    assert json.loads((out / "run.json").read_text())["seed"] == 1


def test_gmm_follows_the_same_rules(idx_dir, tmp_path, capsys):
    out = tmp_path / "gmm"
    args = ["train", "--model", "gmm", "--dataset", str(idx_dir), "--out", str(out)]
    args += ["--components", "2", "--max-iter", "3", "--seed", "0"]
    assert main(args) == 0
    assert json.loads((out / rundir.MANIFEST).read_text())["finished"] is True
    (out / "mine.txt").write_bytes(b"user's")
    assert main(args) == 2
    assert "holds a finished run" in capsys.readouterr().err
    assert main([*args, "--resume"]) == 2
    assert main([*args, "--overwrite"]) == 0
    assert (out / "mine.txt").read_bytes() == b"user's" and (out / "mixture.npz").is_file()


def _interrupted(out: Path, **settings) -> None:
    recorded = {
        "model": "dcgan",
        "dataset": None,
        "limit": None,
        "seed": 3,
        "batch_size": 8,
        "latent_dim": 4,
        "width": 4,
        "d_lr": None,
        "g_lr": None,
        "discriminator_steps": 1,
        "loss": "non_saturating",
        "ema_decay": None,
    }
    recorded.update(settings)
    rundir.claim(out, files=["model.keras"], dirs=["backup"], settings=recorded)


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--seed", "4"], "--seed 4"),
        (["--batch-size", "16"], "--batch-size 16"),
        (["--limit", "32"], "--limit 32"),
        (["--model", "wgan"], "--model 'wgan'"),
    ],
)
def test_resume_refuses_settings_that_differ_from_the_run(idx_dir, tmp_path, capsys, flags, named):
    _interrupted(tmp_path, dataset=str(idx_dir))
    assert main(["train", "--out", str(tmp_path), "--resume", *flags]) == 2
    err = capsys.readouterr().err
    assert named in err and "differs from the run being resumed" in err, err
    assert "Traceback" not in err


def test_resume_takes_the_recorded_settings(idx_dir, tmp_path, capsys):
    _interrupted(tmp_path, dataset=str(idx_dir))
    assert main(["train", "--out", str(tmp_path), "--resume", "--epochs", "1"]) == 0
    run = json.loads((tmp_path / "run.json").read_text())
    assert (run["seed"], run["batch_size"], run["latent_dim"], run["dataset"]) == (
        3,
        8,
        4,
        str(idx_dir),
    )
    assert "no backup" in capsys.readouterr().err  # nothing to restore: from scratch


def test_a_manifest_naming_paths_outside_the_run_is_refused(tmp_path, capsys):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    out = tmp_path / "run"
    rundir.claim(out, files=[], settings={})
    data = json.loads((out / rundir.MANIFEST).read_text())
    data.update(finished=True, files=["../precious.txt"])
    (out / rundir.MANIFEST).write_text(json.dumps(data))
    assert main(["train", "--out", str(out), "--overwrite"]) == 2
    assert "not a path inside the run directory" in capsys.readouterr().err
    assert outside.read_text() == "keep"


def test_overwrite_also_removes_temporaries_of_its_own_files_only(tmp_path):
    out = tmp_path / "run"
    rundir.claim(out, files=["model.keras", "samples/epoch_001.png"], settings={})
    rundir.finish(out)
    ours = [out / ".tmp-0123abcd.model.keras", out / "samples" / ".tmp-89abcdef.epoch_001.png"]
    theirs = [out / ".tmp-0123abcd.notes.txt", out / "samples" / ".hidden.png"]
    for path in [*ours, *theirs]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    removed = rundir.remove_owned(rundir.inspect_run(out))
    assert sorted(removed) == [".tmp-0123abcd.model.keras", "samples/.tmp-89abcdef.epoch_001.png"]
    assert all(path.exists() for path in theirs) and not any(path.exists() for path in ours)


def test_fit_verbosity_is_a_bar_on_a_terminal_and_a_line_per_epoch_elsewhere():
    import io

    from keras_gan.runs.training import fit_verbosity

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert fit_verbosity("auto", Terminal()) == 1
    assert fit_verbosity("auto", io.StringIO()) == 2
    assert fit_verbosity(0, Terminal()) == 0
