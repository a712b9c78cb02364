"""voxbench's Python probe: what the user's own libraries see on this machine.

Shipped inside voxbench (python/probe.py, embedded in the binary) and run by `voxbench probe` in
a child process of each interpreter it finds:

    PYTHON probe.py [--skip STEP,STEP...]

It writes one JSON object per line on file descriptor 3: before each step
{"phase": "...", "step": STEP}, after it {"step": STEP, "result": {...}}, and {"done": true} at
the end. A step whose import crashes the interpreter leaves its phase as the last line: voxbench
reports that step as crashed and runs the script again with --skip STEP for the others. Every
result has "state": "ok", "missing" (not installed: not a problem by itself) or "broken" (the
import or a call raised: "error" says what). voxbench turns the results into checks with fixes
(probe/python.c); this script only observes.
"""
import json
import os
import sys

CHANNEL = 3
_out = None


def send(obj):
    _out.write(json.dumps(obj) + "\n")
    _out.flush()


def describe(e):
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:800]


def dist_version(name):
    try:
        from importlib import metadata
        return metadata.version(name)
    except Exception:
        return ""


def try_import(module, dist=None):
    """(module or None, result): missing when no such module, broken when importing it raises."""
    import importlib
    import importlib.util
    try:
        spec = importlib.util.find_spec(module)
    except Exception as e:  # a broken parent package, a bad sys.path entry
        return None, {"state": "broken", "error": describe(e)}
    if spec is None:
        return None, {"state": "missing"}
    try:
        mod = importlib.import_module(module)
    except BaseException as e:  # SystemExit from a library is a broken import too
        return None, {"state": "broken", "error": describe(e),
                      "version": dist_version(dist or module)}
    version = dist_version(dist or module) or str(getattr(mod, "__version__", ""))
    return mod, {"state": "ok", "version": version,
                 "file": str(getattr(mod, "__file__", "") or "")}


def loaded_libraries(stem):
    """Paths of the shared libraries whose file name starts with stem, as mapped now."""
    found = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split(None, 5)[5].strip() if len(line.split(None, 5)) == 6 else ""
                if os.path.basename(path).startswith(stem) and path not in found:
                    found.append(path)
    except OSError:
        pass
    return found


def env_prefix():
    return os.environ.get("CONDA_PREFIX") or sys.prefix


def inside(path, folder):
    try:
        path, folder = os.path.realpath(path), os.path.realpath(folder)
    except OSError:
        return False
    return folder != "/" and (path == folder or path.startswith(folder.rstrip("/") + "/"))


def icd_files(folder):
    try:
        return sorted(f for f in os.listdir(folder) if f.endswith(".icd"))
    except OSError:
        return None


# ---- the steps ----

def step_python():
    import platform
    prefix = sys.prefix
    return {"state": "ok", "executable": sys.executable, "version": platform.python_version(),
            "prefix": prefix, "base_prefix": getattr(sys, "base_prefix", prefix),
            "conda": os.path.isdir(os.path.join(prefix, "conda-meta")),
            "conda_prefix": os.environ.get("CONDA_PREFIX", ""),
            "pythonpath": os.environ.get("PYTHONPATH", "")}


def step_numpy():
    return try_import("numpy")[1]


def step_pyopencl():
    cl, r = try_import("pyopencl")
    if cl is None:
        return r
    r["version"] = r.get("version") or str(getattr(cl, "VERSION_TEXT", ""))
    prefix = env_prefix()
    r["env_prefix"] = prefix
    try:
        platforms = cl.get_platforms()
        r["platforms"] = []
        for p in platforms:
            devices = []
            try:
                for d in p.get_devices():
                    devices.append({"name": d.name.strip(),
                                    "type": cl.device_type.to_string(d.type).lower()})
            except Exception as e:
                r.setdefault("device_errors", []).append(f"{p.name}: {describe(e)}")
            r["platforms"].append({"name": p.name.strip(), "version": p.version.strip(),
                                   "devices": devices})
    except Exception as e:
        r["state"] = "broken"
        r["error"] = describe(e)
        code = getattr(e, "code", None)
        if callable(code):
            code = code()
        r["code"] = code if isinstance(code, int) else None
    loaders = loaded_libraries("libOpenCL")
    r["loader"] = loaders[0] if loaders else ""
    r["loader_in_env"] = bool(loaders) and inside(loaders[0], prefix)
    vendors = os.environ.get("OCL_ICD_VENDORS") or (
        os.path.join(prefix, "etc", "OpenCL", "vendors") if r["loader_in_env"]
        else "/etc/OpenCL/vendors")
    r["vendors_dir"] = vendors
    icds = icd_files(vendors)
    r["icds"] = icds if icds is not None else []
    r["vendors_dir_exists"] = icds is not None
    return r


def device_type_of(info):
    for line in str(info).splitlines():
        if "Device Type" in line:
            return line.split(":", 1)[1].strip().lower()
    return ""


def step_pyclesperanto():
    cle, r = try_import("pyclesperanto")
    if cle is None:
        return r
    try:
        r["backends"] = [str(b) for b in cle.list_available_backends()]
        r["backend"] = str(cle.get_backend_name()) if hasattr(cle, "get_backend_name") else ""
        r["devices"] = [str(d) for d in cle.list_available_devices()]
        r["gpus"] = [str(d) for d in cle.list_available_devices("gpu")]
        dev = cle.get_device()
        r["device"] = str(dev.name).strip()
        r["device_type"] = device_type_of(getattr(dev, "info", ""))
    except Exception as e:
        r["state"] = "broken"
        r["error"] = describe(e)
    return r


