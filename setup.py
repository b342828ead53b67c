"""The one thing pyproject.toml cannot say with package discovery: the CUDA sources in the
top-level kernels/ folder install as the package minigrad.kernels."""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["minigrad", "minigrad.*"]) + ["minigrad.kernels"],
      package_dir={"minigrad.kernels": "kernels"})
