"""keras_gan.export: SavedModel + ONNX exports, agreement, atomicity, versions and metadata."""

from __future__ import annotations

import importlib
import json
import subprocess
from pathlib import Path

import keras
import keras_gan.export as kx
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import tensorflow as tf
from keras_gan.export import onnx as kx_onnx
from keras_gan.export.verify import VerificationError
from keras_gan.serving.latent import latent

import keras_gan
from keras_gan.networks import dcgan_generator, mlp_generator

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"


def perturb(model: keras.Model, seed: int) -> keras.Model:
    """Give every weight (BatchNorm moving statistics included) non-trivial random values."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        value = rng.normal(0.0, 0.3, variable.shape).astype("float32")
        if "variance" in variable.path:
            value = np.abs(value) + 0.5
        variable.assign(value)
    return model


class WGANGP:
    """Stands in for keras_gan.models' WGAN-GP: the attributes export relies on, nothing else.

    ``sampling_generator`` is an EMA copy with different weights, so a test can tell which
    generator was exported.
    """

    def __init__(self, latent_dim: int):
        self.latent_dim = latent_dim
        self.generator = perturb(
            dcgan_generator(latent_dim=latent_dim, image_shape=(8, 8, 1), width=4), 1
        )
        self.sampling_generator = perturb(keras.models.clone_model(self.generator), 2)


class FakeMixture:
    """Stands in for a fitted keras_gan.mixture.GaussianMixture (landing separately): a Keras
    generator of a 3-component mixture in 2-D, z = (noise[2], selector[1]) -> point. The real
    class is exercised by ``test_real_gaussian_mixture`` once it exists."""

    means = np.array([[-0.5, -0.5], [0.5, 0.0], [0.0, 0.6]], np.float32)
    scales = np.array([[0.1, 0.2], [0.15, 0.1], [0.05, 0.05]], np.float32)
    cumulative = np.array([0.2, 0.7], np.float32)

    def as_generator(self, image_shape=None):
        z = keras.Input((3,), name="z")
        u = 0.5 * (1.0 + keras.ops.erf(z[:, 2:3] / np.sqrt(2.0).astype("float32")))
        component = keras.ops.sum(keras.ops.cast(u > self.cumulative, "int32"), axis=1)
        onehot = keras.ops.one_hot(component, 3)
        points = keras.ops.matmul(onehot, self.means) + z[:, :2] * keras.ops.matmul(
            onehot, self.scales
        )
        return keras.Model(z, keras.ops.clip(points, -1.0, 1.0))


MODELS = {
    "dcgan": lambda: perturb(dcgan_generator(latent_dim=4, image_shape=(8, 8, 1), width=4), 0),
    "wgan_gp": lambda: WGANGP(latent_dim=5),
    "mlp": lambda: perturb(mlp_generator(latent_dim=3, output_shape=(2,), hidden=(16, 16)), 3),
    "mlp_images": lambda: perturb(
        mlp_generator(latent_dim=4, output_shape=(8, 8, 1), hidden=(16,), batch_norm=True), 4
    ),
    "gmm": FakeMixture,
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Each model exported once to both formats: name -> (model, version dir)."""
    cache = {}

    def get(name):
        if name not in cache:
            model = MODELS[name]()
            base = tmp_path_factory.mktemp(name)
            cache[name] = (model, kx.export(model, base, metadata={"dataset": "toy"}))
        return cache[name]

    return get


def generator_of(model):
    if hasattr(model, "as_generator"):
        return model.as_generator()
    return getattr(model, "sampling_generator", model)


def run_signatures(version_dir: Path, z: np.ndarray, n: int, seed: int):
    loaded = tf.saved_model.load(str(version_dir))
    images = loaded.signatures["serving_default"](z=tf.constant(z))["images"].numpy()
    sample = loaded.signatures["sample"](n=tf.constant(n), seed=tf.constant(seed, tf.int64))
    return images, sample["images"].numpy()