def step_pyclesperanto_prototype():
    cle, r = try_import("pyclesperanto_prototype")
    if cle is None:
        return r
    try:
        r["devices"] = [str(d) for d in cle.available_device_names()]
        r["gpus"] = [str(d) for d in cle.available_device_names(dev_type="gpu")]
        dev = cle.get_device()
        r["device"] = str(dev.name).strip()
        try:
            import pyopencl as cl
            r["device_type"] = cl.device_type.to_string(dev.device.type).lower()
        except Exception:
            r["device_type"] = ""
    except Exception as e:
        r["state"] = "broken"
        r["error"] = describe(e)
    return r


def cupy_distributions():
    """Installed distributions named cupy or cupy-*: [[name, version], ...], one per name."""
    from importlib import metadata
    seen = {}
    for d in metadata.distributions():
        name = (d.metadata.get("Name") or "").strip()
        norm = name.lower().replace("_", "-")
        if norm == "cupy" or norm.startswith("cupy-"):
            seen.setdefault(norm, [name, d.version])
    return [seen[k] for k in sorted(seen)]


def step_cupy():
    try:
        dists = cupy_distributions()
    except Exception as e:
        dists = []
        dist_error = describe(e)
    else:
        dist_error = ""
    cp, r = try_import("cupy", dists[0][0] if len(dists) == 1 else None)
    r["distributions"] = dists
    if dist_error:
        r["distributions_error"] = dist_error
    if cp is None:
        return r
    rt = cp.cuda.runtime
    try:
        r["runtime"] = int(rt.runtimeGetVersion())
    except Exception as e:
        r["runtime_error"] = describe(e)
    try:
        r["driver"] = int(rt.driverGetVersion())
    except Exception as e:
        r["driver_error"] = describe(e)
    try:
        n = int(rt.getDeviceCount())
        r["device_count"] = n
        if n:
            props = rt.getDeviceProperties(0)
            name = props.get("name", b"")
            r["device"] = name.decode() if isinstance(name, bytes) else str(name)
            r["arch"] = str(cp.cuda.Device(0).compute_capability)
    except Exception as e:
        r["device_error"] = describe(e)
    return r


SMOKE_KERNEL = r'''
extern "C" __global__ void vb_smoke(const float *x, float *y, int n) {
    int i = blockDim.x * blockIdx.x + threadIdx.x;
    if (i < n) y[i] = 2.0f * x[i] + 1.0f;
}
'''


def step_cupy_nvrtc():
    cp, r = try_import("cupy")
    if cp is None:
        return r
    try:
        v = cp.cuda.nvrtc.getVersion()
        r["nvrtc"] = f"{v[0]}.{v[1]}"
    except Exception as e:
        r["state"] = "broken"
        r["error"] = describe(e)
        r["where"] = "version"
        return r
    try:
        r["arch"] = str(cp.cuda.Device(0).compute_capability)
        kernel = cp.RawKernel(SMOKE_KERNEL, "vb_smoke")
        x = cp.arange(256, dtype=cp.float32)
        y = cp.zeros(256, dtype=cp.float32)
        kernel((1,), (256,), (x, y, cp.int32(256)))
        cp.cuda.Device(0).synchronize()
        bad = int((cp.asnumpy(y) != 2 * cp.asnumpy(x) + 1).sum())
        r["compiled"] = True
        if bad:
            r["state"] = "broken"
            r["error"] = f"the compiled kernel ran but {bad} of 256 values are wrong"
            r["where"] = "run"
    except Exception as e:
        r["state"] = "broken"
        r["error"] = describe(e)
        r["where"] = "compile"
    return r


def step_cupy_smoke():
    cp, r = try_import("cupy")
    if cp is None:
        return r
    try:
        total = float((cp.arange(4096, dtype=cp.float32) * 2).sum())
        cp.cuda.Device(0).synchronize()
        r["value"] = total
        r["expected"] = 4096.0 * 4095.0
        if total != r["expected"]:
            r["state"] = "broken"
            r["error"] = f"sum(2 * arange(4096)) gave {total}, expected {r['expected']:.0f}"
    except Exception as e:
        r["state"] = "broken"
        r["error"] = describe(e)
    return r


NAPARI_PLUGINS = [("napari-pyclesperanto-assistant", "napari_pyclesperanto_assistant"),
                  ("napari-cupy-image-processing", "napari_cupy_image_processing")]


def step_napari():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # an import must not need a display
    plugins = {}
    for dist, module in NAPARI_PLUGINS:
        plugins[dist] = try_import(module, dist)[1]
    return {"state": "ok", "plugins": plugins}


STEPS = [
    ("python", step_python),
    ("numpy", step_numpy),
    ("pyopencl", step_pyopencl),
    ("pyclesperanto", step_pyclesperanto),
    ("pyclesperanto_prototype", step_pyclesperanto_prototype),
    ("cupy", step_cupy),
    ("cupy_nvrtc", step_cupy_nvrtc),
    ("cupy_smoke", step_cupy_smoke),
    ("napari", step_napari),
]


def main(argv):
    global _out
    _out = os.fdopen(CHANNEL, "w", buffering=1)
    skip = set()
    if len(argv) >= 2 and argv[0] == "--skip":
        skip = set(argv[1].split(","))
    for name, fn in STEPS:
        if name in skip:
            continue
        send({"phase": f"probing {name}", "step": name})
        try:
            result = fn()
        except BaseException as e:
            result = {"state": "broken", "error": describe(e)}
        send({"step": name, "result": result})
    send({"done": True})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
