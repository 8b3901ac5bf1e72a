"""Class-conditional networks built around any unconditional pair.

Generator (Mirza & Osindero 2014): ``[z, labels] -> images``; the label goes through a learned
embedding that is concatenated to ``z``, and the base generator, built for
``latent_dim + embedding_dim`` inputs, does the rest. Any latent-to-sample generator of this
package (MLP, DCGAN, resize-convolution) works unchanged.

Projection discriminator (Miyato & Koyama 2018, "cGANs with Projection Discriminator"):
``D(x, y) = linear(phi(x)) + <embed(y), phi(x)>``, where ``phi`` is the base discriminator's
body (everything before its final one-unit logit layer) and ``linear`` is that logit layer.

Auxiliary-classifier discriminator (Odena et al. 2017, "Conditional Image Synthesis with
Auxiliary Classifier GANs"): ``x -> [logit, class_logits]`` from the shared body; it does not
see the label.

All three are plain functional ``keras.Model`` objects (the base networks are nested in them),
so they save and load with ``.keras`` files and clone with ``keras.models.clone_model``.

Example:
    >>> from keras_gan.networks import resize_conv_generator, strided_discriminator
    >>> g = conditional_generator(
    ...     resize_conv_generator(4 + 10, (8, 8, 1), width=4, name="base"), 10, latent_dim=4
    ... )
    >>> [t.name for t in g.inputs], g.output_shape
    (['z', 'labels'], (None, 8, 8, 1))
    >>> d = projection_discriminator(strided_discriminator((8, 8, 1), width=4), 10)
    >>> d.output_shape
    (None, 1)
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from keras_gan._checks import check_positive_int

#: Names of the conditional generator's inputs, in call order: ``generator([z, labels])``.
GENERATOR_INPUTS = ("z", "labels")


def _labels_input() -> keras.KerasTensor:
    return keras.Input((), dtype="int32", name="labels")


def _flat_input_dim(model: keras.Model) -> int:
    shape = model.input_shape
    if isinstance(shape, list) or len(shape) != 2 or shape[-1] is None:
        raise ValueError(
            "the base generator must take one (batch, latent_dim) input. Received: a model "
            f"{model.name!r} with input shape {shape}"
        )
    return int(shape[-1])


def conditional_generator(
    generator: keras.Model | Callable[[int], keras.Model],
    num_classes: int,
    latent_dim: int | None = None,
    embedding_dim: int | None = None,
    name: str = "generator",
) -> keras.Model:
    """A two-input generator ``[z, labels] -> samples`` around an unconditional one.

    The label is embedded (a learned ``(num_classes, embedding_dim)`` table), concatenated to
    ``z`` and passed to the base generator.

    Args:
        generator: the base generator, taking ``(batch, latent_dim + embedding_dim)`` vectors,
            or a builder called with that input size (e.g.
            ``lambda d: resize_conv_generator(d, (28, 28, 1), name="base")``).
        num_classes: number of classes; labels are integers in ``[0, num_classes)``.
        latent_dim: size of ``z``. Required with a builder; with a model it is read from the
            model's input size minus ``embedding_dim``.
        embedding_dim: size of the label embedding (default: ``num_classes``, as large as a
            one-hot code; with a model and ``latent_dim``, the rest of its input size).
        name: model name.

    Returns:
        A functional ``keras.Model`` with inputs ``z`` (float32, ``(None, latent_dim)``) and
        ``labels`` (int32, ``(None,)``), in that order, and the base generator's output.

    Example:
        >>> from keras_gan.networks import mlp_generator
        >>> g = conditional_generator(lambda d: mlp_generator(d, (2,), hidden=(8,)), 3, 2)
        >>> g.input_shape
        [(None, 2), (None,)]
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    if isinstance(generator, keras.Model):
        total = _flat_input_dim(generator)
        if latent_dim is None:
            embedding_dim = num_classes if embedding_dim is None else embedding_dim
            latent_dim = total - check_positive_int(embedding_dim, "embedding_dim")
        elif embedding_dim is None:
            embedding_dim = total - check_positive_int(latent_dim, "latent_dim")
        if latent_dim < 1 or embedding_dim < 1 or latent_dim + embedding_dim != total:
            raise ValueError(
                f"the base generator takes {total} inputs, which must be latent_dim + "
                f"embedding_dim, both positive. Received: latent_dim={latent_dim!r}, "
                f"embedding_dim={embedding_dim!r}"
            )
        base = generator
    elif callable(generator):
        if latent_dim is None:
            raise ValueError("latent_dim is required with a generator builder. Received: None")
        latent_dim = check_positive_int(latent_dim, "latent_dim")
        embedding_dim = check_positive_int(
            num_classes if embedding_dim is None else embedding_dim, "embedding_dim"
        )
        base = generator(latent_dim + embedding_dim)
        if _flat_input_dim(base) != latent_dim + embedding_dim:
            raise ValueError(
                f"the generator builder must return a model taking {latent_dim + embedding_dim} "
                f"inputs. Received: input shape {base.input_shape}"
            )
    else:
        raise TypeError(
            f"generator must be a keras.Model or a builder. Received: generator={generator!r}"
        )
    z = keras.Input((latent_dim,), name=GENERATOR_INPUTS[0])
    labels = _labels_input()
    embedded = keras.layers.Embedding(num_classes, embedding_dim, name="label_embedding")(labels)
    inputs = keras.layers.Concatenate(name="z_and_label")([z, embedded])
    return keras.Model([z, labels], base(inputs), name=name)


