"""The clustered generator: the cluster it draws from z[:, 0], its layer's checks and config."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras_gan.serving.latent import latent

from keras_gan.networks import (
    LatentClass,
    clustered_generator,
    latent_class_layer,
    mlp_generator,
    resize_conv_generator,
)
from keras_gan.networks.clustered import check_prior, latent_classes

PRIOR = (0.1, 0.6, 0.3)


def _generator(prior=PRIOR, latent_dim: int = 4) -> keras.Model:
    keras.utils.set_random_seed(0)
    return clustered_generator(
        lambda d: resize_conv_generator(d, (8, 8, 1), width=4, name="base"), prior, latent_dim
    )


def test_clusters_are_drawn_with_the_prior_s_frequencies():
    z = latent(40_000, 7, 3)
    ids = np.asarray(latent_classes(z, np.cumsum(PRIOR)[:-1]))
    freq = np.bincount(ids, minlength=3) / len(ids)
    # 40,000 draws: the standard error of a frequency is below 0.0025.
    np.testing.assert_allclose(freq, PRIOR, atol=0.01)


def test_the_cluster_is_an_increasing_step_function_of_z0():
    z0 = np.linspace(-4, 4, 201).astype("float32")
    z = np.stack([z0, np.zeros_like(z0)], axis=1)
    ids = np.asarray(latent_classes(z, np.cumsum(PRIOR)[:-1]))
    assert ids[0] == 0 and ids[-1] == 2
    assert np.all(np.diff(ids) >= 0)
    # Phi(z0) = 0.1 at z0 = -1.2816 (the first edge), 0.7 at z0 = 0.5244 (the second).
    near = np.array([[-1.29, 0.0], [-1.27, 0.0], [0.52, 0.0], [0.53, 0.0]], "float32")
    assert np.asarray(latent_classes(near, np.cumsum(PRIOR)[:-1])).tolist() == [0, 1, 1, 2]


def test_the_layer_passes_the_other_coordinates_on():
    z = latent(5, 0, 4)
    rest, ids = LatentClass(PRIOR)(z)
    np.testing.assert_array_equal(np.asarray(rest), z[:, 1:])
    assert np.asarray(ids).dtype == np.int32 and np.asarray(ids).shape == (5,)


def test_the_generator_is_a_z_to_image_model_whose_output_follows_the_cluster():
    g = _generator()
    assert [t.name for t in g.inputs] == ["z"] and g.output_shape == (None, 8, 8, 1)
    z = np.zeros((2, 4), "float32")
    z[0, 0], z[1, 0] = -3.0, 3.0  # clusters 0 and 2, the rest of z identical
    out = np.asarray(g(z, training=False))
    assert not np.allclose(out[0], out[1])
    z[1, 0] = -2.5  # still cluster 0: z0 itself does not reach the base generator
    out = np.asarray(g(z, training=False))
    np.testing.assert_allclose(out[0], out[1])


def test_the_prior_survives_a_keras_file(tmp_path):
    g = _generator()
    path = tmp_path / "g.keras"
    g.save(path)
    loaded = keras.models.load_model(path)
    assert latent_class_layer(loaded).prior == pytest.approx(PRIOR)
    z = latent(6, 1, 4)
    np.testing.assert_allclose(loaded(z), g(z), atol=1e-6)


def test_latent_class_layer_is_none_for_other_generators():
    assert latent_class_layer(mlp_generator(2, (2,), hidden=(4,))) is None
    assert latent_class_layer(_generator()).num_classes == 3


@pytest.mark.parametrize(
    "prior", [[], [0.5, -0.1], [0.0, 0.0], [[0.5, 0.5]], [float("nan"), 1.0], "ab"]
)
def test_a_bad_prior_is_refused_naming_it(prior):
    with pytest.raises(ValueError, match="prior must be") as info:
        check_prior(prior)
    assert repr(prior) in str(info.value)


def test_a_latent_of_one_coordinate_is_refused():
    with pytest.raises(ValueError, match=r"latent_dim >= 2 .*Received: latent_dim=1"):
        clustered_generator(lambda d: mlp_generator(d, (2,), hidden=(4,)), PRIOR, 1)
