"""Pure ONNX inference: model contracts, cached sessions, preprocessing and prediction."""
