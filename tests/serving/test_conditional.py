"""Class-conditional exports in keras_gan.serving: Sampler labels by name and index, the errors
for a missing, unknown or out-of-range class in Python, `keras-gan sample` and a real REST
server on 127.0.0.1, and no TensorFlow or Keras on the path."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from keras_gan.serving import Client, Limits, Sampler, ServingError, make_app
from keras_gan.serving.images import to_uint8
from keras_gan.serving.latent import latent

from keras_gan.cli import CommandError
from keras_gan.cli import sample as sample_command
from tests._serving_export import (
    CLASS_NAMES,
    IMAGE_SHAPE,
    LATENT_DIM,
    NUM_CLASSES,
    conditional_exports,
    tiny_exports,
)
from tests.serving.test_server import call, http, running


@pytest.fixture(scope="module")
def base(pytestconfig, tmp_path_factory) -> Path:
    return conditional_exports(pytestconfig, tmp_path_factory) / "conditional"


@pytest.fixture(scope="module")
def unconditional(pytestconfig, tmp_path_factory) -> Path:
    return tiny_exports(pytestconfig, tmp_path_factory) / "base"


@pytest.fixture(scope="module")
def sampler(base) -> Sampler:
    return Sampler(base)


@pytest.fixture(scope="module")
def app(base):
    app = make_app(base, name="cgan", limits=Limits(max_body_bytes=4096, max_batch=8))
    yield app
    app.close()


# -- Sampler -----------------------------------------------------------------------------------


def test_sampler_reads_the_classes(sampler, base):
    assert sampler.conditional
    assert sampler.num_classes == NUM_CLASSES
    assert sampler.class_names == CLASS_NAMES
    metadata = json.loads((base / "1" / "assets" / "keras_gan.json").read_text())
    assert metadata["num_classes"] == NUM_CLASSES
    assert metadata["class_names"] == list(CLASS_NAMES)
    assert "num_classes=3" in repr(sampler)


def test_sample_by_name_and_index_equals_generate_and_the_onnx_sample_model(sampler, base):
    z = latent(6, 11, LATENT_DIM)
    session = ort.InferenceSession(str(base / "1" / "model.sample.onnx"))
    assert [i.name for i in session.get_inputs()] == ["n", "seed", "label"]
    per_class = []
    for index, name in enumerate(CLASS_NAMES):
        images = sampler.sample(6, seed=11, label=index)
        assert images.dtype == np.uint8 and images.shape == (6, *IMAGE_SHAPE)
        np.testing.assert_array_equal(sampler.sample(6, seed=11, label=name), images)
        np.testing.assert_array_equal(sampler.sample(6, seed=11, label=name.upper()), images)
        np.testing.assert_array_equal(sampler.sample(6, seed=11, label=str(index)), images)
        expected = to_uint8(sampler.generate(z, labels=np.full(6, index)))
        np.testing.assert_array_equal(images, expected)
        feed = {
            "n": np.array(6, np.int32),
            "seed": np.array(11, np.int64),
            "label": np.array(index, np.int32),
        }
        np.testing.assert_array_equal(session.run(None, feed)[0], images)
        per_class.append(images)
    # The same z for every class: the class changes the images.
    assert not np.array_equal(per_class[0], per_class[1])
    np.testing.assert_array_equal(sampler.sample(2, seed=11, label=1), per_class[1][:2])


def test_generate_takes_one_label_per_row(sampler):
    z = latent(3, 0, LATENT_DIM)
    mixed = sampler.generate(z, labels=[0, 1, 2])
    for row, label in enumerate((0, 1, 2)):
        np.testing.assert_allclose(mixed[row], sampler.generate(z[row : row + 1], labels=label)[0])
    np.testing.assert_array_equal(
        sampler.generate(z, labels="bag", batch_size=2), sampler.generate(z, labels=[2, 2, 2])
    )


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (None, "is a class-conditional generator: pass a label"),
        ("boot", "Unknown class 'boot'"),
        (3, "Class index 3 is out of range"),
        (-1, "Class index -1 is out of range"),
        ("7", "Class index 7 is out of range"),
        (1.5, "label must be a class name or an index"),
        (True, "label must be a class name or an index"),
    ],
)
def test_sample_label_errors_name_the_classes(sampler, label, message):
    with pytest.raises(ValueError, match="the classes are 0 top, 1 Sneaker, 2 bag") as info:
        sampler.sample(2, seed=0, label=label)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (None, "pass a label"),
        ([0, 1], r"labels must be one class or 3 integer class indices"),
        ([0.0, 1.0, 2.0], r"labels must be one class or 3 integer class indices"),
        ([0, 1, 3], "Class index 3 is out of range"),
    ],
)
def test_generate_label_errors(sampler, labels, message):
    with pytest.raises(ValueError, match=message):
        sampler.generate(latent(3, 0, LATENT_DIM), labels=labels)


def test_an_unconditional_export_refuses_labels(unconditional):
    sampler = Sampler(unconditional)
    assert not sampler.conditional and sampler.num_classes is None and sampler.class_names is None
    with pytest.raises(ValueError, match="unconditional generator: it takes no label"):
        sampler.sample(2, seed=0, label=0)
    with pytest.raises(ValueError, match="unconditional generator: it takes no labels"):
        sampler.generate(latent(2, 0, LATENT_DIM), labels=[0, 0])
    assert sampler.sample(2, seed=0).shape == (2, *IMAGE_SHAPE)


# -- keras-gan sample --------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """``keras-gan sample`` through its own module: its parser, ``run`` and the one-line error
    that ``keras_gan.cli.main`` prints (``main`` also builds every other command's parser,
    which this command does not need)."""
    assert argv[0] == "sample"
    parser = argparse.ArgumentParser(prog="keras-gan sample")
    sample_command.add_arguments(parser)
    try:
        return sample_command.run(parser.parse_args(argv[1:]))
    except CommandError as error:
        print(f"keras-gan sample: error: {error}", file=sys.stderr)
        return 2


def test_cli_sample_by_name_and_index(base, sampler, tmp_path, capsys):
    out = tmp_path / "sneakers.npy"
    args = ["sample", str(base), "--label", "sneaker", "-n", "16", "--seed", "3", "--out"]
    assert main([*args, str(out)]) == 0
    assert "16 samples of class 'Sneaker' (1) of 8x8x1" in capsys.readouterr().out
    np.testing.assert_array_equal(np.load(out), sampler.sample(16, seed=3, label=1))
    by_index = tmp_path / "one.npy"
    assert (
        main(
            ["sample", str(base), "--label", "1", "-n", "16", "--seed", "3", "--out", str(by_index)]
        )
        == 0
    )
    np.testing.assert_array_equal(np.load(by_index), np.load(out))
    assert (
        main(["sample", str(base), "--label", "2", "-n", "4", "--out", str(tmp_path / "g.png")])
        == 0
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--label", "boot"], "Unknown class 'boot': expected a class name or an index in [0, 3)"),
        (["--label", "9"], "Class index 9 is out of range"),
        ([], "is a class-conditional generator: pass a label"),
    ],
)
def test_cli_sample_label_errors(base, tmp_path, args, message, capsys):
    assert main(["sample", str(base), "-n", "2", "--out", str(tmp_path / "g.png"), *args]) == 2
    err = capsys.readouterr().err
    assert "keras-gan sample: error: " in err and message in err
    assert "0 top, 1 Sneaker, 2 bag" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "g.png").exists()


def test_cli_sample_refuses_a_label_for_an_unconditional_export(unconditional, tmp_path, capsys):
    out = tmp_path / "g.png"
    assert main(["sample", str(unconditional), "--label", "1", "--out", str(out)]) == 2
    assert "unconditional generator: it takes no label" in capsys.readouterr().err
    assert not out.exists()


def test_conditional_sampling_imports_neither_tensorflow_nor_keras(base, tmp_path):
    code = f"""
