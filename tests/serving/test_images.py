"""Grids people can read: enlarged images and a named row per class (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest
from keras_gan.serving.images import default_scale, render_text, tile_images


@pytest.mark.parametrize(("side", "scale"), [(8, 12), (28, 4), (32, 3), (64, 2), (96, 1), (128, 1)])
def test_default_scale_makes_images_at_least_96_pixels(side, scale):
    assert default_scale(side, side) == scale
    assert side * scale >= 96 and (scale == 1 or side * (scale - 1) < 96)


def test_row_labels_are_drawn_left_of_their_rows():
    images = np.full((4, 8, 8, 3), 255, np.uint8)
    plain = tile_images(images, columns=2, padding=1)
    labelled = tile_images(images, columns=2, padding=1, row_labels=["bag", "ankle boot"])
    label_width = labelled.shape[1] - plain.shape[1]
    assert label_width == len("ankle boot") * 6 + 1 and labelled.shape[0] == plain.shape[0]
    np.testing.assert_array_equal(labelled[:, label_width:], plain)  # the images move right
    text = render_text("ANKLE BOOT")
    np.testing.assert_array_equal(labelled[10:17, 1 : 1 + text.shape[1], 0], text)  # row 2
    np.testing.assert_array_equal(labelled[10:17, 1 : 1 + text.shape[1], 2], text)  # colour
    assert labelled[1:9, 1:19].any() and not labelled[1:9, 19:label_width].any()  # "BAG" only


def test_glyphs_differ_and_unknown_characters_are_marked():
    assert not np.array_equal(render_text("O"), render_text("0"))
    np.testing.assert_array_equal(render_text("a"), render_text("A"))
    np.testing.assert_array_equal(render_text("é"), render_text("?"))
    assert render_text("ab", scale=3).shape == (21, 36)


def test_row_labels_must_match_the_rows():
    with pytest.raises(ValueError, match=r"one text per grid row \(2\). Received: 3 labels"):
        tile_images(np.zeros((4, 8, 8, 1)), columns=2, row_labels=["a", "b", "c"])
