"""Tests of the measurement layer, its CLI and its benchmarks' inputs."""