def _split_logit(base: keras.Model) -> tuple[keras.Model, keras.layers.Layer, bool]:
    """The body ``phi`` of a one-logit discriminator, its logit layer, and whether the logit
    layer is spectrally normalised."""
    inputs = getattr(base, "inputs", None) if isinstance(base, keras.Model) else None
    if not inputs or len(inputs) != 1:
        raise ValueError(
            "the base discriminator must be a functional keras.Model with one input. "
            f"Received: {base!r}"
        )
    last = base.layers[-1]
    inner = last.layer if isinstance(last, keras.layers.SpectralNormalization) else last
    if not isinstance(inner, keras.layers.Dense) or inner.units != 1:
        raise ValueError(
            "the base discriminator must end in a one-unit Dense logit layer (the body before "
            f"it is reused). Received: a last layer {last.name!r} of type {type(inner).__name__}"
        )
    body = keras.Model(base.inputs, last.input, name=f"{base.name}_body")
    return body, last, isinstance(last, keras.layers.SpectralNormalization)


def projection_discriminator(
    base: keras.Model, num_classes: int, name: str = "discriminator"
) -> keras.Model:
    """The projection discriminator (Miyato & Koyama 2018) around a one-logit discriminator.

    ``D(x, y) = w . phi(x) + b + <embed(y), phi(x)>``: ``phi`` is ``base`` without its final
    ``Dense(1)`` and ``w, b`` are that layer's weights. The class embedding is spectrally
    normalised when the logit layer is (``norm="spectral"``).

    Args:
        base: a functional discriminator from samples to ``(batch, 1)`` logits whose last layer
            is a one-unit ``Dense`` (optionally inside ``SpectralNormalization``).
        num_classes: number of classes.
        name: model name.

    Returns:
        A functional ``keras.Model`` from ``[images, labels]`` (labels int32 ``(None,)``) to
        ``(None, 1)`` float32 logits.

    Example:
        >>> from keras_gan.networks import mlp_discriminator
        >>> d = projection_discriminator(mlp_discriminator((2,), hidden=(8,)), 3)
        >>> d.input_shape, d.output_shape
        ([(None, 2), (None,)], (None, 1))
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    body, logit_layer, spectral = _split_logit(base)
    features_dim = int(body.output_shape[-1])
    images = keras.Input(base.input_shape[1:], name="images")
    labels = _labels_input()
    features = body(images)
    embedding = keras.layers.Embedding(num_classes, features_dim, name="class_embedding")
    if spectral:
        embedding = keras.layers.SpectralNormalization(embedding, name="class_embedding_sn")
    projection = keras.layers.Dot(axes=1, dtype="float32", name="projection")(
        [embedding(labels), features]
    )
    logits = keras.layers.Add(dtype="float32", name="logit_and_projection")(
        [logit_layer(features), projection]
    )
    return keras.Model([images, labels], logits, name=name)


def acgan_discriminator(
    base: keras.Model, num_classes: int, name: str = "discriminator"
) -> keras.Model:
    """The auxiliary-classifier discriminator (Odena et al. 2017) around a one-logit one.

    The body of ``base`` feeds both its own logit layer and a new ``Dense(num_classes)`` class
    head (spectrally normalised when the logit layer is). The label is not an input: the
    network predicts it.

    Args:
        base: a functional discriminator ending in a one-unit ``Dense`` logit layer.
        num_classes: number of classes.
        name: model name.

    Returns:
        A functional ``keras.Model`` from ``images`` to ``[logits (None, 1), class_logits
        (None, num_classes)]``, both float32.

    Example:
        >>> from keras_gan.networks import mlp_discriminator
        >>> d = acgan_discriminator(mlp_discriminator((2,), hidden=(8,)), 3)
        >>> d.output_shape
        [(None, 1), (None, 3)]
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    body, logit_layer, spectral = _split_logit(base)
    images = keras.Input(base.input_shape[1:], name="images")
    features = body(images)
    head = keras.layers.Dense(num_classes, dtype="float32", name="class_logits")
    if spectral:
        head = keras.layers.SpectralNormalization(head, name="class_logits_sn")
    return keras.Model(images, [logit_layer(features), head(features)], name=name)
