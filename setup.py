from setuptools import setup

setup(
    name="minigrad",
    version="0.1.0",
    description="A small, readable tensor/autograd engine on NumPy and CuPy with hand-written "
                "CUDA kernels for a CNN",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    packages=["minigrad", "minigrad.backend", "minigrad.ops", "minigrad.nn", "minigrad.optim",
              "minigrad.data", "minigrad.kernels"],
    package_dir={"minigrad.kernels": "kernels"},
    package_data={"minigrad.kernels": ["*.cu", "*.cuh"]},
    install_requires=["numpy>=1.24"],
    extras_require={
        "cuda12": ["cupy-cuda12x[ctk]>=14"],
        "cuda13": ["cupy-cuda13x[ctk]>=14"],
        "test": ["torch==2.13.0", "pytest"],
        "plot": ["matplotlib"],
        "demo": ["tqdm", "matplotlib"],
    },
)
