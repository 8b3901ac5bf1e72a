"""keras_gan.export of class-conditional generators (inputs ``[z, labels]``): the entry points
with labels in both formats, their agreement, the classes in the metadata, and the errors."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import keras
import keras_gan.export as kx
import numpy as np
import onnxruntime as ort
import pytest
import tensorflow as tf
from keras_gan.export.latent import tf_latent
from keras_gan.export.metadata import build_metadata
from keras_gan.export.signatures import to_uint8
from keras_gan.export.source import resolve, resolve_with_metadata
from keras_gan.serving import Sampler
from keras_gan.serving.latent import latent

LATENT_DIM = 4
NAMES = ["top", "Sneaker", "bag"]


def conditional_generator(seed: int, num_classes: int = 3) -> keras.Model:
    """Embedding(labels) -> Flatten -> Concatenate with z -> Dense -> Reshape -> Conv2DTranspose."""
    z = keras.Input((LATENT_DIM,), name="z")
    labels = keras.Input((), dtype="int32", name="labels")
    embedded = keras.layers.Flatten()(keras.layers.Embedding(num_classes, 4)(labels))
    hidden = keras.layers.Concatenate()([z, embedded])
    hidden = keras.layers.Reshape((4, 4, 3))(keras.layers.Dense(4 * 4 * 3)(hidden))
    images = keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh")(
        hidden
    )
    model = keras.Model([z, labels], images)
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(rng.normal(0.0, 0.5, variable.shape).astype("float32"))
    return model


def unconditional_generator() -> keras.Model:
    return keras.Sequential(
        [keras.Input((LATENT_DIM,)), keras.layers.Dense(8 * 8), keras.layers.Reshape((8, 8, 1))]
    )


@pytest.fixture(scope="module")
def generator() -> keras.Model:
    return conditional_generator(0)


@pytest.fixture(scope="module")
def version_dir(generator, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("conditional")
    metadata = {"num_classes": 3, "class_names": NAMES, "dataset": "noise"}
    return kx.export_and_verify(generator, base, metadata=metadata).path


def test_verify_compares_both_formats_on_the_same_z_and_labels(version_dir):
    report = kx.verify(version_dir, n=9, seed=4)
    assert report.formats == ("saved_model", "onnx")
    assert report.max_abs_difference <= 1e-5
    checks = "\n".join(report.checks)
    assert "SavedModel vs ONNX images on the same z and labels" in checks
    assert "SavedModel vs ONNX sample(n=9, seed=4, label=2)" in checks
    assert "onnx sample(n, seed, label)" in checks and "with label 2" in checks


def test_metadata_lists_the_classes_and_the_label_inputs(version_dir):
    metadata = json.loads((version_dir / "assets" / "keras_gan.json").read_text())
    assert metadata["num_classes"] == 3
    assert metadata["class_names"] == NAMES
    signatures = metadata["signatures"]
    assert signatures["serving_default"]["inputs"] == {
        "z": ["float32", [None, LATENT_DIM]],
        "labels": ["int32", [None]],
    }
    assert signatures["sample"]["inputs"] == {
        "n": ["int32", []],
        "seed": ["int64", []],
        "label": ["int32", []],
    }


def test_onnx_files_take_the_labels(version_dir):
    generate = ort.InferenceSession(str(version_dir / "model.onnx"))
    sample = ort.InferenceSession(str(version_dir / "model.sample.onnx"))
    assert [(i.name, i.type) for i in generate.get_inputs()] == [
        ("z", "tensor(float)"),
        ("labels", "tensor(int32)"),
    ]
    assert [(i.name, i.type) for i in sample.get_inputs()] == [
        ("n", "tensor(int32)"),
        ("seed", "tensor(int64)"),
        ("label", "tensor(int32)"),
    ]
    onnx_metadata = json.loads(generate.get_modelmeta().custom_metadata_map["keras_gan"])
    assert onnx_metadata["class_names"] == NAMES


def test_saved_model_and_onnx_agree_on_the_same_z_and_labels(version_dir, generator):
    z = np.random.default_rng(1).standard_normal((6, LATENT_DIM)).astype(np.float32)
    labels = np.array([0, 1, 2, 2, 1, 0], np.int32)
    loaded = tf.saved_model.load(str(version_dir))
    serving = loaded.signatures["serving_default"]
    assert set(serving.structured_input_signature[1]) == {"z", "labels"}
    saved = serving(z=tf.constant(z), labels=tf.constant(labels))["images"].numpy()
    session = ort.InferenceSession(str(version_dir / "model.onnx"))
    onnx_images = session.run(None, {"z": z, "labels": labels})[0]
    np.testing.assert_allclose(saved, onnx_images, atol=1e-5)
    keras_images = generator([z, labels], training=False).numpy()
    np.testing.assert_allclose(saved, keras_images, atol=1e-5)
    # The labels matter: another class for the same z gives other images.
    other = session.run(None, {"z": z, "labels": (labels + 1) % 3})[0]
    assert np.abs(other - onnx_images).max() > 1e-3


@pytest.mark.parametrize("label", [0, 1, 2])
def test_sample_per_label_is_generate_on_the_recipe_z_with_that_label(version_dir, label):
    n, seed = 7, 123
    z = latent(n, seed, LATENT_DIM)
    np.testing.assert_array_equal(
        tf_latent(tf.constant(n), tf.constant(seed, tf.int64), LATENT_DIM).numpy(), z
    )
    labels = np.full((n,), label, np.int32)
    signatures = tf.saved_model.load(str(version_dir)).signatures
    saved_sample = signatures["sample"](
        n=tf.constant(n), seed=tf.constant(seed, tf.int64), label=tf.constant(label)
    )["images"].numpy()
    saved_generate = signatures["serving_default"](z=tf.constant(z), labels=tf.constant(labels))
    np.testing.assert_array_equal(saved_sample, to_uint8(saved_generate["images"]).numpy())

    sample = ort.InferenceSession(str(version_dir / "model.sample.onnx"))
    feed = {"n": np.array(n, np.int32), "seed": np.array(seed, np.int64)}
    onnx_sample = sample.run(None, {**feed, "label": np.array(label, np.int32)})[0]
    generate = ort.InferenceSession(str(version_dir / "model.onnx"))
    onnx_generate = generate.run(None, {"z": z, "labels": labels})[0]
    np.testing.assert_array_equal(onnx_sample, to_uint8(tf.constant(onnx_generate)).numpy())
    assert np.abs(onnx_sample.astype(int) - saved_sample.astype(int)).max() <= 1
    np.testing.assert_array_equal(Sampler(version_dir).sample(n, seed, label=label), onnx_sample)


def test_a_gan_exports_its_sampling_generator_and_its_classes(tmp_path):
    gan = SimpleNamespace(
        generator=conditional_generator(1),
        sampling_generator=conditional_generator(2),
        latent_dim=LATENT_DIM,
        num_classes=3,
        class_names=("T-shirt", "trouser", "bag"),
    )
    path = kx.export(gan, tmp_path, formats=("onnx",), metadata={"model_kind": "cgan"})
    sampler = Sampler(path)
    assert sampler.class_names == ("T-shirt", "trouser", "bag")
    z = latent(3, 0, LATENT_DIM)
    expected = gan.sampling_generator([z, np.array([0, 1, 2], np.int32)], training=False)
    np.testing.assert_allclose(sampler.generate(z, labels=[0, 1, 2]), expected, atol=1e-5)
    # A GAN without names gets "0", "1", ...; the caller's metadata may name them.
    gan.class_names = None
    assert resolve(gan).class_names == ("0", "1", "2")
    named = resolve_with_metadata(gan, {"class_names": NAMES})
    assert named.class_names == tuple(NAMES) and named.num_classes == 3


def test_metadata_records_the_model_s_classes(generator):
    source = resolve(generator, num_classes=3, class_names=NAMES)
    metadata = build_metadata(source, {"num_classes": 3, "class_names": tuple(NAMES)})
    assert metadata["num_classes"] == 3 and metadata["class_names"] == NAMES


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "its number of classes is unknown"),
        ({"num_classes": 0}, "num_classes must be a positive integer"),
        ({"num_classes": 3, "class_names": ["a", "b"]}, "class_names must hold 3 non-empty"),
        ({"num_classes": 2, "class_names": ["bag", "BAG"]}, "class_names must differ"),
        ({"num_classes": 2, "class_names": "ab"}, "class_names must be a sequence"),
    ],
)
def test_bad_classes_of_a_bare_generator_are_refused(generator, kwargs, message):
    with pytest.raises(ValueError, match=message):
        resolve(generator, **kwargs)


def test_classes_that_disagree_with_the_gan_are_refused():
    gan = SimpleNamespace(
        generator=conditional_generator(1), latent_dim=LATENT_DIM, num_classes=3, class_names=None
    )
    with pytest.raises(ValueError, match="Metadata says num_classes=4 but the model has"):
        resolve_with_metadata(gan, {"num_classes": 4})


def test_an_unconditional_generator_refuses_classes_and_keeps_its_metadata(tmp_path):
    model = unconditional_generator()
    with pytest.raises(ValueError, match="this generator has the single input z"):
        resolve(model, num_classes=3)
    source = resolve(model)
    assert not source.conditional
    metadata = build_metadata(source)
    assert "num_classes" not in metadata and "class_names" not in metadata
    assert set(metadata["signatures"]["sample"]["inputs"]) == {"n", "seed"}


def test_two_inputs_must_be_z_and_labels():
    z = keras.Input((LATENT_DIM,), name="z")
    labels = keras.Input((1,), dtype="int32", name="labels")
    hidden = keras.layers.Concatenate()([z, keras.ops.cast(labels, "float32")])
    model = keras.Model([z, labels], keras.layers.Dense(4)(hidden))
    with pytest.raises(ValueError, match=r"exactly one input .* labels \[None\]\)"):
        resolve(model, num_classes=3)
