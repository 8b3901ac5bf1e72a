"""The one exception the data package raises for missing or malformed data.

Example:
    >>> from keras_gan.data.errors import DatasetError
    >>> issubclass(DatasetError, Exception)
    True
"""

from __future__ import annotations


class DatasetError(Exception):
    """Data that is missing, truncated, corrupt or inconsistent.

    The message names the file (or the dataset) and says what is wrong and what was expected.

    Example:
        >>> raise DatasetError("train-images-idx3-ubyte.gz: truncated")  # doctest: +SKIP
    """
