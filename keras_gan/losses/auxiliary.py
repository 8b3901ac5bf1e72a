"""The auxiliary-classifier terms of ACGAN (Odena et al. 2017, "Conditional Image Synthesis with
Auxiliary Classifier GANs", section 3).

The discriminator also predicts the class of every sample. Its classification loss ``L_C`` is
the cross-entropy of that prediction against the real samples' labels and the labels the fakes
were generated with; both networks MINIMISE ``L_C`` (the discriminator on real and fake
batches, the generator on its fakes), on top of their adversarial losses. The terms are
per-sample, reduced by the global batch like the adversarial losses
(:func:`keras_gan.losses.reduce_per_sample`).

Example:
    >>> loss = auxiliary_classifier_loss([[0.0, 0.0]], [1])
    >>> loss.numpy().astype(float).round(4).tolist()
    [0.6931]
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf


def auxiliary_classifier_loss(class_logits: Any, labels: Any) -> tf.Tensor:
    """Per-sample cross-entropy ``-log softmax(class_logits)[label]``, float32, shape ``(batch,)``.

    Example:
        >>> loss = auxiliary_classifier_loss([[2.0, 0.0, 0.0]], [0])
        >>> loss.numpy().astype(float).round(4).tolist()
        [0.2395]
    """
    class_logits = tf.cast(tf.convert_to_tensor(class_logits), tf.float32)
    labels = tf.cast(tf.reshape(tf.convert_to_tensor(labels), [-1]), tf.int32)
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=class_logits)


def acgan_discriminator_loss(
    real_class_logits: Any, real_labels: Any, fake_class_logits: Any, fake_labels: Any
) -> tf.Tensor:
    """Per-sample classification loss of the discriminator: the cross-entropy on the real
    sample plus the cross-entropy on the fake sample of the same row (Odena et al. 2017, eq. 2).

    Example:
        >>> loss = acgan_discriminator_loss([[0.0, 0.0]], [0], [[0.0, 0.0]], [1])
        >>> loss.numpy().astype(float).round(4).tolist()
        [1.3863]
    """
    return auxiliary_classifier_loss(real_class_logits, real_labels) + auxiliary_classifier_loss(
        fake_class_logits, fake_labels
    )


def acgan_generator_loss(fake_class_logits: Any, fake_labels: Any) -> tf.Tensor:
    """Per-sample classification loss of the generator: the cross-entropy of the discriminator's
    class prediction on each fake against the label it was generated with.

    Example:
        >>> loss = acgan_generator_loss([[0.0, 3.0]], [1])
        >>> loss.numpy().astype(float).round(4).tolist()
        [0.0486]
    """
    return auxiliary_classifier_loss(fake_class_logits, fake_labels)
