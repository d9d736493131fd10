"""The wheel carries sentiment.so, a Linux x86-64 library that works with any
Python 3 (it is loaded by SQLite, not imported): tag it py3-none-<platform>
instead of a pure-Python wheel. Everything else is in pyproject.toml."""
from setuptools import setup
from wheel.bdist_wheel import bdist_wheel


class PlatformWheel(bdist_wheel):
    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        return ("py3", "none", super().get_tag()[2])


setup(cmdclass={"bdist_wheel": PlatformWheel})
