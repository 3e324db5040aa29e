"""Only what pyproject.toml cannot say: install engines/ (the default weights) as vidcolor._weights.

``vidcolor.models.default_weights_path()`` looks in ``vidcolor/_weights`` (installed) and in
``engines/`` (source checkout).
"""

from pathlib import Path

from setuptools import find_packages, setup

WEIGHTS = {"vidcolor._weights": "engines"} if Path(__file__).with_name("engines").is_dir() else {}

setup(
    packages=[*find_packages(include=["vidcolor", "vidcolor.*"]), *WEIGHTS],
    package_dir=WEIGHTS,
)
