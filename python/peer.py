"""voxbench's peer runner: the user's own library runs voxbench's ops on voxbench's stacks.

Shipped inside voxbench (python/peer.py, embedded in the binary) and run by `voxbench run
--peer NAME` in a child process, one per block of stacks:

    PYTHON peer.py --check                  what is installed: {"check": {...}} and exit
    PYTHON peer.py LIB BACKEND DEVICE       serve requests for LIB ("pyclesperanto" or "cupy")

It talks JSON lines over file descriptor 3; the stacks cross in a shared memory file, its file
descriptor 4 (C-order voxels at the offsets a request names). After start-up it sends
{"ready": {...}} (version, backend, device) or {"fatal": "..."}; then, for each request {"op",
"call", "post", "when", "params", "inputs": [{"id", "offset", "shape", "dtype"}], "share" (the
shared file's length), "out" (the output's offset), "shape", "dtype", "repeat"} it sends
{"phase": ...} and then one reply with "status": "ok" (the output written at "out" in voxbench's
layout and dtype, "ms": the timed runs), "skip" or "fail" (with "reason") or "error" (with
"error"), and "phases": where its time went (ms: upload, warmup, timed, compare, download). An input is
read and put on the device once, under its id, until {"forget": true} (the block's end).

What to call comes from voxbench's peer calls (ops/conventions.def), as Python
expressions: `call` runs the peer (names: a and b, the inputs on the device; out, the output
buffer of the previous call, None at first; the op's parameters by name; cle, cp, nd, np; F(x),
x as float32, converted once outside the timing; S(x), x cast to voxbench's output dtype with
saturation), `post` turns its result r (pulled to numpy) into voxbench's layout, and `when`,
over the parameters, says whether the conventions can be reconciled at all.

Timing: one warm-up call (compiles, allocates), then `repeat` calls, each wall-clocked with the
device synchronised (pyclesperanto waits for every kernel: wait_for_kernel_to_finish; CuPy:
Device().synchronize() after the call); the median is voxbench's to take.
"""
import json
import os
import sys
import time
import warnings

CHANNEL = 3
SHARE = 4
warnings.filterwarnings("ignore")  # deprecated names are the ones users type


def describe(e):
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:600]


DTYPES = {"u8": "uint8", "u16": "uint16", "u32": "uint32", "i32": "int32", "f32": "float32"}


# ---- what is installed ----

def check():
    import importlib
    import importlib.util
    found = {}
    for lib, module in (("pyclesperanto", "pyclesperanto"), ("cupy", "cupy")):
        r = {}
        try:
            if importlib.util.find_spec(module) is None:
                r["state"] = "missing"
            else:
                mod = importlib.import_module(module)
                r["state"] = "ok"
                r["version"] = str(getattr(mod, "__version__", ""))
                if lib == "pyclesperanto":
                    r["backends"] = [str(b) for b in mod.list_available_backends()]
        except BaseException as e:
            r = {"state": "broken", "error": describe(e)}
        found[lib] = r
    import platform
    found["python"] = {"version": platform.python_version(), "executable": sys.executable}
    return found


# ---- the libraries ----

class Cle:
    """pyclesperanto, one backend, one device."""

    def __init__(self, backend, device):
        import numpy as np
        import pyclesperanto as cle
        self.np, self.cle = np, cle
        if backend:
            cle.select_backend(backend)
        dev = cle.select_device(device, "all") if device else cle.get_device()
        cle.wait_for_kernel_to_finish(True)
        self.device = str(dev.name).strip()
        self.version = str(cle.__version__)
        self.backend = backend or str(cle.get_backend_name())
        self.names = {"cle": cle, "np": np}

    def push(self, array):
        return self.cle.push(array)

    def float32(self, x):
        return self.cle.push(self.cle.pull(x).astype(self.np.float32))

    def sync(self):
        pass  # every kernel waits (wait_for_kernel_to_finish)

    def pull(self, r):
        np = self.np
        if isinstance(r, dict):
            return {k: np.asarray(self.pull(v)) for k, v in r.items()}
        if isinstance(r, (int, float)):
            return np.asarray(r)
        if isinstance(r, (list, tuple)):
            return np.asarray([float(v) for v in r])
        return np.asarray(self.cle.pull(r))

    def reusable(self, r):
        return not isinstance(r, (int, float, list, tuple, dict))

    def release(self):
        pass  # a device array's memory goes with its last reference


