"""Attribute values: how a :data:`~data.records.ParamValue` is stored in, and read from, HDF5.

Storage (so that plain h5py and HDFView show ordinary attributes):

=============  ==================================================================
Python         HDF5 attribute
=============  ==================================================================
``bool``       scalar 8-bit enum FALSE/TRUE (h5py's boolean)
``int``        scalar 64-bit signed integer
``float``      scalar 64-bit IEEE float
``str``        scalar fixed-length UTF-8 string, as many bytes as the text needs
``list[int]``  1-D 64-bit signed integers
``list[float]`` 1-D 64-bit floats (a list mixing ints and floats is stored as floats)
``list[str]``  1-D fixed-length UTF-8 strings, as wide as the longest item
``[]``         empty 1-D 64-bit floats (an empty list reads back as ``[]``)
=============  ==================================================================

Text is always *fixed-length*, never HDF5 variable-length: variable-length data lives in the
file's global heap, and HDF5 (up to 2.0 at least) can loop forever parsing a damaged global heap,
which would turn a corrupted file into a hung application. Fixed-length strings are NUL-padded;
text may not contain NUL, so the padding is removed exactly on reading (h5py returns them as
``bytes``; decode as UTF-8). The empty string is stored one byte wide.

Numpy scalars and 1-D numpy arrays of these kinds are accepted on the way in; on the way out every
value is a plain Python ``bool``, ``int``, ``float``, ``str`` or ``list``.
"""

from __future__ import annotations

import h5py
import numpy as np

from data.records import ParamValue

MAX_VALUE_BYTES = 32 * 1024
"""Largest encoded value accepted in one attribute. HDF5 attributes are meant for small metadata
(a single attribute message is capped at 64 KiB); anything bigger belongs in a dataset."""

_INT64 = np.iinfo(np.int64)


def check_text(text: str, what: str) -> None:
    """Raise ValueError unless ``text`` can round-trip through an HDF5 UTF-8 string.

    HDF5 strings are NUL-padded, so a NUL would cut the text short; lone surrogates have no
    UTF-8 form.
    """
    if not isinstance(text, str):
        raise ValueError(f"{what} must be text, not {type(text).__name__}")
    if "\x00" in text:
        raise ValueError(f"{what} contains a NUL character, which HDF5 strings cannot hold")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{what} is not valid Unicode text ({exc.reason})") from None