import argparse, sys
from keras_gan.cli import sample
from keras_gan.serving import Sampler, make_app
parser = argparse.ArgumentParser()
sample.add_arguments(parser)
out = {str(tmp_path / "g.png")!r}
args = [{str(base)!r}, "-n", "4", "--label", "bag", "--out", out]
assert sample.run(parser.parse_args(args)) == 0
sampler = Sampler({str(base)!r})
sampler.sample(3, seed=1, label="top")
sampler.generate(sampler.latent(2, 0), labels=[0, 2])
make_app({str(base)!r}, name="cgan").close()
banned = ("tensorflow", "keras", "tf2onnx", "onnx")
print("HEAVY", sorted(m for m in sys.modules if m.split(".")[0] in banned))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout, result.stdout


# -- REST --------------------------------------------------------------------------------------


def test_metadata_and_load_status_show_the_classes(app):
    status, meta = call(app, "GET", "/v1/models/cgan/metadata")
    assert status == 200
    assert meta["metadata"]["keras_gan"] == {
        "num_classes": NUM_CLASSES,
        "class_names": list(CLASS_NAMES),
    }
    signatures = meta["metadata"]["signature_def"]["signature_def"]
    labels = signatures["serving_default"]["inputs"]["labels"]
    assert labels["dtype"] == "DT_INT32"
    assert labels["tensor_shape"]["dim"] == [{"size": "-1", "name": ""}]
    label = signatures["sample"]["inputs"]["label"]
    assert label["dtype"] == "DT_INT32" and label["tensor_shape"]["dim"] == []
    assert set(signatures["sample"]["inputs"]) == {"n", "seed", "label"}
    status, body = call(app, "GET", "/v1/models/cgan/load_status")
    assert status == 200
    assert body["versions"][0]["class_names"] == list(CLASS_NAMES)
    assert body["versions"][0]["num_classes"] == NUM_CLASSES


def test_unconditional_metadata_is_unchanged(unconditional):
    app = make_app(unconditional, name="gen")
    try:
        _, meta = call(app, "GET", "/v1/models/gen/metadata")
        _, body = call(app, "GET", "/v1/models/gen/load_status")
    finally:
        app.close()
    assert set(meta["metadata"]) == {"signature_def"}
    assert "class_names" not in body["versions"][0]