class Cupy:
    """CuPy and cupyx.scipy.ndimage on one device."""

    def __init__(self, backend, device):
        import numpy as np
        import cupy as cp
        from cupyx.scipy import ndimage as nd
        self.np, self.cp = np, cp
        index = 0
        count = cp.cuda.runtime.getDeviceCount()
        for i in range(count):
            name = cp.cuda.runtime.getDeviceProperties(i)["name"]
            name = name.decode() if isinstance(name, bytes) else str(name)
            if device and device.lower() in name.lower():
                index = i
                break
        cp.cuda.Device(index).use() if hasattr(cp.cuda.Device(index), "use") else None
        name = cp.cuda.runtime.getDeviceProperties(index)["name"]
        self.device = name.decode() if isinstance(name, bytes) else str(name)
        self.version = str(cp.__version__)
        self.backend = "cuda"
        self.index = index
        self.names = {"cp": cp, "nd": nd, "np": np}

    def push(self, array):
        return self.cp.asarray(array)

    def float32(self, x):
        return x.astype(self.cp.float32)

    def sync(self):
        self.cp.cuda.Device(self.index).synchronize()

    def pull(self, r):
        np = self.np
        if isinstance(r, (tuple, list)):
            return np.asarray([float(v) for v in r])
        return np.asarray(self.cp.asnumpy(r))

    def reusable(self, r):
        return False

    def release(self):
        self.cp.get_default_memory_pool().free_all_blocks()  # the block's stacks


LIBS = {"pyclesperanto": Cle, "cupy": Cupy}


# ---- adapters' helpers ----

def saturate(xp, x, dtype):
    """x (an array of the module xp: numpy or cupy) cast to dtype as voxbench stores:
    integers saturate, round toward zero, NaN -> 0."""
    import numpy
    dt = numpy.dtype(dtype)
    x = xp.asarray(x)
    if dt.kind == "f":
        return x.astype(dt)
    info = numpy.iinfo(dt)
    return xp.nan_to_num(xp.trunc(xp.clip(x, info.min, info.max)), nan=0).astype(dt)


