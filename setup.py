"""Only what pyproject.toml cannot say: the JSON Schemas stay in the top-level `schemas/`
folder yet ship inside the package, as `pipeline.schemas` (a package found by
discovery must sit in its parent's folder, so this one is added by hand).
pipeline/schema_files.py finds them in either place."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["pipeline*"]), "pipeline.schemas"],
    package_dir={"pipeline.schemas": "schemas"},
)
