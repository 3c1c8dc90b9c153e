"""Readers for COCO and Visual Genome annotation files."""
