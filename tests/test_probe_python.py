#!/usr/bin/python3
"""tests/test_probe_python.py: `voxbench probe`'s Python section against fake interpreters.

Each fake interpreter (tests/pyfakes.py) sees only its own fake libraries, so every branch is
exercised on any machine: a missing interpreter, one that is not Python, missing and broken
imports, an import that crashes (SIGSEGV) or hangs, pyclesperanto picking the CPU while a GPU is
listed, pyclesperanto without a device, pyopencl's -1001 in a conda env whose own ICD loader
has an empty vendors folder, CuPy built for a CUDA newer than the driver, two CuPy wheels at
once, NVRTC failing, napari plugins. The real pyclesperanto of $VENV_PYTHON (on PoCL here) is
checked last. Each check reads the probe's --json output: status, summary and fix.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyfakes  # noqa: E402
from vbcheck import check, exit_status  # noqa: E402

VOXBENCH = os.environ.get("VOXBENCH", "build/voxbench")
TMP = os.path.join(os.environ.get("TEST_TMP") or "/tmp", "probe-python")
VENV_PYTHON = os.environ.get("VENV_PYTHON", "")


def env(**extra):
    e = {k: v for k, v in os.environ.items() if k not in ("CONDA_PREFIX", "PYTHONPATH")}
    # no python3 on PATH: only the interpreters a scenario names are probed
    e["PATH"] = "/nonexistent-bin"
    e["LC_ALL"] = "C"
    e.update(extra)
    return e


def probe(pythons, extra_env=None, timeout=300):
    argv = [VOXBENCH, "probe", "--json", "--quick"]
    for p in pythons:
        argv += ["--python", p]
    r = subprocess.run(argv, env=env(**(extra_env or {})), capture_output=True, text=True,
                       timeout=timeout)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        check(False, f"probe {' '.join(argv[4:])} prints JSON", r.stdout[:300] + r.stderr[:300])
        doc = {}
    return r.returncode, doc


def results(doc, cid, subject):
    return [c for c in doc.get("checks", []) if c["id"] == cid and c["subject"] == subject]


def expect(doc, name, cid, subject, status, summary=(), fix=()):
    """A result of check cid about interpreter subject: this status, these texts."""
    found = results(doc, cid, subject)
    for c in found:
        if c["status"] == status and all(s in c["summary"] for s in summary) and \
           all(f in c["fix"] for f in fix):
            check(True, f"{name}: {cid} is {status}" + (f" ({summary[0]})" if summary else ""))
            return c
    check(False, f"{name}: {cid} is {status} with {list(summary)} and fix {list(fix)}",
          json.dumps(found)[:700])
    return None


def main():
    shutil.rmtree(TMP, ignore_errors=True)
    os.makedirs(TMP, exist_ok=True)
    fakes = os.path.join(TMP, "fakes")

    # ---- interpreters that are not there, or not Python ----
    not_python = os.path.join(TMP, "not-python")
    with open(not_python, "w") as f:
        f.write("#!/bin/sh\necho 'this is not python' >&2\nexit 3\n")
    os.chmod(not_python, 0o755)
    code, doc = probe(["/nonexistent/bin/python", not_python])
    check(code in (0, 1), "a broken --python does not change the exit status", code)
    check(doc.get("schema") == "voxbench-probe/2", "the schema is voxbench-probe/2",
          doc.get("schema"))
    expect(doc, "missing interpreter", "python", "/nonexistent/bin/python", "fail",
           ["is not an executable file"], ["--python /path/to/python"])
    r = expect(doc, "not a Python", "python", not_python, "fail",
               ["does not run voxbench's Python probe", "exited with status 3"], ["--version"])
    check(r is not None and "this is not python" in r["detail"],
          "not a Python: the detail carries its last output", r)
    entries = {e["interpreter"]: e for e in doc.get("python", [])}
    check(set(entries) == {"/nonexistent/bin/python", not_python},
          "the JSON python section has one entry per interpreter", list(entries))

    # ---- missing and broken libraries, a crash and a hang, in one probe ----
    bare = pyfakes.interpreter(fakes, "bare")
    broken = pyfakes.interpreter(fakes, "broken", {
        "pyclesperanto/__init__.py": "raise ImportError('libOpenCL.so.1: cannot open shared "
                                     "object file: No such file or directory')\n",
        "pyopencl/__init__.py": pyfakes.CRASH,
        "napari_pyclesperanto_assistant/__init__.py": "__version__ = '0.24.1'\n",
        "napari_cupy_image_processing/__init__.py": "import no_such_dependency\n",
    }, dists=[("napari-pyclesperanto-assistant", "0.24.1"),
              ("napari-cupy-image-processing", "0.4.1")])
    hangs = pyfakes.interpreter(fakes, "hangs", {"cupy/__init__.py": pyfakes.HANG},
                                dists=[("cupy-cuda12x", "13.3.0")])
    code, doc = probe([bare, broken, hangs], {"VOXBENCH_PYTHON_TIMEOUT": "4"})
    expect(doc, "bare", "python", bare, "ok", ["Python 3.", "from --python"])
    expect(doc, "bare", "numpy", bare, "ok", ["numpy " + __import__("numpy").__version__])
    expect(doc, "bare", "pyclesperanto", bare, "skip", ["pyclesperanto is not installed"])
    expect(doc, "bare", "pyopencl", bare, "skip", ["not installed"])
    expect(doc, "bare", "cupy", bare, "skip", ["CuPy is not installed"])
    expect(doc, "bare", "napari", bare, "skip", ["napari-pyclesperanto-assistant"])
    expect(doc, "broken import", "pyclesperanto", broken, "fail",
           ["importing it fails", "ImportError: libOpenCL.so.1"],
           [f"{broken} -m pip install --force-reinstall pyclesperanto"])
    expect(doc, "crashing import", "pyopencl", broken, "fail",
           ["crashed with SIGSEGV"], ["-X faulthandler", "import pyopencl"])
    # the steps after the crash ran in a second run of the script
    expect(doc, "after the crash", "napari", broken, "ok",
           ["napari-pyclesperanto-assistant 0.24.1 is importable"])
    expect(doc, "broken plugin", "napari", broken, "fail",
           ["napari-cupy-image-processing", "No module named 'no_such_dependency'"],
           ["--force-reinstall napari-cupy-image-processing"])
    expect(doc, "hanging import", "cupy", hangs, "fail", ["hung (killed after the time limit)"])
    expect(doc, "after the hang", "napari", hangs, "skip", ["not installed"])
    entry = {e["interpreter"]: e for e in doc.get("python", [])}.get(broken, {})
    check(entry.get("crashed", {}).get("pyopencl") == "crashed with SIGSEGV",
          "the JSON names the crashed step", entry.get("crashed"))

    # ---- pyclesperanto picking the CPU, or no device ----
    cpu = pyfakes.interpreter(fakes, "cpu-picked", {
        "pyclesperanto/__init__.py": pyfakes.cle_module("Fake CPU", "CPU", ["Fake GPU 9000"])})
    nodev = pyfakes.interpreter(fakes, "no-device", {
        "pyclesperanto/__init__.py": pyfakes.cle_module(backends=(), no_device=True)})
    gpu = pyfakes.interpreter(fakes, "gpu-picked", {
        "pyclesperanto/__init__.py": pyfakes.cle_module("Fake GPU 9000", "GPU",
                                                        ["Fake GPU 9000"],
                                                        backends=("opencl", "cuda"))})
    code, doc = probe([cpu, nodev, gpu])
    expect(doc, "CPU picked", "pyclesperanto", cpu, "warn",
           ["picks the CPU", "Used CPU: Fake CPU", "Fake GPU 9000"],
           ['cle.select_device("Fake GPU 9000")'])
    expect(doc, "no device", "pyclesperanto", nodev, "fail",
           ["finds no device (backends: none)", "No device available"],
           [f"{nodev} -m pip install pyclesperanto-opencl"])
    expect(doc, "GPU picked", "pyclesperanto", gpu, "ok",
           ["backends: opencl, cuda", "Used GPU: Fake GPU 9000"])

    # ---- pyopencl in a conda env whose own ocl-icd has an empty vendors folder ----
    conda = os.path.join(TMP, "conda-env")
    os.makedirs(os.path.join(conda, "etc", "OpenCL", "vendors"), exist_ok=True)
    os.makedirs(os.path.join(conda, "lib"), exist_ok=True)
    loader = None
    for cand in ("/usr/lib/x86_64-linux-gnu/libOpenCL.so.1", "/usr/lib64/libOpenCL.so.1",
                 "/usr/lib/libOpenCL.so.1", "/usr/lib/aarch64-linux-gnu/libOpenCL.so.1"):
        if os.path.exists(cand):
            loader = os.path.join(conda, "lib", "libOpenCL.so.1")
            shutil.copy(cand, loader)
            break
    if loader:
        py = pyfakes.interpreter(fakes, "conda-py", {
            "pyopencl/__init__.py": pyfakes.PYOPENCL_NO_PLATFORM},
            env={"FAKE_OPENCL_LOADER": loader})
        envpy = os.path.join(conda, "bin", "python")
        os.makedirs(os.path.dirname(envpy), exist_ok=True)
        shutil.copy(py, envpy)
        code, doc = probe([], {"CONDA_PREFIX": conda})
        expect(doc, "conda -1001", "python", envpy, "ok", ["from CONDA_PREFIX"])
        r = expect(doc, "conda -1001", "pyopencl", envpy, "fail",
                   ["-1001, PLATFORM_NOT_FOUND_KHR", loader, "is empty"],
                   ["conda install -c conda-forge ocl-icd-system"])
        if r and "conda install" in r["fix"]:
            # the fix's effect: a vendors folder with a driver is no longer "empty"
            with open(os.path.join(conda, "etc", "OpenCL", "vendors", "system.icd"), "w") as f:
                f.write("libpocl.so.2\n")
            code, doc = probe([], {"CONDA_PREFIX": conda})
            expect(doc, "conda -1001, a vendor registered", "pyopencl", envpy, "fail",
                   ["names no working driver"])
    else:
        check(True, "conda -1001 # SKIP no libOpenCL.so.1 to copy")
    ok_cl = pyfakes.interpreter(fakes, "pyopencl-ok", {"pyopencl/__init__.py": pyfakes.PYOPENCL_OK})
    code, doc = probe([ok_cl])
    expect(doc, "pyopencl healthy", "pyopencl", ok_cl, "ok",
           ["pyopencl 2024.2.7: 1 platform, 1 device: Fake GPU 9000 (gpu)"])

    # ---- CuPy: wrong CUDA major, newer minor, duplicate wheels, NVRTC, healthy ----
    cupy = pyfakes.cupy_modules()
    too_new = pyfakes.interpreter(fakes, "cupy-too-new", cupy, dists=[("cupy-cuda99x", "14.2.0")],
                                  env={"FAKE_CUPY_RUNTIME": "99000", "FAKE_CUPY_VERSION": "14.2.0"})
    dup = pyfakes.interpreter(fakes, "cupy-dup", cupy,
                              dists=[("cupy-cuda12x", "13.3.0"), ("cupy-cuda13x", "14.2.0")])
    nvrtc = pyfakes.interpreter(fakes, "cupy-nvrtc", cupy, dists=[("cupy-cuda12x", "13.3.0")],
                                env={"FAKE_CUPY_NVRTC": "fail"})
    healthy = pyfakes.interpreter(fakes, "cupy-ok", cupy, dists=[("cupy-cuda12x", "13.3.0")],
                                  env={"FAKE_CUPY_RUNTIME": "11080"})
    code, doc = probe([too_new, dup, nvrtc, healthy])
    real_driver = (doc.get("cuda") or {}).get("driver_version") or 0
    driver_major = real_driver // 1000 if real_driver else 12
    r = expect(doc, "CUDA too new", "cupy", too_new, "fail",
               ["built for CUDA 99.0", "cudaErrorInsufficientDriver"],
               ["uninstall -y cupy-cuda99x", f"pip install cupy-cuda{driver_major}x",
                "driver for CUDA 99.0"])
    dup_r = expect(doc, "two CuPy wheels", "cupy", dup, "fail",
                   ["2 CuPy packages", "cupy-cuda12x 13.3.0", "cupy-cuda13x 14.2.0"],
                   ["pip uninstall -y cupy-cuda12x cupy-cuda13x",
                    f"pip install cupy-cuda{driver_major}x"])
    check(not results(doc, "cupy-nvrtc", dup), "two CuPy wheels: no NVRTC verdict on top")
    expect(doc, "NVRTC failing", "cupy-nvrtc", nvrtc, "fail",
           ["NVRTC cannot compile a kernel for this GPU", "gpu-architecture"],
           ['pip install "cupy-cuda12x[ctk]"'])
    expect(doc, "CuPy healthy", "cupy", healthy, "ok",
           ["CuPy 13.3.0 (cupy-cuda12x): CUDA runtime 11.8", "Fake CUDA GPU (sm_90)"])
    expect(doc, "CuPy healthy", "cupy-nvrtc", healthy, "ok", ["NVRTC 12.4 compiled a kernel for sm_90"])
    expect(doc, "CuPy healthy", "cupy-smoke", healthy, "ok", ["16773120"])
    # a runtime of a newer minor than the driver's (the real one where there is one): OK with a
    # note when NVRTC is not newer than the driver and its kernel ran; else WARN
    drv = real_driver or 12040
    text = lambda v: f"{v // 1000}.{v % 1000 // 10}"  # noqa: E731
    rt = drv + 20
    wheel = [(f"cupy-cuda{drv // 1000}x", "14.2.0")]
    proven = pyfakes.interpreter(fakes, "cupy-minor-ok", cupy, dists=wheel,
                                 env={"FAKE_CUPY_RUNTIME": str(rt),
                                      "FAKE_CUPY_NVRTC_VERSION": text(drv)})
    newer = pyfakes.interpreter(fakes, "cupy-minor-nvrtc", cupy, dists=wheel,
                                env={"FAKE_CUPY_RUNTIME": str(rt),
                                     "FAKE_CUPY_NVRTC_VERSION": text(rt)})
    broken = pyfakes.interpreter(fakes, "cupy-minor-nokernel", cupy, dists=wheel,
                                 env={"FAKE_CUPY_RUNTIME": str(rt), "FAKE_CUPY_NVRTC": "fail",
                                      "FAKE_CUPY_NVRTC_VERSION": text(drv)})
    code, doc = probe([proven, newer, broken])
    expect(doc, "CuPy newer minor, NVRTC proven", "cupy", proven, "ok",
           [f"CUDA runtime {text(rt)}, driver CUDA {text(drv)}", "Fake CUDA GPU (sm_90)",
            "minor-version compatibility", f"NVRTC {text(drv)}, not newer than the driver"])
    expect(doc, "CuPy newer minor, NVRTC newer than the driver", "cupy", newer, "warn",
           [f"built for CUDA {text(rt)}, newer than the driver's CUDA {text(drv)}"],
           [f"driver for CUDA {text(rt)}", "an NVRTC no newer than the driver"])
    r = expect(doc, "CuPy newer minor, no kernel ran", "cupy", broken, "warn",
               [f"built for CUDA {text(rt)}, newer than the driver's CUDA {text(drv)}"],
               [f"driver for CUDA {text(rt)}"])
    check(r and "did not compile and run a kernel" in (r.get("detail") or ""),
          "CuPy newer minor, no kernel ran: the detail says why it stays a warning", r)
    # fixes quote what the shell would split
    odd = pyfakes.interpreter(os.path.join(TMP, "it's odd"), "env", {},
                              dists=[("cupy-cuda12x", "13.3.0"), ("cupy-cuda11x", "12.0.0")])
    code, doc = probe([odd])
    r = expect(doc, "odd path", "cupy", odd, "fail", ["2 CuPy packages"])
    if r:
        words = shlex.split(r["fix"].split(": ", 1)[1])
        check(words[0] == odd, "a fix quotes the interpreter's path for the shell", words[:2])

    # ---- --python none; the real pyclesperanto on this machine ----
    code, doc = probe(["none"])
    check([c["status"] for c in doc.get("checks", []) if c["id"] == "python"] == ["skip"]
          and doc.get("python") == [], "--python none: one skip, no interpreters",
          [c for c in doc.get("checks", []) if c["id"] == "python"])
    if VENV_PYTHON and os.path.exists(VENV_PYTHON):
        code, doc = probe([VENV_PYTHON])
        r = expect(doc, "real pyclesperanto", "pyclesperanto", VENV_PYTHON, "ok",
                   ["pyclesperanto 0.25.1", "backends: opencl"])
        used = (doc.get("summary") or {}).get("used_name") or ""
        check(r is not None and re.search(r"Used (CPU|GPU): ", r["summary"]) and
              used and used in r["summary"],
              "real pyclesperanto: its device is the one the OpenCL section uses", (r, used))
    else:
        check(True, "real pyclesperanto # SKIP no VENV_PYTHON (make setup-venv)")
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
