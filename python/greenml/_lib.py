"""Loading libgreenml and declaring the C functions the package calls.

Only opaque handles and strings cross the boundary: the session is
configured with key/value text (gm_session_open_kv) and its result comes
back as the JSON document that `greenml measure --json` writes, so no C
structure is mirrored here.
"""

import ctypes
import os

_SONAME = "libgreenml.so.0"


def _candidates():
    env = os.environ.get("GREENML_LIB")
    if env:
        # an explicit choice is the only one tried: a wrong path must fail
        yield env
        return
    try:
        from . import _paths  # written by `make install`

        yield os.path.join(_paths.LIBDIR, _SONAME)
    except ImportError:
        pass
    yield os.path.join(os.path.dirname(os.path.abspath(__file__)), _SONAME)
    yield _SONAME  # the dynamic loader's search path


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(f"{path} (no such file)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append(f"{path} ({e})")
    raise ImportError(
        "greenml: cannot load libgreenml: tried "
        + "; ".join(tried)
        + ". Install greenml (make install) or set GREENML_LIB to the path "
        "of libgreenml.so.0"
    )


lib, path = _load()

_vp = ctypes.c_void_p
_cp = ctypes.c_char_p
_i = ctypes.c_int
_i64 = ctypes.c_int64
_sz = ctypes.c_size_t


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


gm_status_name = _fn("gm_status_name", _cp, _i)
gm_status_str = _fn("gm_status_str", _cp, _i)
gm_session_open_kv = _fn(
    "gm_session_open_kv",
    _i,
    ctypes.POINTER(_cp),
    ctypes.POINTER(_cp),
    _sz,
    ctypes.POINTER(_vp),
    _cp,
    _sz,
)
gm_session_start = _fn("gm_session_start", _i, _vp)
gm_session_phase_begin = _fn("gm_session_phase_begin", _i, _vp, _cp, _i64)
gm_session_phase_end = _fn("gm_session_phase_end", _i, _vp, _i64)
gm_session_stop = _fn("gm_session_stop", _i, _vp, _i)
gm_session_json = _fn("gm_session_json", _cp, _vp)
gm_session_last_error = _fn("gm_session_last_error", _cp, _vp)
gm_session_idle_note = _fn("gm_session_idle_note", _cp, _vp)
gm_session_run_id = _fn("gm_session_run_id", _i64, _vp)
gm_session_close = _fn("gm_session_close", None, _vp)
gm_store_default_location = _fn("gm_store_default_location", ctypes.c_bool, _cp, _sz)
gm_phase_begin = _fn("gm_phase_begin", _i, _cp)
gm_phase_end = _fn("gm_phase_end", _i)

GM_OK = 0
GM_ERR_INVALID_ARG = 1
GM_ERR_NO_MEMORY = 2
GM_ERR_STATE = 11
