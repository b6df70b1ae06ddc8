"""Model registry, ONNX Runtime sessions, pre-label tasks, training and export."""
