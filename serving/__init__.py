"""keras_gan.serving: sample exported generators with numpy + onnxruntime alone.

Nothing in this package imports TensorFlow or Keras.

Example:
    >>> from keras_gan.serving.images import save_grid
"""