def finish(np, out, shape, dtype, dst):
    """The peer's output (numpy, after `post`) into dst (voxbench's shape and dtype): "", or the
    reason it cannot be. A cast to an integer dtype must keep every value: one cast and one
    comparison find those it does not (NaN, fractions, values out of range)."""
    out = np.asarray(out)
    want = int(np.prod(shape))
    if out.size != want:
        return (f"the peer's output has shape {tuple(out.shape)}, voxbench's "
                f"{shape[2]}x{shape[1]}x{shape[0]}: no adapter reconciles them")
    out = out.reshape(shape)
    dt = np.dtype(dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        np.copyto(dst, out, casting="unsafe")
        if out.dtype == dt or dt.kind == "f":
            return ""
        bad = dst != out   # exact: numpy compares in a type that holds both
    nbad = int(np.count_nonzero(bad))
    if nbad:
        z, y, x = (int(v[0]) for v in np.nonzero(bad))
        return (f"the peer wrote {out.dtype} with {nbad} values that are not whole "
                f"numbers in {dt}'s range (first {float(out[z, y, x]):g} at x={x} y={y} "
                f"z={z}); voxbench writes {dt}")
    return ""


def ball(np, rx, ry, rz):
    """voxbench's ellipsoid: offsets with (dx/rx)^2 + (dy/ry)^2 + (dz/rz)^2 <= 1, tested
    exactly in integers; a radius-0 axis takes only offset 0. Shape (z, y, x)."""
    rx, ry, rz = int(rx), int(ry), int(rz)
    dz, dy, dx = np.meshgrid(np.arange(-rz, rz + 1), np.arange(-ry, ry + 1),
                             np.arange(-rx, rx + 1), indexing="ij")
    denom = 1
    for d, r in ((dx, rx), (dy, ry), (dz, rz)):
        if r:
            denom *= r * r
    lhs = np.zeros(dx.shape, dtype=np.int64)
    for d, r in ((dx, rx), (dy, ry), (dz, rz)):
        if r:
            lhs += d.astype(np.int64) ** 2 * (denom // (r * r))
    return lhs <= denom


def laplace_kernel(np, box):
    k = -np.ones((3, 3, 3), np.float32) if box else np.zeros((3, 3, 3), np.float32)
    if not box:
        for z, y, x in ((0, 1, 1), (2, 1, 1), (1, 0, 1), (1, 2, 1), (1, 1, 0), (1, 1, 2)):
            k[z, y, x] = -1
    k[1, 1, 1] = 26 if box else 6
    return k


def cle_histogram_range(cle, a, num_bins, lo, hi):
    """pyclesperanto's (min, max) that give numpy's bins over voxbench's range: its bin i is
    centred on min + i (max - min) / (bins - 1), so numpy's range shrunk by half a bin."""
    if not lo < hi:
        lo, hi = float(cle.minimum_of_all_pixels(a)), float(cle.maximum_of_all_pixels(a))
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    w = (hi - lo) / int(num_bins)
    return lo + w / 2, hi - w / 2


def cle_histogram_outside(cle, a, num_bins, lo, hi):
    """Whether voxels lie outside the range cle_histogram_range gives pyclesperanto."""
    lo, hi = cle_histogram_range(cle, a, num_bins, lo, hi)
    return float(cle.minimum_of_all_pixels(a)) < lo or float(cle.maximum_of_all_pixels(a)) > hi


def pad_widths(size_x, size_y, size_z, center):
    def one(n):
        n = int(n)
        return (n // 2, n - n // 2) if center else (0, n)
    return [one(size_z), one(size_y), one(size_x)]


STATS_COLUMNS = ["label", "area", "sum_intensity", "mean_intensity", "min_intensity",
                 "max_intensity", "standard_deviation_intensity", "centroid_x", "centroid_y",
                 "centroid_z", "bbox_min_x", "bbox_min_y", "bbox_min_z", "bbox_max_x",
                 "bbox_max_y", "bbox_max_z"]


def stats_table(np, r):
    """pyclesperanto's statistics dictionary as voxbench's table: 16 columns, row i for label
    i + 1 (labels without voxels: area 0, sum 0, NaN elsewhere)."""
    labels = np.asarray(r["label"]).astype(np.int64).ravel()
    n = max(1, int(labels.max()) if labels.size else 0)
    t = np.full((n, len(STATS_COLUMNS)), np.nan)
    t[:, 0] = np.arange(1, n + 1)
    t[:, 1] = 0
    t[:, 2] = 0
    cols = [np.asarray(r[c]).astype(np.float64).ravel() for c in STATS_COLUMNS]
    for i, label in enumerate(labels):
        if 1 <= label <= n and cols[1][i] > 0:
            t[label - 1] = [c[i] for c in cols]
    return t


class Server:
    def __init__(self, lib, send):
        self.lib = lib
        self.send = send
        self.inputs = {}   # id -> array on the device
        self.floats = {}   # id of a device array -> its float32 copy
        self.share = None  # the shared file, mapped

    def view(self, length, offset, shape, dtype):
        """The shared file's voxels at offset, as an array (no copy)."""
        import mmap
        np = self.lib.np
        if self.share is None or len(self.share) < length:
            self.share = mmap.mmap(SHARE, length)
        count = int(np.prod(shape))
        return np.frombuffer(self.share, dtype=dtype, count=count, offset=offset).reshape(shape)

    def input(self, spec, length):
        key = spec["id"]
        if key not in self.inputs:
            # a copy: the shared file shrinks at the block's end, under any view of it
            host = self.lib.np.array(self.view(length, spec["offset"], spec["shape"],
                                               DTYPES[spec["dtype"]]))
            self.inputs[key] = self.lib.push(host)
        return self.inputs[key]

    def forget(self):
        self.inputs.clear()
        self.floats.clear()
        self.lib.release()

    def F(self, x):
        key = id(x)
        if key not in self.floats:
            self.floats[key] = (x, self.lib.float32(x))
        return self.floats[key][1]

    def run(self, req):
        np = self.lib.np
        params = dict(req.get("params") or {})
        names = dict(self.lib.names)
        names.update(params)
        dtype = DTYPES[req["dtype"]]
        xp = getattr(self.lib, "cp", np)   # the peer's array module
        names["F"] = self.F
        names["S"] = lambda x: saturate(xp, x, dtype)
        names["V"] = lambda v: saturate(np, np.float32(v), dtype).item()
        names["ball"] = lambda rx, ry, rz: xp.asarray(ball(np, rx, ry, rz))
        names["laplace_box_kernel"] = lambda: xp.asarray(laplace_kernel(np, True))
        names["laplace_diamond_kernel"] = lambda: xp.asarray(laplace_kernel(np, False))
        names["pad_widths"] = pad_widths
        names["stats_table"] = lambda r: stats_table(np, r)
        if "cle" in names:
            names["cle_histogram_range"] = lambda *args: cle_histogram_range(names["cle"], *args)
            names["cle_histogram_outside"] = lambda *args: cle_histogram_outside(names["cle"],
                                                                                 *args)
        if req.get("when") and not eval(req["when"], dict(params)):
            return {"status": "skip", "reason": req.get("note") or "not reconcilable here"}
        phases = {}
        clock = time.perf_counter()

        def lap(name):
            nonlocal clock
            now = time.perf_counter()
            phases[name] = phases.get(name, 0) + (now - clock) * 1e3
            clock = now

        ins = [self.input(spec, req["share"]) for spec in req["inputs"]]
        names["a"], names["b"] = (ins + [None, None])[:2]
        lap("upload")
        call = compile(req["call"], "<call>", "eval")
        names["out"] = None
        r = eval(call, names)              # warm-up: compiles kernels, allocates
        self.lib.sync()
        if self.lib.reusable(r):
            names["out"] = r
        lap("warmup")
        times = []
        for _ in range(max(1, int(req.get("repeat", 1)))):
            t0 = time.perf_counter()
            r = eval(call, names)
            self.lib.sync()
            times.append((time.perf_counter() - t0) * 1e3)
        lap("timed")
        hazard = bool(req.get("hazard") and eval(req["hazard"], names))
        lap("compare")                     # the known bug's condition, checked on the device
        result = self.lib.pull(r)
        peer_dtype = str(getattr(result, "dtype", type(result).__name__))
        if req.get("post"):
            result = eval(req["post"], dict(names, r=result))
        dst = self.view(req["share"], req["out"], req["shape"], dtype)
        why = finish(np, result, req["shape"], dtype, dst)
        del dst
        lap("download")
        if why:
            return {"status": "fail", "reason": why, "ms": times, "peer_dtype": peer_dtype,
                    "phases": phases}
        return {"status": "ok", "ms": times, "peer_dtype": peer_dtype, "hazard": hazard,
                "phases": phases}


def main(argv):
    import signal
    # Ctrl-C reaches the whole process group: voxbench decides when this child stops
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.fdopen(CHANNEL, "w", buffering=1)

    def send(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    if argv[:1] == ["--check"]:
        send({"check": check()})
        return 0
    lib_name, backend, device = (argv + ["", "", ""])[:3]
    try:
        lib = LIBS[lib_name](backend, device)
    except BaseException as e:
        send({"fatal": describe(e)})
        return 1
    send({"ready": {"version": lib.version, "backend": lib.backend, "device": lib.device}})
    server = Server(lib, send)
    requests = os.fdopen(os.dup(CHANNEL), "r")
    for line in requests:
        try:
            req = json.loads(line)
        except ValueError:
            continue
        if req.get("forget"):
            server.forget()
            continue
        send({"phase": f"running {req.get('op', '?')}", "op": req.get("op")})
        try:
            reply = server.run(req)
        except BaseException as e:
            reply = {"status": "error", "error": describe(e)}
        reply["op"] = req.get("op")
        send(reply)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
