"""Minimal safetensors reader/writer (numpy / torch), no dependency on the `safetensors` package.

Format: 8-byte little-endian u64 header length N, then N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
then the raw little-endian tensor bytes; offsets are relative to the end of the header.
The writer pads the header with spaces so the data starts at a multiple of 8.
"""
import json
import struct

import numpy as np

_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def load_numpy(path):
    """Return ({name: np.ndarray}, metadata) for a .safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: too short for a safetensors file" % path)
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError("%s: header length %d past end of file" % (path, n))
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    out = {}
    for name, info in header.items():
        dt = _DTYPES.get(info["dtype"])
        if dt is None:
            raise ValueError("%s: tensor %s has unsupported dtype %s" % (path, name, info["dtype"]))
        b, e = info["data_offsets"]
        shape = tuple(info["shape"])
        count = int(np.prod(shape)) if shape else 1
        if e - b != count * dt.itemsize or base + e > len(raw):
            raise ValueError("%s: tensor %s has bad data_offsets %r" % (path, name, (b, e)))
        out[name] = np.frombuffer(raw, dtype=dt, count=count, offset=base + b).reshape(shape).copy()
    return out, meta


def save_numpy(tensors, path, metadata=None):
    """Write {name: np.ndarray} (sorted by name) to `path`."""
    header, chunks, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        a = np.asarray(tensors[name])
        dt = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        if dt not in _NAMES:
            raise ValueError("tensor %s: unsupported dtype %s" % (name, a.dtype))
        buf = np.ascontiguousarray(a, dtype=dt).tobytes()
        header[name] = {"dtype": _NAMES[dt], "shape": list(a.shape), "data_offsets": [off, off + len(buf)]}
        chunks.append(buf)
        off += len(buf)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((-(8 + len(hb))) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for c in chunks:
            f.write(c)


def load_torch(path, dtype=None):
    import torch
    arrs, _ = load_numpy(path)
    out = {}
    for k, v in arrs.items():
        t = torch.from_numpy(v)
        if dtype is not None and t.is_floating_point():
            t = t.to(dtype)
        out[k] = t
    return out


def save_torch(state_dict, path, dtype=None, metadata=None):
    """dtype: None (keep), 'F32' or 'F16' for floating tensors."""
    import torch
    arrs = {}
    for k, v in state_dict.items():
        t = v.detach().cpu()
        if t.is_floating_point() and dtype == "F32":
            t = t.float()
        elif t.is_floating_point() and dtype == "F16":
            t = t.half()
        arrs[k] = t.contiguous().numpy()
    save_numpy(arrs, path, metadata)
