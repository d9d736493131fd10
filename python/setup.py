"""The wheel carries sentiment.so, a Linux x86-64 library that works with any
Python 3 (SQLite loads it; Python does not import it): a platform wheel,
tagged py3-none-<platform>. Everything else is in pyproject.toml."""
from setuptools import Distribution, setup
from wheel.bdist_wheel import bdist_wheel


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True  # the package holds a native library: not a pure wheel


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        return ("py3", "none", super().get_tag()[2])


setup(distclass=BinaryDistribution, cmdclass={"bdist_wheel": PlatformWheel})
