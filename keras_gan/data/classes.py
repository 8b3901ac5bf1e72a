"""Names of the classes of the labelled datasets, in label order.

Example:
    >>> CLASS_NAMES["fashion_mnist"][7]
    'Sneaker'
"""

from __future__ import annotations

#: Dataset name -> its class names, indexed by label.
CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "fashion_mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
}
