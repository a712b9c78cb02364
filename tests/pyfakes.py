"""Fake Python interpreters and fake libraries for the tests of voxbench's Python side.

A fake interpreter is a shell script TMP/<name>/bin/python that runs the test's own Python with
-S (no site-packages: nothing installed on this machine leaks in) and a PYTHONPATH of its own:
the fake modules written for it, plus links to the real numpy and scipy (the fakes compute with
them). Distributions (dist-info folders) can be added, as pip would leave them. Behaviour that a
scenario varies (CUDA versions, a crash, a hang) comes from FAKE_* environment variables set in
the interpreter script.
"""
import os
import shlex
import stat
import sys

import numpy
import scipy

BASE_PYTHON = os.environ.get("PYTHON") or sys.executable


def _link_package(mod, lib):
    pkg = os.path.dirname(mod.__file__)
    parent = os.path.dirname(pkg)
    for entry in os.listdir(parent):
        # the package and the folders a wheel keeps its shared libraries in (numpy.libs)
        if entry == os.path.basename(pkg) or entry == os.path.basename(pkg) + ".libs" or \
           entry.startswith("scipy.libs") or entry.startswith("numpy.libs"):
            dst = os.path.join(lib, entry)
            if not os.path.exists(dst):
                os.symlink(os.path.join(parent, entry), dst)