def _plain_scalar(value: object) -> bool | int | float | str | None:
    """``value`` as a plain Python scalar, or None if it is not an accepted scalar."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return None


def normalize(value: object, what: str) -> ParamValue:
    """The plain Python form of ``value``; ValueError if it is not a storable ParamValue.

    ``what`` names the value in error messages (e.g. ``"run ising-001: parameter 'size'"``).
    """
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise ValueError(f"{what}: arrays must be stored as datasets, not attributes")
        value = value.tolist()
    if isinstance(value, list | tuple):
        result: ParamValue = _plain_list(value, what)
    else:
        scalar = _plain_scalar(value)
        if scalar is None:
            raise ValueError(
                f"{what}: {type(value).__name__} is not a storable value "
                "(bool, int, float, str or a list of ints, floats or strings)"
            )
        if isinstance(scalar, str):
            check_text(scalar, what)
        _check_int_range(scalar, what)
        result = scalar
    size = _encoded_size(result)
    if size > MAX_VALUE_BYTES:
        raise ValueError(
            f"{what} is {size} bytes once encoded; attributes are limited to {MAX_VALUE_BYTES} "
            "bytes: store large settings as a dataset of the run instead"
        )
    return result


def _plain_list(values: list | tuple, what: str) -> list[int] | list[float] | list[str]:
    """The items of a list value as plain ints, floats (ints mixed with floats become floats)
    or strings (an empty list is ``[]``); ValueError for other items or text mixed with numbers."""
    items: list[int | float | str] = []
    for value in values:
        item = _plain_scalar(value)
        if item is None or isinstance(item, bool):
            raise ValueError(f"{what}: a list must hold only ints, only floats or only strings")
        items.append(item)
    texts = [item for item in items if isinstance(item, str)]
    if len(texts) == len(items):
        for i, text in enumerate(texts):
            check_text(text, f"{what}[{i}]")
        return texts
    if texts:
        raise ValueError(f"{what}: a list must not mix text and numbers")
    if any(isinstance(item, float) for item in items):
        return [float(item) for item in items]
    ints = [item for item in items if isinstance(item, int)]  # all of them: no text, no float
    for number in ints:
        _check_int_range(number, what)
    return ints


def _check_int_range(value: object, what: str) -> None:
    in_range = not isinstance(value, int) or _INT64.min <= value <= _INT64.max
    if not in_range:
        raise ValueError(f"{what}: {value} does not fit in a 64-bit signed integer")


def _encoded_size(value: ParamValue) -> int:
    """Bytes of data the stored attribute holds (UTF-8 bytes for text, 8 per number)."""
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, list):
        return sum(len(v.encode("utf-8")) if isinstance(v, str) else 8 for v in value)
    return 8


def write_attr(attrs: h5py.AttributeManager, name: str, value: ParamValue) -> None:
    """Store a normalized value (see :func:`normalize`) as attribute ``name``."""
    if isinstance(value, bool):
        attrs.create(name, np.bool_(value))
    elif isinstance(value, int):
        attrs.create(name, np.int64(value))
    elif isinstance(value, float):
        attrs.create(name, np.float64(value))
    elif isinstance(value, str) or (value and isinstance(value[0], str)):
        attrs.create(name, encode_text(value))
    elif value and isinstance(value[0], int):
        attrs.create(name, np.array(value, dtype=np.int64))
    else:
        attrs.create(name, np.array(value, dtype=np.float64))


def encode_text(text: str | list[str], width: int = 1) -> np.ndarray:
    """UTF-8, NUL-padded fixed-length strings: a 0-d array for a str, 1-D for a list.

    The width is that of the longest item, and at least ``width``. The dtype is h5py's
    fixed-length string type tagged UTF-8, so HDF5 stores the text with the UTF-8 character set.
    """
    items = [text] if isinstance(text, str) else text
    encoded = [item.encode("utf-8") for item in items]
    dtype = h5py.string_dtype("utf-8", max([width, *map(len, encoded)]))
    return np.array(encoded[0] if isinstance(text, str) else encoded, dtype=dtype)


def read_value(raw: object, what: str) -> ParamValue:
    """The ParamValue of an attribute as h5py returns it; ValueError if it cannot be one.

    Accepts what :func:`write_attr` writes and, for files written by other tools, fixed-length
    byte strings (decoded as UTF-8) and narrower integer and float types.
    """
    if isinstance(raw, bytes | np.bytes_):
        return _decode(bytes(raw), what)
    if isinstance(raw, np.ndarray):
        if raw.ndim != 1:
            raise ValueError(f"{what} is a {raw.ndim}-D array, not a value")
        kind = raw.dtype.kind
        if kind in "iu":
            return [int(v) for v in raw]
        if kind == "f":
            return [float(v) for v in raw]
        if kind in "OSU":
            return [_text_item(v, f"{what}[{i}]") for i, v in enumerate(raw)]
        raise ValueError(f"{what} is an array of unsupported type {raw.dtype}")
    scalar = _plain_scalar(raw)
    if scalar is None:
        raise ValueError(f"{what} has unsupported type {type(raw).__name__}")
    return scalar


def _text_item(item: object, what: str) -> str:
    if isinstance(item, bytes | np.bytes_):
        return _decode(bytes(item), what)
    if isinstance(item, str):
        return item
    raise ValueError(f"{what} is not text")


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{what} is not valid UTF-8 text") from None
