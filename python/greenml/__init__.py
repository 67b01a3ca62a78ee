"""greenml: the energy of ML training and inference, measured in-process.

    import greenml
    with greenml.Meter(interval="100ms", tags={"model": "resnet18"}) as m:
        for epoch in range(3):
            with m.phase(f"epoch-{epoch + 1}"):
                train_one_epoch()
    print(m.result.total_energy_j, m.result.total_provenance)

A Meter is a session of libgreenml (<greenml/session.h>): the same meter,
accounting, idle baseline, store and JSON document as `greenml measure`, so
the numbers are the CLI's. Under `greenml measure` (GREENML_MARK set) a Meter
starts no second meter: its phases are markers for the measuring process,
which reports them, and `result` is None.
"""

import contextlib
import ctypes
import functools
import json
import math
import os
import re
import sys

from . import _lib

__version__ = "0.1.0"
__all__ = [
    "Meter",
    "measure",
    "Result",
    "Component",
    "Phase",
    "Error",
    "default_db",
    "parse_interval",
]


class Error(Exception):
    """A greenml failure: `status` is greenml's status name (for example
    "GM_ERR_PARSE"), `code` its number, and the message says what failed
    and the fix."""

    def __init__(self, code, message):
        self.code = int(code)
        self.status = _lib.gm_status_name(self.code).decode()
        self.message = message
        super().__init__(f"{message} [{self.status}]")


def _check(code, message_fn):
    if code != _lib.GM_OK:
        raise Error(code, message_fn())


_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
          "m": 60_000_000_000}


