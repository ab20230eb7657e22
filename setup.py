"""Extensions (and the kernel's .pxd in the wheel) only; metadata lives in pyproject.toml.

FASTRNN_DEBUG=1 builds with bounds checking and assertions back on.
"""
import glob
import os
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_py import build_py

# Both kernels share work across threads with src/_pool_impl.c (pthreads). _kernel still
# links OpenMP only for omp_get_max_threads() (the default thread count, which follows
# OMP_NUM_THREADS / threadpoolctl); nothing runs in an OpenMP region.
OPENMP = ["-fopenmp"] if sys.platform.startswith("linux") else []
DEBUG = os.environ.get("FASTRNN_DEBUG", "") not in ("", "0")

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "nonecheck": DEBUG,
    "cdivision": not DEBUG,
}

extensions = [
    Extension(
        "_kernel",  # installed as fastrnn._kernel (ext_package)
        sources=["src/_kernel.pyx", "src/_act_impl.c", "src/_gemm_impl.c",
                 "src/_pool_impl.c", "src/_small_impl.c", "src/_step_impl.c"],
        include_dirs=["src", np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        # Portable: no -march=native; AVX-512/AVX2 clones are picked at run time.
        # -fno-trapping-math lets GCC turn the activations' selects into vector blends;
        # results are unchanged (no FP exceptions are enabled).
        extra_compile_args=(["-O3", "-fno-trapping-math"] if not DEBUG else ["-O0", "-g"])
        + OPENMP,
        extra_link_args=OPENMP,
    ),
    Extension(
        "_gates",  # installed as fastrnn._gates: the LSTM and GRU kernels
        # threads from src/_pool_impl.c (its own pool), no OpenMP
        sources=["src/_gates.pyx", "src/_act_impl.c", "src/_gemm_impl.c",
                 "src/_pool_impl.c"],
        include_dirs=["src", np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=(["-O3", "-fno-trapping-math"] if not DEBUG else ["-O0", "-g"]),
        extra_link_args=["-pthread"],
    ),
]



class build_py_with_pxd(build_py):
    """Copy src/_kernel.pxd, the declarations it includes (_c_api.pxi) and the headers
    they declare from into the built fastrnn/."""

    def run(self):
        super().run()
        for name in sorted(glob.glob("src/*.pxd") + glob.glob("src/*.h")
                           + ["src/_c_api.pxi"]):
            self.copy_file(name, os.path.join(self.build_lib, "fastrnn",
                                              os.path.basename(name)))


setup(ext_package="fastrnn",
      cmdclass={"build_py": build_py_with_pxd},
      ext_modules=cythonize(extensions, compiler_directives=directives,
                            include_path=["src"]))