def run_onnx(version_dir: Path, z: np.ndarray, n: int, seed: int):
    generate = ort.InferenceSession(str(version_dir / "model.onnx"))
    sample = ort.InferenceSession(str(version_dir / "model.sample.onnx"))
    feed = {"n": np.array(n, np.int32), "seed": np.array(seed, np.int64)}
    return generate.run(["images"], {"z": z})[0], sample.run(["images"], feed)[0]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_saved_model_and_onnx_agree(exported, name):
    model, version_dir = exported(name)
    generator = generator_of(model)
    latent_dim = generator.input_shape[1]
    z = np.random.default_rng(11).standard_normal((16, latent_dim)).astype(np.float32)
    keras_images = keras.ops.convert_to_numpy(generator(z, training=False))

    tf_images, tf_sample = run_signatures(version_dir, z, 6, 123)
    ort_images, ort_sample = run_onnx(version_dir, z, 6, 123)

    assert tf_images.dtype == ort_images.dtype == np.float32
    assert tf_images.shape == ort_images.shape == keras_images.shape
    np.testing.assert_allclose(tf_images, keras_images, atol=1e-6)
    assert np.max(np.abs(ort_images - tf_images)) <= 1e-5
    assert np.all(np.abs(tf_images) <= 1.0)
    # Non-trivial outputs: the comparison above could fail.
    assert tf_images.std() > 0.01

    image_like = tf_images.ndim >= 3
    assert tf_sample.dtype == ort_sample.dtype == (np.uint8 if image_like else np.float32)
    assert tf_sample.shape == ort_sample.shape == (6, *tf_images.shape[1:])
    # sample(n, seed) is generator(recipe z): recompute it from the numpy recipe.
    expected = keras.ops.convert_to_numpy(generator(latent(6, 123, latent_dim), training=False))
    if image_like:
        expected = np.rint((np.clip(expected, -1, 1) + np.float32(1)) * np.float32(127.5))
        assert np.abs(tf_sample.astype(int) - expected).max() <= 1
        assert np.count_nonzero(tf_sample != expected) <= max(1, tf_sample.size // 200)
        assert np.abs(tf_sample.astype(int) - ort_sample).max() <= 1
        assert np.count_nonzero(tf_sample != ort_sample) <= max(1, tf_sample.size // 200)
    else:
        np.testing.assert_allclose(tf_sample, expected, atol=1e-6)
        np.testing.assert_allclose(ort_sample, tf_sample, atol=1e-5)


def test_exported_generator_is_the_sampling_generator(exported):
    model, version_dir = exported("wgan_gp")
    z = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    tf_images, _ = run_signatures(version_dir, z, 1, 0)
    ema = keras.ops.convert_to_numpy(model.sampling_generator(z, training=False))
    raw = keras.ops.convert_to_numpy(model.generator(z, training=False))
    np.testing.assert_allclose(tf_images, ema, atol=1e-6)
    assert np.abs(tf_images - raw).max() > 0.01


def test_sample_repeats_and_depends_on_seed(exported):
    _, version_dir = exported("dcgan")
    z = np.zeros((1, 4), np.float32)
    first = run_signatures(version_dir, z, 9, 5)[1]
    again = run_signatures(version_dir, z, 9, 5)[1]
    other = run_signatures(version_dir, z, 9, 6)[1]
    ort_first, ort_again = run_onnx(version_dir, z, 9, 5)[1], run_onnx(version_dir, z, 9, 5)[1]
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(ort_first, ort_again)
    assert np.abs(first.astype(int) - ort_first).max() <= 1
    assert np.count_nonzero(first != ort_first) <= 3
    assert np.count_nonzero(first != other) > first.size // 2
    # Rows depend on (seed, row) only: a smaller batch is a prefix.
    np.testing.assert_array_equal(run_onnx(version_dir, z, 3, 5)[1], ort_first[:3])
    for n in (0, -2):  # empty batches, and the same in both runtimes
        assert run_signatures(version_dir, z, n, 5)[1].shape == (0, 8, 8, 1)
        assert run_onnx(version_dir, z, n, 5)[1].shape == (0, 8, 8, 1)


def test_saved_model_cli_lists_both_signatures(exported):
    _, version_dir = exported("dcgan")
    result = subprocess.run(
        [str(VENV_BIN / "saved_model_cli"), "show", "--dir", str(version_dir), "--all"],
        capture_output=True,
        text=True,
        check=True,
    )
    text = result.stdout
    blocks = {
        name: text.split(f"signature_def['{name}']:")[1].split("signature_def[")[0]
        for name in ("serving_default", "sample")
    }
    assert "inputs['z']" in blocks["serving_default"]
    assert "DT_FLOAT" in blocks["serving_default"] and "shape: (-1, 4)" in blocks["serving_default"]
    assert "outputs['images']" in blocks["serving_default"]
    assert "shape: (-1, 8, 8, 1)" in blocks["serving_default"]
    assert "inputs['n']" in blocks["sample"] and "DT_INT32" in blocks["sample"]
    assert "inputs['seed']" in blocks["sample"] and "DT_INT64" in blocks["sample"]
    assert "DT_UINT8" in blocks["sample"]
    for block in blocks.values():
        assert "Method name is: tensorflow/serving/predict" in block


def test_saved_model_cli_runs_sample_like_onnxruntime(exported, tmp_path):
    """saved_model_cli loads the SavedModel into a TF1-style session, as TF Serving does."""
    _, version_dir = exported("dcgan")
    subprocess.run(
        [
            str(VENV_BIN / "saved_model_cli"),
            "run",
            "--dir",
            str(version_dir),
            "--tag_set",
            "serve",
            "--signature_def",
            "sample",
            "--input_exprs",
            "n=5;seed=77",
            "--outdir",
            str(tmp_path),
        ],
        capture_output=True,
        check=True,
    )
    images = np.load(tmp_path / "images.npy")
    expected = run_onnx(version_dir, np.zeros((1, 4), np.float32), 5, 77)[1]
    assert images.dtype == np.uint8 and images.shape == (5, 8, 8, 1)
    assert np.abs(images.astype(int) - expected).max() <= 1
    assert np.count_nonzero(images != expected) <= 2


def test_version_dir_layout_and_metadata(exported):
    _, version_dir = exported("dcgan")
    assert version_dir.name == "1"
    names = sorted(p.name for p in version_dir.iterdir())
    assert {"saved_model.pb", "variables", "assets", "model.onnx", "model.sample.onnx"} <= set(
        names
    )
    assert not [p for p in version_dir.parent.iterdir() if p.name.startswith(".")]
    meta = json.loads((version_dir / "assets" / "keras_gan.json").read_text())
    assert meta["format_version"] == 1
    assert meta["model_kind"] == "generator"
    assert meta["latent_dim"] == 4
    assert meta["image_shape"] == [8, 8, 1]
    assert meta["output_range"] == [-1.0, 1.0]
    assert meta["dataset"] == "toy"
    assert meta["epochs"] is None and meta["evaluation"] is None
    assert meta["keras_gan_version"] == keras_gan.__version__
    assert meta["tensorflow_version"] == tf.__version__
    assert meta["latent_recipe"] == "keras_gan.latent.v1"
    assert meta["sample_dtype"] == "uint8"
    for name in ("model.onnx", "model.sample.onnx"):
        proto = onnx.load(str(version_dir / name))
        props = {p.key: p.value for p in proto.metadata_props}
        assert json.loads(props["keras_gan"]) == meta
        assert proto.opset_import[0].version == 18


def test_metadata_keys_are_the_layout_s(exported):
    """serving/layout.py lists exactly the keys an export writes, where it says they go."""
    from keras_gan.serving.layout import METADATA_KEYS, metadata_path

    _, version_dir = exported("dcgan")
    meta = json.loads(metadata_path(version_dir).read_text())
    assert sorted(meta) == sorted(METADATA_KEYS)


def test_explicit_model_kind_is_not_guessed():
    from keras_gan.export.source import resolve

    model = MODELS["wgan_gp"]()
    assert resolve(model).model_kind == "wgan_gp"  # no kind given: guessed from the class
    assert resolve(model, model_kind="dcgan").model_kind == "dcgan"
    assert resolve(MODELS["gmm"](), model_kind="gmm_full").model_kind == "gmm_full"


def test_metadata_kinds_and_overrides(exported, tmp_path):
    assert (
        json.loads((exported("wgan_gp")[1] / "assets/keras_gan.json").read_text())["model_kind"]
        == "wgan_gp"
    )
    gmm_meta = json.loads((exported("gmm")[1] / "assets/keras_gan.json").read_text())
    assert gmm_meta["model_kind"] == "gmm" and gmm_meta["latent_dim"] == 3
    assert gmm_meta["image_shape"] == [2] and gmm_meta["sample_dtype"] == "float32"

    generator = MODELS["mlp"]()
    extra = {"epochs": 12, "evaluation": {"fid": 31.5}, "model_kind": "gan", "note": "x"}
    path = kx.export_saved_model(generator, tmp_path, metadata=extra)
    meta = json.loads((path / "assets/keras_gan.json").read_text())
    assert meta["epochs"] == 12 and meta["evaluation"] == {"fid": 31.5}
    assert meta["model_kind"] == "gan" and meta["note"] == "x"
    with pytest.raises(ValueError, match="latent_dim=7"):
        kx.export_saved_model(generator, tmp_path, metadata={"latent_dim": 7})
    with pytest.raises(ValueError, match="JSON"):
        kx.export_saved_model(generator, tmp_path, metadata={"evaluation": object()})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1"]


def test_version_auto_increment(tmp_path):
    generator = MODELS["mlp"]()
    assert kx.export(generator, tmp_path, formats=("onnx",)).name == "1"
    assert kx.export(generator, tmp_path, formats=("onnx",)).name == "2"
    (tmp_path / "7").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "12.txt").write_text("")
    path = kx.export_saved_model(generator, tmp_path)
    assert path.name == "8" and (path / "saved_model.pb").is_file()
    assert not (path / "model.onnx").exists()
    assert kx.export(generator, tmp_path, formats=("onnx",), version=20).name == "20"
    with pytest.raises(FileExistsError, match="20"):
        kx.export(generator, tmp_path, formats=("onnx",), version=20)
    with pytest.raises(ValueError, match="version=0"):
        kx.export(generator, tmp_path, version=0)
    with pytest.raises(ValueError, match="formats"):
        kx.export(generator, tmp_path, formats=("tflite",))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "1",
        "12.txt",
        "2",
        "20",
        "7",
        "8",
        "notes",
    ]


