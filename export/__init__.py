"""keras_gan.export: write generators as SavedModel (TF Serving layout) and ONNX."""
