"""Every example in fastrnn's public docstrings runs as a doctest (STYLE.md: Keras's own
Bidirectional example has a syntax error nobody caught)."""
import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import fastrnn

SKIP = ("fastrnn.benchmark", "fastrnn.interop", "fastrnn.__main__")  # optional deps, CLI


def _modules():
    names = ["fastrnn"]
    for info in pkgutil.walk_packages(fastrnn.__path__, "fastrnn."):
        if not info.name.startswith(SKIP):
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs = dict(vars(module), np=np, fastrnn=fastrnn)
    tests = [t for t in finder.find(module, name, globs=globs)
             if t.examples]
    for test in tests:
        fastrnn.set_random_seed(0)
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
