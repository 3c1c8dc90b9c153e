"""Benchmarks: a generator of COCO / Visual Genome inputs of any size, and a runner."""