def test_failure_mid_export_leaves_no_version(tmp_path, monkeypatch):
    generator = MODELS["mlp"]()
    calls = []

    def fail_on_second_file(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full (simulated)")
        original(path, data)

    original = kx.write_bytes_atomic
    monkeypatch.setattr(kx, "write_bytes_atomic", fail_on_second_file)
    with pytest.raises(OSError, match="simulated"):
        kx.export(generator, tmp_path / "base")
    # The SavedModel and model.onnx were written before the failure, inside the temporary dir.
    assert len(calls) == 2 and calls[0].name == "model.onnx"
    assert list((tmp_path / "base").iterdir()) == []


def test_failure_in_onnx_export_leaves_no_file(tmp_path, monkeypatch):
    generator = MODELS["mlp"]()
    calls = []

    def fail_on_second_write(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full (simulated)")
        original(path, data)

    original = kx_onnx.write_bytes_atomic
    monkeypatch.setattr(kx_onnx, "write_bytes_atomic", fail_on_second_write)
    with pytest.raises(OSError, match="simulated"):
        kx.export_onnx(generator, tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()

    path = kx.export_onnx(generator, tmp_path / "model.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "model.sample.onnx"]
    assert ort.InferenceSession(str(path)).get_inputs()[0].name == "z"


@keras.saving.register_keras_serializable(package="keras_gan_tests")
class StatelessNoise(keras.layers.Layer):
    """A layer whose op (StatelessRandomNormalV2) tf2onnx cannot convert."""

    def call(self, x):
        noise = tf.random.stateless_normal(tf.shape(x), seed=[1, 2])
        return x + 0.01 * noise


def test_unsupported_op_fails_with_its_name(tmp_path):
    z = keras.Input((4,))
    generator = keras.Model(z, keras.layers.Dense(3, activation="tanh")(StatelessNoise()(z)))
    with pytest.raises(kx.ExportError, match="StatelessRandomNormalV2"):
        kx.export_onnx(generator, tmp_path / "model.onnx")
    with pytest.raises(kx.ExportError, match="StatelessRandomNormalV2"):
        kx.export(generator, tmp_path / "base")
    assert list(tmp_path.iterdir()) == []


def test_bad_models_are_rejected(tmp_path):
    with pytest.raises(TypeError, match="Received: model=str"):
        kx.export("generator.keras", tmp_path)
    a, b = keras.Input((2,)), keras.Input((2,))
    two_inputs = keras.Model([a, b], keras.layers.Add()([a, b]))
    with pytest.raises(ValueError, match="exactly one input"):
        kx.export(two_inputs, tmp_path)
    with pytest.raises(ValueError, match="opset"):
        kx.export_onnx(MODELS["mlp"](), tmp_path / "m.onnx", opset=13)
    assert list(tmp_path.iterdir()) == []


def test_verify_reports_agreement(exported):
    _, version_dir = exported("dcgan")
    report = kx.verify(version_dir.parent)  # the base path: its newest version
    assert report.path == version_dir
    assert report.formats == ("saved_model", "onnx")
    assert 0 <= report.max_abs_difference <= 1e-5
    assert report.sample_mismatches is not None
    assert "max abs difference" in report.summary()
    onnx_only = kx.verify(version_dir / "model.onnx")
    assert onnx_only.formats == ("onnx",) and onnx_only.max_abs_difference is None


def test_verify_catches_mismatched_artifacts(exported, tmp_path):
    """A version dir whose ONNX file comes from another generator must fail verification."""
    _, version_dir = exported("dcgan")
    other = perturb(dcgan_generator(latent_dim=4, image_shape=(8, 8, 1), width=4), 99)
    kx.export_onnx(other, tmp_path / "other" / "model.onnx")
    mixed = tmp_path / "mixed"
    subprocess.run(["cp", "-r", str(version_dir), str(mixed)], check=True)
    (mixed / "model.onnx").write_bytes((tmp_path / "other" / "model.onnx").read_bytes())
    # model.onnx no longer matches model.sample.onnx.
    with pytest.raises(VerificationError, match="onnx: 512 of 512 uint8 values differ"):
        kx.verify(mixed)
    # Both ONNX files agree with each other but not with the SavedModel.
    sample = (tmp_path / "other" / "model.sample.onnx").read_bytes()
    (mixed / "model.sample.onnx").write_bytes(sample)
    with pytest.raises(VerificationError, match="SavedModel and ONNX images differ by up to"):
        kx.verify(mixed)
    with pytest.raises(FileNotFoundError):
        kx.verify(tmp_path / "nothing")


def test_real_gaussian_mixture(tmp_path):
    mixture = importlib.import_module("keras_gan.mixture")
    if not hasattr(mixture, "GaussianMixture"):
        pytest.skip("keras_gan.mixture.GaussianMixture is not in this tree yet")
    rng = np.random.default_rng(0)
    data = np.concatenate([rng.normal(-0.5, 0.1, (200, 2)), rng.normal(0.5, 0.1, (200, 2))])
    model = mixture.GaussianMixture(n_components=2, random_state=0).fit(data.astype(np.float32))
    version_dir = kx.export(model, tmp_path)
    report = kx.verify(version_dir)
    assert report.max_abs_difference <= 1e-5
    assert report.metadata["model_kind"] == "gmm" and report.metadata["latent_dim"] == 3


def test_keras_gan_model_exports_its_ema_generator(tmp_path):
    models = importlib.import_module("keras_gan.models")
    if not hasattr(models, "GAN"):
        pytest.skip("keras_gan.models.GAN is not in this tree yet")
    from keras_gan.networks import dcgan_discriminator

    generator = perturb(dcgan_generator(latent_dim=4, image_shape=(8, 8, 1), width=4), 5)
    gan = models.GAN(
        generator, dcgan_discriminator((8, 8, 1), width=4), ema_decay=0.9, name="dcgan"
    )
    assert gan.sampling_generator is not gan.generator
    perturb(gan.sampling_generator, 6)
    report = kx.export_and_verify(gan, tmp_path, formats=("onnx", "saved_model"))
    assert report.metadata["model_kind"] == "dcgan" and report.max_abs_difference <= 1e-5
    z = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    images, _ = run_onnx(report.path, z, 1, 0)
    ema = keras.ops.convert_to_numpy(gan.sampling_generator(z, training=False))
    np.testing.assert_allclose(images, ema, atol=1e-5)
    assert np.abs(images - keras.ops.convert_to_numpy(generator(z, training=False))).max() > 0.01


def test_export_and_verify_keeps_a_failing_export_out_of_place(tmp_path, monkeypatch):
    def refuse(path, atol):
        assert (Path(path) / "model.onnx").is_file()  # verify sees the finished directory
        raise VerificationError("simulated verification failure")

    monkeypatch.setattr(kx, "verify", refuse)
    with pytest.raises(VerificationError, match="simulated"):
        kx.export_and_verify(MODELS["mlp"](), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_export_package_does_not_import_the_training_classes():
    # Read from the source: at run time ``keras_gan`` registers its Keras classes (and so
    # imports keras_gan.models) as soon as Keras is loaded, whoever imported Keras.
    import ast

    for path in Path(kx.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [
                    f"{node.module}.{alias.name}" for alias in node.names
                ]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith(("keras_gan.models", "keras_gan.networks")), (
                    path.name,
                    name,
                )