def parse_interval(value):
    """An interval in nanoseconds from "100ms", "1s", "250us" or a number
    of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"interval {value!r} is not a duration")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"interval {value!r} s is not a positive duration")
        return int(round(value * 1e9))
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ns|us|ms|s|m)\s*", str(value))
    if not m:
        raise ValueError(
            f"interval {value!r} is not a duration (examples: '100ms', '1s', 0.1)")
    return int(round(float(m.group(1)) * _UNITS[m.group(2)]))


def default_db():
    """The database greenml uses when none is named:
    $XDG_DATA_HOME/greenml/greenml.db, else ~/.local/share/greenml/greenml.db."""
    buf = ctypes.create_string_buffer(4096)
    if not _lib.gm_store_default_location(buf, len(buf)):
        raise Error(_lib.GM_ERR_INVALID_ARG, "the default database path is too long; pass db=PATH")
    return buf.value.decode()


def _num(v):
    return float("nan") if v is None else v


class Component:
    """One component's energy over the run. Units are in the names: _j
    joules, _w watts. `provenance` is "measured" or "modelled" and `signal`
    says how ("energy counter", "power sensor", "model"); `net_energy_j` is
    NaN when no idle baseline applies to it (`net_reason` says why)."""

    def __init__(self, d):
        self._d = d
        self.name = d["name"]
        self.kind = d["kind"]
        self.domain = d["domain"]
        self.source = d["source"]
        self.provenance = d["provenance"]
        self.signal = d["signal"]
        self.detail = d["detail"]
        self.in_total = d["in_total"]
        self.energy_j = _num(d["energy_j"])
        self.net_energy_j = _num(d["net_energy_j"])
        self.avg_power_w = _num(d["avg_power_w"])
        self.peak_power_w = _num(d["peak_power_w"])
        self.idle_power_w = _num(d["idle_power_w"])
        self.net_reason = d.get("net_reason")
        self.glitches = d["glitches"]
        self.read_errors = d["read_errors"]
        self.warnings = list(d["warnings"])
        # the part attributed to the measured process (None when the run
        # does not attribute): energy_j, net_energy_j, share_s, unknown_j,
        # provenance ("attributed by CPU-time share", ...)
        self.attributed = dict(d["attributed"]) if d.get("attributed") else None

    def to_dict(self):
        return dict(self._d)

    def __repr__(self):
        return (f"Component({self.name!r}, {self.energy_j:.3f} J, "
                f"{self.provenance} {self.signal}, source {self.source!r})")


class Phase:
    """A named window of the run: its energy in total and per component."""

    def __init__(self, d):
        self._d = d
        self.name = d["name"]
        self.start_s = d["start_s"]
        self.duration_s = d["duration_s"]
        self.energy_j = _num(d["energy_j"])
        self.net_energy_j = _num(d["net_energy_j"])
        self.provenance = d["provenance"]
        self.ended_by_stop = d["ended_by_exit"]
        self.components = {c["name"]: _num(c["energy_j"]) for c in d["components"]}
        self.net_components = {c["name"]: _num(c["net_energy_j"])
                               for c in d["components"]}
        # the measured process's part (NaN when the run does not attribute)
        self.attributed_energy_j = _num(d.get("attributed_energy_j"))
        self.attributed_net_energy_j = _num(d.get("attributed_net_energy_j"))
        self.attributed_components = {
            c["name"]: _num(c.get("attributed_energy_j")) for c in d["components"]}

    def to_dict(self):
        return dict(self._d)

    def __repr__(self):
        return (f"Phase({self.name!r}, {self.duration_s:.3f} s, "
                f"{self.energy_j:.3f} J {self.provenance})")


class Attribution:
    """What the measured process (and its children, or a cgroup) was charged
    of the machine's energy: never a measurement, always labelled with how
    it was attributed (`provenance`). `partial`: part of the energy could
    not be attributed (`unknown_j`), so `energy_j` is a lower bound."""

    def __init__(self, d):
        self._d = d
        self.to = d["to"]
        self.energy_j = _num(d["energy_j"])
        self.net_energy_j = _num(d["net_energy_j"])
        self.share_of_total_pct = _num(d["share_of_total_pct"])
        self.unknown_j = _num(d["unknown_j"])
        self.provenance = d["provenance"]
        self.partial = d["partial"]

    def to_dict(self):
        return dict(self._d)

    def __repr__(self):
        return (f"Attribution({self.to!r}, {self.energy_j:.3f} J, "
                f"{self.provenance}" + (", PARTIAL" if self.partial else "") + ")")


class Result:
    """A finished measurement: the document `greenml measure --json` writes,
    as attributes. `to_dict()` gives the document itself."""

    def __init__(self, doc):
        self._doc = doc
        self.run_id = doc["run_id"]
        self.duration_s = doc["duration_s"]
        self.interval_s = doc["interval_s"]
        self.total_energy_j = _num(doc["total_energy_j"])
        self.total_net_energy_j = _num(doc["total_net_energy_j"])
        self.total_provenance = doc["total_provenance"]
        self.total_partial = doc["total_partial"]
        self.partial_why = doc["total_partial_why"]
        self.carbon_g = _num(doc["carbon_g"])
        self.carbon_net_g = _num(doc["carbon_net_g"])
        self.carbon_intensity_g_per_kwh = _num(doc["carbon_intensity_g_per_kwh"])
        self.carbon_source = doc["carbon_source"]
        self.pue = doc["pue"]
        # the meter's own cost: CPU time of its sampler and writer threads
        self.meter_cpu_s = _num(doc["sampler_cpu_s"])
        self.idle_baseline = doc["idle_baseline"]
        self.idle_note = doc.get("idle_note")
        self.tags = dict(doc["tags"])
        self.components = [Component(c) for c in doc["components"]]
        self.phases = [Phase(p) for p in doc["phases"]]
        self.missing = list(doc["missing"])
        self.metrics = {m["name"]: {"unit": m["unit"], "mean": _num(m["mean"]),
                                    "max": _num(m["max"])}
                        for m in doc["metrics"]}
        self.store = doc["store"]
        a = doc.get("attributed")
        self.attributed = Attribution(a) if a else None

    def component(self, name):
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(f"no component {name!r}; the run has "
                       + ", ".join(c.name for c in self.components))

    def phase(self, name):
        for p in self.phases:
            if p.name == name:
                return p
        raise KeyError(f"no phase {name!r}")

    def to_dict(self):
        return json.loads(json.dumps(self._doc))

    def to_json(self, **kw):
        return json.dumps(self._doc, **kw)

    def to_pandas(self):
        """One row per component for the whole run (phase None) and per
        phase: energy and net energy in J with provenance. Needs pandas."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError(
                "Result.to_pandas() needs pandas (apt-get install "
                "python3-pandas, or pip install pandas); to_dict() needs "
                "nothing") from e
        rows = []
        for c in self.components:
            rows.append({"phase": None, "component": c.name, "kind": c.kind,
                         "source": c.source, "provenance": c.provenance,
                         "duration_s": self.duration_s,
                         "energy_j": c.energy_j,
                         "net_energy_j": c.net_energy_j,
                         "attributed_energy_j": _num(c.attributed["energy_j"])
                         if c.attributed else float("nan"),
                         "attributed_provenance": c.attributed["provenance"]
                         if c.attributed else None})
        by_name = {c.name: c for c in self.components}
        for p in self.phases:
            for name, e in p.components.items():
                c = by_name[name]
                rows.append({"phase": p.name, "component": name,
                             "kind": c.kind, "source": c.source,
                             "provenance": c.provenance,
                             "duration_s": p.duration_s, "energy_j": e,
                             "net_energy_j": p.net_components[name],
                             "attributed_energy_j": p.attributed_components[name],
                             "attributed_provenance": c.attributed["provenance"]
                             if c.attributed else None})
        return pd.DataFrame(rows)

    def __repr__(self):
        return (f"Result(run_id={self.run_id}, {self.duration_s:.3f} s, "
                f"{self.total_energy_j:.3f} J {self.total_provenance}"
                + (" PARTIAL" if self.total_partial else "") + ")")