def interpreter(tmp, name, modules=None, dists=(), env=None):
    """Write a fake interpreter; returns the path of its bin/python.

    modules: {relative path under its lib folder: source text}; dists: [(name, version)] made
    into <name>-<version>.dist-info folders; env: {variable: value} set before exec."""
    root = os.path.join(tmp, name)
    lib = os.path.join(root, "lib")
    os.makedirs(os.path.join(root, "bin"), exist_ok=True)
    os.makedirs(lib, exist_ok=True)
    _link_package(numpy, lib)
    _link_package(scipy, lib)
    for rel, text in (modules or {}).items():
        path = os.path.join(lib, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    for dname, version in dists:
        d = os.path.join(lib, f"{dname.replace('-', '_')}-{version}.dist-info")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "METADATA"), "w") as f:
            f.write(f"Metadata-Version: 2.1\nName: {dname}\nVersion: {version}\n")
    lines = ["#!/bin/sh"]
    for k, v in (env or {}).items():
        lines.append(f"{k}={shlex.quote(str(v))}; export {k}")
    lines.append(f"PYTHONPATH={shlex.quote(lib)}; export PYTHONPATH")
    lines.append(f'exec {shlex.quote(BASE_PYTHON)} -S "$@"')
    py = os.path.join(root, "bin", "python")
    with open(py, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(py, os.stat(py).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return py


CRASH = "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"
HANG = "import time\ntime.sleep(600)\n"


def cle_module(device="Fake CPU", device_type="CPU", gpus=(), backends=("opencl",),
               no_device=False, version="0.25.1"):
    """A fake pyclesperanto: its backends, the device get_device() picks and the GPUs it lists."""
    return f'''
__version__ = {version!r}
class _Device:
    name = {device!r}
    info = {device!r} + "\\n\\tVendor: Fake\\n\\tDevice Type:   {device_type}\\n"
def list_available_backends():
    return {list(backends)!r}
def get_backend_name():
    return {backends[0] if backends else ""!r}
def list_available_devices(device_type="all"):
    gpus = {list(gpus)!r}
    return gpus if device_type == "gpu" else [{device!r}] + gpus
def get_device():
    if {no_device!r}:
        raise RuntimeError("No device available for the opencl backend")
    return _Device()
'''


PYOPENCL_NO_PLATFORM = '''
import ctypes, os
VERSION_TEXT = "2024.2.7"
__version__ = VERSION_TEXT
ctypes.CDLL(os.environ["FAKE_OPENCL_LOADER"])   # the env's own loader, as pyopencl's wheel does
class LogicError(Exception):
    def __init__(self, what, code):
        super().__init__(what)
        self._code = code
    def code(self):
        return self._code
def get_platforms():
    raise LogicError("clGetPlatformIDs failed: PLATFORM_NOT_FOUND_KHR", -1001)
'''

PYOPENCL_OK = '''
VERSION_TEXT = "2024.2.7"
class device_type:
    GPU = 4
    @staticmethod
    def to_string(t):
        return "GPU"
class _Device:
    name = "Fake GPU 9000"
    type = 4
class _Platform:
    name = "Fake Platform"
    version = "OpenCL 3.0 Fake"
    def get_devices(self):
        return [_Device()]
def get_platforms():
    return [_Platform()]
'''

# A CuPy stand-in on numpy/scipy: the CUDA versions, devices and NVRTC (FAKE_CUPY_NVRTC=fail,
# FAKE_CUPY_NVRTC_VERSION=12.4) come from FAKE_CUPY_*;
# cupyx.scipy.ndimage is scipy.ndimage, so peer rows computed with it are scipy's answers.
CUPY_INIT = '''
import os as _os
import numpy as _np
from . import cuda
__version__ = _os.environ.get("FAKE_CUPY_VERSION", "13.3.0")
def asarray(a, dtype=None):
    return _np.asarray(a, dtype=dtype)
def asnumpy(a):
    return _np.asarray(a)
class RawKernel:
    def __init__(self, code, name):
        if _os.environ.get("FAKE_CUPY_NVRTC") == "fail":
            raise cuda.compiler.CompileException(
                "nvrtc: error: invalid value for --gpu-architecture (-arch)")
    def __call__(self, grid, block, args):
        x, y, n = args
        y[:int(n)] = 2 * x[:int(n)] + 1
def get_default_memory_pool():
    class _Pool:
        def free_all_blocks(self):
            pass
    return _Pool()
def __getattr__(name):
    return getattr(_np, name)
'''

CUPY_CUDA = '''
import os as _os
class compiler:
    class CompileException(Exception):
        pass
class _Runtime:
    def runtimeGetVersion(self):
        return int(_os.environ.get("FAKE_CUPY_RUNTIME", "12040"))
    def driverGetVersion(self):
        return int(_os.environ.get("FAKE_CUPY_DRIVER", "12040"))
    def getDeviceCount(self):
        if self.runtimeGetVersion() // 1000 > self.driverGetVersion() // 1000:
            raise RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is "
                               "insufficient for CUDA runtime version")
        return int(_os.environ.get("FAKE_CUPY_DEVICES", "1"))
    def getDeviceProperties(self, i):
        return {"name": b"Fake CUDA GPU"}
runtime = _Runtime()
class nvrtc:
    @staticmethod
    def getVersion():
        v = _os.environ.get("FAKE_CUPY_NVRTC_VERSION", "12.4").split(".")
        return (int(v[0]), int(v[1]))
class Device:
    def __init__(self, i=0):
        self.compute_capability = "90"
    def synchronize(self):
        pass
'''

# cupyx.scipy.ndimage: scipy's, with one function made to crash, hang or raise on request.
CUPYX_NDIMAGE = '''
import os as _os
from scipy.ndimage import *
import scipy.ndimage as _nd
def _trap(name):
    real = getattr(_nd, name)
    def f(*a, **k):
        what = _os.environ.get("FAKE_CUPY_TRAP_KIND", "")
        if what == "crash":
            import signal
            _os.kill(_os.getpid(), signal.SIGSEGV)
        if what == "hang":
            import time
            time.sleep(600)
        raise RuntimeError("fake CuPy failure in " + name)
    return f
def correlate1d(input, weights, *a, **k):
    if not hasattr(weights, "ndim"):  # CuPy's own check (cupyx _convert_1d_args)
        raise TypeError("weights must be a cupy array")
    return _nd.correlate1d(input, weights, *a, **k)
if _os.environ.get("FAKE_CUPY_TRAP"):
    for _name in _os.environ["FAKE_CUPY_TRAP"].split(","):
        globals()[_name] = _trap(_name)
'''


def cupy_modules():
    return {"cupy/__init__.py": CUPY_INIT, "cupy/cuda/__init__.py": CUPY_CUDA,
            "cupyx/__init__.py": "", "cupyx/scipy/__init__.py": "",
            "cupyx/scipy/ndimage.py": CUPYX_NDIMAGE}
