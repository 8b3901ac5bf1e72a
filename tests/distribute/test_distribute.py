"""keras_gan.distribute in one process: TF_CONFIG and roles, strategy errors, step-keyed data
order, fit phases, dropout seed states in checkpoints, the divergence stop keeping the last good
backup (through ``keras-gan train``), and the local launcher's fail-fast."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import distribute
from keras_gan.cli import main
from keras_gan.data.resumable import resumable_dataset
from keras_gan.runs import workers
from keras_gan.runs.backup import fit_phases, restore_step

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import launch_workers  # noqa: E402


def _config(kind: str, index: int, jobs: dict[str, list[str]] | None = None) -> dict[str, str]:
    jobs = jobs or {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    return {"TF_CONFIG": json.dumps({"cluster": jobs, "task": {"type": kind, "index": index}})}


# ---------------------------------------------------------------------- TF_CONFIG and roles


def test_chief_is_worker_zero_or_the_chief_job():
    assert distribute.is_chief(environ={})
    assert distribute.is_chief(environ=_config("worker", 0))
    assert not distribute.is_chief(environ=_config("worker", 1))
    jobs = {"chief": ["127.0.0.1:1"], "worker": ["127.0.0.1:2"]}
    assert distribute.is_chief(environ=_config("chief", 0, jobs))
    assert not distribute.is_chief(environ=_config("worker", 0, jobs))
    assert distribute.task(_config("worker", 1)) == ("worker", 1)
    # Strategies without a cluster are always the chief, whatever TF_CONFIG says.
    assert distribute.is_chief(tf.distribute.get_strategy(), environ=_config("worker", 1))


def test_each_worker_backs_up_to_its_own_directory(tmp_path):
    assert workers.backup_dir(tmp_path, environ={}) == tmp_path / "backup"
    assert workers.backup_dir(tmp_path, environ=_config("worker", 0)) == tmp_path / "backup"
    worker = workers.backup_dir(tmp_path, environ=_config("worker", 1))
    assert worker == tmp_path / "backup-worker-1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"task": {"type": "worker", "index": 0}}', "has no cluster"),
        ('{"cluster": {"worker": "a:1"}}', "list of 'host:port'"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "'ps'"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}', "index 3"),
    ],
)
def test_bad_tf_config_is_named(text, message):
    with pytest.raises(distribute.StrategyError, match=message):
        distribute.tf_config({"TF_CONFIG": text})


def test_strategy_errors_name_the_bad_value(monkeypatch):
    with pytest.raises(distribute.StrategyError, match=r"unknown strategy 'tpu'.*mirrored"):
        distribute.get_strategy("tpu")
    with pytest.raises(distribute.StrategyError, match=r"'/gpu:7' does not exist.*CPU:0"):
        distribute.get_strategy("mirrored", ["/gpu:7"])
    with pytest.raises(distribute.StrategyError, match="non-empty list"):
        distribute.get_strategy("mirrored", "/cpu:0")
    with pytest.raises(distribute.StrategyError, match="takes no device list"):
        distribute.get_strategy("multiworker", ["/cpu:0"])
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(distribute.StrategyError, match="needs TF_CONFIG"):
        distribute.get_strategy("multiworker")
    one = distribute.get_strategy("default", ["/cpu:0"])
    assert isinstance(one, tf.distribute.OneDeviceStrategy)
    mirrored = distribute.get_strategy("mirrored", ["/cpu:0"])
    assert mirrored.num_replicas_in_sync == 1


def test_cli_multiworker_without_tf_config_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    args = ["train", "--strategy", "multiworker", "--seed", "0", "--out", str(tmp_path / "r")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "needs TF_CONFIG" in err and "Traceback" not in err


def test_cli_multiworker_needs_a_seed(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TF_CONFIG", _config("worker", 0)["TF_CONFIG"])
    assert main(["train", "--strategy", "multiworker", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "needs --seed" in err and "Traceback" not in err


def test_a_run_that_fails_before_training_leaves_no_backup(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "--dataset", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert "no such directory" in capsys.readouterr().err
    assert not (out / "backup").exists()  # so the next run needs no --resume/--overwrite


def test_the_drawn_seed_is_recorded_for_resume(tmp_path):
    from keras_gan.runs import training

    backup = tmp_path / "backup"
    drawn = training._run_seed(None, backup)
    assert not backup.exists()
    training._record_seed(backup, drawn)
    assert training._run_seed(None, backup) == drawn
    assert training._run_seed(7, backup) == 7


def test_scalar_logs_are_untouched_outside_a_cluster():
    logs = distribute.scalar_logs_workaround({"d_loss": tf.constant(1.5)})
    assert logs["d_loss"].shape == () and float(logs["d_loss"]) == 1.5


def test_build_in_scope_refuses_an_unbuilt_model():
    with pytest.raises(ValueError, match="not built"):
        distribute.build_in_scope(
            tf.distribute.get_strategy(), lambda: keras.Sequential([keras.layers.Dense(1)])
        )


def test_synchronize_batch_norm_switches_every_layer():
    from keras_gan.networks import dcgan_generator

    generator = dcgan_generator(4, (8, 8, 1), width=4)
    count = distribute.synchronize_batch_norm(generator)
    layers = [x for x in generator.layers if isinstance(x, keras.layers.BatchNormalization)]
    assert count == len(layers) > 0 and all(x.synchronized for x in layers)
    assert distribute.synchronize_batch_norm(generator) == 0


def test_synchronize_batch_norm_switches_batch_statistics_critics_too():
    from keras_gan.networks import BatchStatNormalization, strided_discriminator

    critic = strided_discriminator((8, 8, 1), width=4, norm="batch_stats")
    norms = [x for x in critic.layers if isinstance(x, BatchStatNormalization)]
    assert len(norms) == 1 and not norms[0].synchronized
    assert distribute.synchronize_batch_norm(critic) == 1 and norms[0].synchronized


# ---------------------------------------------------------------------- resumable data


def _rows(ds: tf.data.Dataset) -> list[list[int]]:
    return [b.numpy().astype(int).ravel().tolist() for b in ds]


def test_data_order_is_a_function_of_the_step():
    data = np.arange(10)
    full = _rows(resumable_dataset(data, 3, seed=5, total_steps=9))
    assert len(full) == 9 and all(len(b) == 3 for b in full)
    # Each epoch (3 steps, one sample dropped) visits distinct samples, in a new order.
    epochs = [[x for b in full[i : i + 3] for x in b] for i in (0, 3, 6)]
    assert all(len(set(e)) == 9 for e in epochs)
    assert epochs[0] != epochs[1] != epochs[2]
    # Starting at any step gives the tail of the uninterrupted sequence.
    for start in (1, 3, 4, 8):
        tail = _rows(resumable_dataset(data, 3, seed=5, start_step=start, total_steps=9))
        assert tail == full[start:], start
    other = _rows(resumable_dataset(data, 3, seed=6, total_steps=9))
    assert other != full


def test_resumable_dataset_rejects_bad_arguments():
    with pytest.raises(ValueError, match="4 samples make no full batch of 5"):
        resumable_dataset(np.zeros(4), 5, seed=0)
    with pytest.raises(ValueError, match="start_step"):
        resumable_dataset(np.zeros(8), 2, seed=0, start_step=5, total_steps=3)


def test_fit_phases_finish_a_partial_epoch_first():
    assert fit_phases(0, 3, 4) == [(0, 3, 4, 0)]
    assert fit_phases(6, 3, 4) == [(1, 2, 2, 6), (2, 3, 4, 8)]
    assert fit_phases(7, 2, 4) == [(1, 2, 1, 7)]
    assert fit_phases(8, 2, 4) == []


# ---------------------------------------------------------------------- checkpoints


def test_weights_carry_dropout_seed_states_and_optimizer_steps(tmp_path):
    from keras_gan.models import build

    def make():
        return build("dcgan", image_shape=(8, 8, 1), latent_dim=4, width=4, seed=0)

    gan = make()
    data = np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 1)).astype("float32")
    gan.fit(data, batch_size=8, epochs=1, verbose=0)
    states = gan._seed_states()
    assert states, "the DCGAN discriminator has dropout"
    path = tmp_path / "w.weights.h5"
    gan.save_weights(path)
    clone = make()
    assert any(
        not np.array_equal(a.numpy(), b.numpy())
        for a, b in zip(states, clone._seed_states(), strict=True)
    )
    assert restore_step(clone, tmp_path / "none") == 0
    clone.load_weights(path)
    for a, b in zip(states, clone._seed_states(), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(clone.g_optimizer.iterations.numpy()) == 2


def _nan_step(seed: int, n: int, batch: int, bad: int) -> int:
    """The step at which row ``bad`` first appears in train.py's data order."""
    order = _rows(resumable_dataset(np.arange(n), batch, seed=seed, total_steps=n // batch))
    for step, rows in enumerate(order):
        if bad in rows:
            return step
    raise AssertionError("unreachable")


def test_nan_data_stops_training_and_keeps_the_last_good_backup(tmp_path, monkeypatch, capsys):
    import keras_gan.data as data_module

    n, batch, bad = 64, 8, 5
    seed = next(s for s in range(100) if 3 <= _nan_step(s, n, batch, bad) < 8)
    step = _nan_step(seed, n, batch, bad)
    images = np.random.default_rng(0).uniform(0, 255, (n, 8, 8, 1)).astype("float32")
    images[bad, 2, 3, 0] = np.nan

    def load_arrays(name, split="train", data_dir=None):
        return images, np.zeros(n, np.int64)

    monkeypatch.setattr(data_module, "load_arrays", load_arrays)
    out = tmp_path / "run"
    args = ["train", "--model", "dcgan", "--dataset", "nan-images", "--out", str(out)]
    args += ["--epochs", "2"]
    args += ["--batch-size", str(batch), "--width", "4", "--latent-dim", "4"]
    args += ["--seed", str(seed), "--backup-every", "1"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"d_loss became nan at epoch 1, batch {step + 1}" in err, err
    assert f"kept in {out / 'backup'}" in err and "Traceback" not in err
    # The backup holds the state after the last finite step, and it restores.
    from keras_gan.models import build

    clone = build("dcgan", image_shape=(8, 8, 1), latent_dim=4, width=4, seed=seed)
    assert restore_step(clone, out / "backup") == step
    assert all(np.isfinite(w).all() for w in clone.get_weights())
    assert not (out / "model.keras").exists()


# ---------------------------------------------------------------------- launcher


def test_launcher_gives_each_worker_its_task(tmp_path):
    configs = [json.loads(c) for c in launch_workers.cluster_configs(3)]
    addresses = configs[0]["cluster"]["worker"]
    assert len(set(addresses)) == 3 and all(a.startswith("127.0.0.1:") for a in addresses)
    assert [c["task"] for c in configs] == [{"type": "worker", "index": i} for i in range(3)]
    assert all(c["cluster"] == configs[0]["cluster"] for c in configs)
    script = "import json, os, sys; t = json.loads(os.environ['TF_CONFIG'])['task']; "
    script += f"open(r'{tmp_path}/' + str(t['index']), 'w').write('ok')"
    assert launch_workers.main(["-n", "2", "--exec", "--", sys.executable, "-c", script]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0", "1"]


def test_launcher_stops_every_worker_when_one_fails(capsys):
    script = (
        "import json, os, sys, time; i = json.loads(os.environ['TF_CONFIG'])['task']['index']; "
        "print('hello from', i, flush=True); time.sleep(0.5) if i else None; "
        "sys.exit(3) if i == 1 else time.sleep(120)"
    )
    command = ["-n", "2", "--timeout", "60", "--exec", "--", sys.executable, "-c", script]
    assert launch_workers.main(command) == 3
    out = capsys.readouterr().out
    assert "[worker 0] hello from 0" in out and "[worker 1] hello from 1" in out
    assert "worker 1 exited with 3; stopping the others" in out


def test_launcher_refuses_a_strategy_argument():
    with pytest.raises(SystemExit):
        launch_workers.main(["-n", "2", "--", "--strategy", "mirrored"])