def _auto_sync():
    """Waits for queued CUDA work when PyTorch is loaded and has used CUDA,
    so that a phase boundary is where the GPU work ends, not where it was
    queued."""
    torch = sys.modules.get("torch")
    if torch is None:
        return
    cuda = getattr(torch, "cuda", None)
    if cuda is not None and cuda.is_available() and cuda.is_initialized():
        cuda.synchronize()


class Meter:
    """Measures the energy of the code it surrounds.

    interval: sampling period ("100ms", "10ms", 0.05); db: a database path,
    None for greenml's default database, False for none; idle: "auto" (the
    host's stored idle baseline) or "none"; tags: labels stored with the
    run; label: what is measured (default: the script); region or
    carbon_intensity (gCO2e/kWh) and pue: carbon; cpu_tdp_w,
    dimm_capacitance_f, no_gpu: the models and sources, as the CLI's flags;
    gpus: "all", "none", or indices/UUIDs (a string "0,2" or a list)
    (default: CUDA_VISIBLE_DEVICES, else all);
    attribute: whose share of the machine's energy to report besides the
    machine's ("process": this process and its children, the default;
    "none"; or a cgroup v2 path such as "/system.slice/job.scope");
    sync: called at every phase boundary ("auto": torch.cuda.synchronize
    when PyTorch has used CUDA; None: nothing; or any callable).
    """

    def __init__(self, interval="100ms", db=None, idle="auto", tags=None,
                 label=None, region=None, carbon_intensity=None, pue=None,
                 cpu_tdp_w=None, dimm_capacitance_f=None, no_gpu=False,
                 gpus=None, sync="auto", attribute="process", **roots):
        self.interval_ns = parse_interval(interval)
        if idle not in ("auto", "none"):
            raise ValueError(f"idle {idle!r} is not 'auto' or 'none'")
        if sync == "auto":
            self._sync = _auto_sync
        elif sync is None or sync is False:
            self._sync = None
        elif callable(sync):
            self._sync = sync
        else:
            raise TypeError(f"sync {sync!r} is not 'auto', None or a callable")
        unknown = set(roots) - {"sysfs_root", "procfs_root", "devfs_root",
                                "nvml_lib", "dmidecode"}
        if unknown:
            raise TypeError("unexpected arguments: " + ", ".join(sorted(unknown)))
        if label is None:
            label = "python " + " ".join(sys.argv) if sys.argv and sys.argv[0] else "python"
        cfg = {"interval_ns": str(self.interval_ns), "idle": idle,
               "command": label, "kind": "measure",
               "no_gpu": "1" if no_gpu else "0"}
        if db is None:
            cfg["db"] = default_db()
        elif db is not False:
            cfg["db"] = os.fspath(db)
            if not cfg["db"]:
                raise ValueError("db='' names no database: pass a path, None "
                                 "for the default database, or False for none")
        if tags:
            cfg["tags"] = json.dumps({str(k): str(v) for k, v in tags.items()})
        for key, val in (("region", region), ("carbon_intensity", carbon_intensity),
                         ("pue", pue), ("cpu_tdp_w", cpu_tdp_w),
                         ("dimm_capacitance_f", dimm_capacitance_f)):
            if val is not None:
                cfg[key] = repr(float(val)) if key != "region" else str(val)
        if attribute == "process":
            cfg["track_pid"] = str(os.getpid())
        elif isinstance(attribute, str) and attribute.startswith("/"):
            cfg["track_cgroup"] = attribute
        elif attribute not in ("none", None, False):
            raise ValueError(f"attribute {attribute!r} is not 'process', "
                             "'none' or a cgroup v2 path starting with '/'")
        if gpus is not None:
            cfg["gpus"] = (gpus if isinstance(gpus, str)
                           else ",".join(str(g) for g in gpus))
        for key, val in roots.items():
            if val is not None:
                cfg[key] = os.fspath(val)
        self.db = cfg.get("db")
        self.tags = dict(tags or {})
        self._cfg = cfg
        self._session = None
        self._running = False
        self.result = None
        self.run_id = None
        # under `greenml measure`: phases go to the measuring process
        self.delegated = bool(os.environ.get("GREENML_MARK"))

    # ---- lifecycle ----------------------------------------------------------

    def start(self):
        if self._running:
            raise Error(_lib.GM_ERR_STATE, "the meter is already running")
        self.result = None
        if self.delegated:
            self._running = True
            return self
        keys = list(self._cfg)
        kv_k = (ctypes.c_char_p * len(keys))(*[k.encode() for k in keys])
        kv_v = (ctypes.c_char_p * len(keys))(*[self._cfg[k].encode() for k in keys])
        handle = ctypes.c_void_p()
        err = ctypes.create_string_buffer(1024)
        rc = _lib.gm_session_open_kv(kv_k, kv_v, len(keys), ctypes.byref(handle),
                                     err, len(err))
        _check(rc, lambda: err.value.decode(errors="replace")
               or _lib.gm_status_str(rc).decode())
        self._session = handle
        rc = _lib.gm_session_start(handle)
        if rc != _lib.GM_OK:
            msg = self._last_error()
            self._close()
            raise Error(rc, msg)
        self.run_id = _lib.gm_session_run_id(handle) or None
        self._running = True
        return self

    def stop(self, exit_code=0):
        """Stops the meter and returns the Result (None under `greenml
        measure`). A run the store could not record completely still has
        its Result; the store's failure is then raised after it is set."""
        if not self._running:
            raise Error(_lib.GM_ERR_STATE, "the meter is not running")
        self._running = False
        if self.delegated:
            _lib.gm_phase_end()
            return None
        rc = _lib.gm_session_stop(self._session, int(exit_code))
        doc = _lib.gm_session_json(self._session)
        err = self._last_error()
        if doc is not None:
            self.result = Result(json.loads(doc.decode()))
        self._close()
        if doc is None:
            raise Error(rc or _lib.GM_ERR_NO_MEMORY, err or "the run's document could not be built")
        if rc != _lib.GM_OK:
            raise Error(rc, err)
        return self.result

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if self._running:
            self.stop(exit_code=1 if exc_type else 0)
        return False

    def __del__(self):
        self._close()

    def _last_error(self):
        if not self._session:
            return ""
        return _lib.gm_session_last_error(self._session).decode(errors="replace")

    def _close(self):
        if getattr(self, "_session", None):
            _lib.gm_session_close(self._session)
            self._session = None

    # ---- phases -------------------------------------------------------------

    def begin(self, name):
        """Begins the phase `name` (ending the open one) now."""
        if not self._running:
            raise Error(_lib.GM_ERR_STATE, f"phase {name!r}: the meter is not running; "
                            "use it inside 'with greenml.Meter() as m:'")
        if self._sync:
            self._sync()
        b = str(name).encode()
        if self.delegated:
            rc = _lib.gm_phase_begin(b)
            _check(rc, lambda: f"phase {name!r} could not be marked for "
                               "greenml measure (GREENML_MARK)")
            return
        rc = _lib.gm_session_phase_begin(self._session, b, 0)
        _check(rc, lambda: f"phase {name!r}: " + (self._last_error() or
               "a phase name is 1 to 63 printable bytes"))

    def end(self):
        """Ends the open phase now."""
        if not self._running:
            raise Error(_lib.GM_ERR_STATE, "the meter is not running")
        if self._sync:
            self._sync()
        if self.delegated:
            rc = _lib.gm_phase_end()
            _check(rc, lambda: "the phase end could not be marked for "
                               "greenml measure (GREENML_MARK)")
            return
        rc = _lib.gm_session_phase_end(self._session, 0)
        _check(rc, self._last_error)

    @contextlib.contextmanager
    def phase(self, name):
        """with m.phase("epoch-1"): ... measures the block as a phase."""
        self.begin(name)
        try:
            yield self
        finally:
            self.end()


def measure(func=None, **meter_kwargs):
    """A decorator: each call of the function is measured by a Meter with
    these arguments (label: the function's name); the last call's Result is
    the wrapper's `last_result`.

        @greenml.measure(db=False)
        def train(): ...
    """

    def decorate(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            kw = dict(meter_kwargs)
            kw.setdefault("label", f"python {f.__module__}.{f.__qualname__}")
            with Meter(**kw) as m:
                out = f(*args, **kwargs)
            wrapper.last_result = m.result
            return out

        wrapper.last_result = None
        return wrapper

    return decorate(func) if func is not None else decorate