def test_rest_predict_and_sample_with_labels_on_a_real_server(app, sampler):
    z = latent(3, 5, LATENT_DIM)
    labels = [2, 0, 1]
    expected = sampler.generate(z, labels=labels)
    with running(app) as url:
        model = f"{url}/v1/models/cgan"
        rows = [{"z": r, "labels": c} for r, c in zip(z.tolist(), labels, strict=True)]
        status, _, body = http(f"{model}:predict", json.dumps({"instances": rows}).encode())
        assert status == 200
        np.testing.assert_allclose(np.asarray(body["predictions"], np.float32), expected)
        columns = {"inputs": {"z": z.tolist(), "labels": labels}}
        status, _, body = http(f"{model}:predict", json.dumps(columns).encode())
        assert status == 200
        np.testing.assert_allclose(np.asarray(body["outputs"], np.float32), expected)
        for label in ("SNEAKER", 1):
            request = {"signature_name": "sample", "inputs": {"n": 4, "seed": 9, "label": label}}
            status, _, body = http(f"{model}:predict", json.dumps(request).encode())
            assert status == 200
            np.testing.assert_array_equal(
                np.asarray(body["outputs"], np.uint8), sampler.sample(4, seed=9, label=1)
            )
        client = Client(url, "cgan")
        np.testing.assert_array_equal(
            client.sample(3, seed=2, label="bag"), sampler.sample(3, seed=2, label=2)
        )
        np.testing.assert_allclose(client.generate(z, labels=labels), expected)
        np.testing.assert_allclose(client.generate(z, labels=labels, row_format=True), expected)
        with pytest.raises(ServingError, match="Unknown class 'boot'") as info:
            client.sample(3, seed=2, label="boot")
        assert info.value.status == 400


Z = [[0.0] * LATENT_DIM]
CLASSES = "the classes are 0 top, 1 Sneaker, 2 bag"


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"signature_name": "sample", "inputs": {"n": 2, "seed": 0}}, "Missing: ['label']"),
        (
            {"signature_name": "sample", "inputs": {"n": 2, "seed": 0, "label": "boot"}},
            "Unknown class 'boot'",
        ),
        (
            {"signature_name": "sample", "inputs": {"n": 2, "seed": 0, "label": 3}},
            "Class index 3 is out of range",
        ),
        (
            {"signature_name": "sample", "inputs": {"n": 2, "seed": 0, "label": [1]}},
            "label must be a class name or index",
        ),
        ({"instances": Z}, "This model is class-conditional: each instance needs 'labels'"),
        ({"instances": [{"z": Z[0]}]}, "each instance needs 'labels'"),
        ({"inputs": {"z": Z}}, "This model is class-conditional: the inputs need 'labels'"),
        ({"inputs": Z}, "the inputs need 'labels'"),
        ({"inputs": {"z": Z, "labels": [3]}}, "Class index 3 is out of range"),
        ({"inputs": {"z": Z, "labels": [-1]}}, "Class index -1 is out of range"),
        ({"inputs": {"z": Z, "labels": ["top"]}}, "labels must be 1 integer class indices"),
        ({"inputs": {"z": Z, "labels": [True]}}, "labels must be 1 integer class indices"),
        ({"inputs": {"z": Z, "labels": [0, 1]}}, "labels must be 1 integer class indices"),
        ({"inputs": {"z": Z, "labels": 0}}, "labels must be 1 integer class indices"),
        ({"instances": [{"z": Z[0], "labels": 5}]}, "Class index 5 is out of range"),
    ],
)
def test_rest_label_errors_are_400_naming_the_classes(app, request_body, message):
    status, body = call(app, "POST", "/v1/models/cgan:predict", request_body)
    assert status == 400, body
    assert message in body["error"]
    if "need 'labels'" not in message and "needs 'labels'" not in message:
        assert CLASSES in body["error"]


def test_rest_unconditional_model_refuses_labels(unconditional):
    app = make_app(unconditional, name="gen")
    try:
        request = {"signature_name": "sample", "inputs": {"n": 2, "seed": 0, "label": 1}}
        status, body = call(app, "POST", "/v1/models/gen:predict", request)
        assert status == 400 and "unconditional: it takes no label" in body["error"]
        request = {"inputs": {"z": Z, "labels": [0]}}
        status, body = call(app, "POST", "/v1/models/gen:predict", request)
        assert status == 400 and "takes the input 'z' only" in body["error"]
    finally:
        app.close()


def test_rest_full_batch_of_labelled_rows_fits_the_body_limits(app):
    rows = [{"z": [0.5] * LATENT_DIM, "labels": 1} for _ in range(8)]
    status, body = call(app, "POST", "/v1/models/cgan:predict", {"instances": rows})
    assert status == 200, body
    assert np.asarray(body["predictions"]).shape == (8, *IMAGE_SHAPE)
