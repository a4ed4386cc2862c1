"""How ±1 spin configurations are stored: int8 frames compressed by HDF5's own filters.

A run dataset that is an int8 array of at least two axes whose values are all ±1 (Ising
samples ``(N, L, L)``, RBM samples, RG levels, persistent chains ``(C, n)``) is a *spin array*.
Since schema 3 it is stored as what it is, an int8 dataset of the same shape, so that plain
h5py, ``h5dump`` and HDFView read ``(N, L, L)`` int8 ±1 without any decoding; only filters built
into every HDF5 library shrink it (:func:`spin_layout`):

- **scale-offset** (integer mode, minimum bits computed per chunk: lossless) stores each spin in
  the fewest bits the chunk needs (2 for a chunk holding both signs, 1 for a uniform one);
- **deflate** on top removes what is left of the correlations between neighbouring spins (the
  dataset says level 4, what a plain HDF5 writer appending frames uses);
- **Fletcher-32** last, over the stored bytes, so a damaged chunk is an error before any
  decoder sees it (h5py's high-level API refuses this combination because scale-offset *can*
  be lossy; in integer mode it is not, and the checksum order is the one h5py uses otherwise).

Chunks hold whole frames, :data:`SPIN_CHUNK_BYTES` of spins (64 frames of 64×64). On 64×64
configurations at T_c this gives about 0.07–0.085 byte per spin (see :data:`RLE`), against 1
byte uncompressed (``python -m benchmarks.recording``).

Monge Lab does not run spin chunks through HDF5's filter pipeline, which compresses in one
thread at a time and always with zlib's default deflate strategy: :func:`encode_spin_chunk`
computes the scale-offset bytes, deflates them with the strategy that suits spins (see
:data:`RLE`), appends the Fletcher-32, and :func:`write_spin_chunks` stores the result with
``write_direct_chunk``. Any HDF5 decodes these chunks with its built-in filters, like those it
compresses itself (with its default strategy the bytes are identical). :func:`direct_chunks_match`
checks once per process, against the HDF5 library loaded, that the format is HDF5's, else the
writers let HDF5 compress.

Schema 2 stored spin arrays bit-packed instead: uint8 ``(N, ceil(F / 8))``, F the spins of one
frame flattened in C order, bit 1 for +1, most significant bit first, the last byte padded with
zero bits, marked by the dataset attributes ``spin_encoding = "packbits"`` and ``spin_shape``
(the frame shape). Only the decoding is kept (:func:`unpack_spins`), for the migration of
schema-2 files and the reading of version-1 recordings; the two attribute names stay reserved.
"""

from __future__ import annotations

import functools
import io
import math
import zlib

import h5py
import numpy as np
from h5py import h5p, h5z

SPIN_CHUNK_BYTES = 1 << 18
"""Spins per chunk of a spin dataset (one byte each before compression): 64 frames of 64×64.
Chunks of 16 to 256 such frames compress alike (within 0.5%); fewer, larger chunks mean fewer
filter calls per frame, while a chunk must stay well below HDF5's 1 MiB chunk cache."""

ENCODING = "packbits"
"""Value of the ``spin_encoding`` attribute of a bit-packed (schema-2) dataset."""

ENCODING_ATTR, SHAPE_ATTR = "spin_encoding", "spin_shape"
"""Dataset attributes of a schema-2 packed spin dataset (reserved: a record may not use them)."""


def is_spin_array(array: np.ndarray) -> bool:
    """True if ``array`` is stored as spins: int8, ≥ 2 axes, frames of ≥ 1 spin, all values ±1."""
    if array.dtype != np.int8 or array.ndim < 2 or math.prod(array.shape[1:]) == 0:
        return False
    return bool(np.all((array == 1) | (array == -1)))


def spin_chunk_rows(frame_shape: tuple[int, ...]) -> int:
    """Frames per chunk of a spin dataset whose frames have ``frame_shape``."""
    return max(1, SPIN_CHUNK_BYTES // max(1, math.prod(frame_shape)))


def spin_layout(frame_shape: tuple[int, ...], gzip_level: int, rows: int | None = None) -> dict:
    """Keyword arguments of ``h5py.Group.create_dataset`` for int8 spin frames of
    ``frame_shape``: resizable along the first axis, chunks of whole frames, scale-offset then
    deflate at ``gzip_level`` then Fletcher-32 (see the module docstring).

    ``rows``, for an array written whole, caps the chunk at the frames there are (at least 1).
    Each call makes a new property list, for one dataset: h5py adds its filters to the list it
    is given, so a list used twice would hold them twice.
    """
    frame_shape = tuple(int(n) for n in frame_shape)
    chunk_rows = spin_chunk_rows(frame_shape)
    if rows is not None:
        chunk_rows = max(1, min(chunk_rows, rows))
    dcpl = h5p.create(h5p.DATASET_CREATE)  # h5py adds chunking, deflate and the checksum after
    dcpl.set_scaleoffset(h5z.SO_INT, h5z.SO_INT_MINBITS_DEFAULT)
    return {
        "dcpl": dcpl,
        "maxshape": (None, *frame_shape),
        "chunks": (chunk_rows, *frame_shape),
        "compression": "gzip",
        "compression_opts": gzip_level,
        "fletcher32": True,
    }


SO_HEADER_BYTES = 21
"""HDF5's scale-offset chunk header: minbits (4 bytes, little-endian), the size of minval (1
byte, 8), minval (8 bytes, little-endian, sign-extended), 8 zero bytes."""

RLE, HUFFMAN, DEFAULT = zlib.Z_RLE, zlib.Z_HUFFMAN_ONLY, zlib.Z_DEFAULT_STRATEGY
"""zlib deflate strategies. HDF5's deflate filter compresses with the default one; its decoder
(zlib's inflate) reads a stream made with any of them. After scale-offset a byte holds four
spins, and LZ77 matching finds little among such bytes: on 64×64 frames at T_c, run-length
matching alone (``RLE``) gives 0.078–0.085 byte per spin in ~15 µs a frame, Huffman coding
alone 0.071–0.087 in ~12 µs, against 0.094–0.098 in ~25 µs for the default strategy at level 1
and 0.086–0.091 in ~45 µs at level 4; ``RLE`` is also the smallest of these in the ordered
phase (T = 1.5: 0.011, level 4: 0.015) and the hot one (T = 6: 0.125, level 4: 0.143)."""

RECORDING_STRATEGIES = (RLE,)
"""Deflate strategies of a live recording's spin chunks: the fastest that is smaller than
level 4 at every temperature."""
SESSION_STRATEGIES = (RLE, HUFFMAN)
"""Deflate strategies tried for each spin chunk of a session, the smaller result kept: written
once, so twice the work buys the smallest file (0.074–0.085 byte per spin at T_c in
``benchmarks.recording``, against 0.080–0.085 for ``RLE`` alone)."""


def scale_offset(chunk: np.ndarray) -> bytes | None:
    """HDF5's scale-offset encoding (integer, minimum bits computed) of ``chunk``, int8 spins
    ±1 maybe padded with the fill value 0, or None for any other value.

    HDF5 counts the default fill value 0 as defined, and reserves the largest code for it: of
    the other values it subtracts their minimum and keeps ``minbits = ceil(log2(max - min + 2))``
    bits of each, the fill value getting all ones, most significant bit first, followed by one
    spare zero byte. ±1 spins take 2 bits (+1 is ``10``, -1 ``00``, padding ``11``); a chunk of
    one spin value 1 bit (``0``, padding ``1``).
    """
    flat = np.asarray(chunk, dtype=np.int8).reshape(-1)
    low, high = int(flat.min()), int(flat.max())
    if low < -1 or high > 1:
        return None
    zeros = int(np.count_nonzero(flat == 0)) if low <= 0 <= high else 0
    if zeros == 0 and low == -1 and high == 1:  # the usual chunk: both signs, 2 bits each
        return (
            _header(2, -1)
            + _two_bit_codes(flat > 0)
            + bytes(flat.size * 2 // 8 + 1 - (flat.size * 2 + 7) // 8)
        )
    if zeros == 0:  # one sign: 1 zero bit each
        return _header(1, low) + bytes(flat.size // 8 + 1)
    return _scale_offset_with_fill(flat, zeros)


_SPREAD = np.array(
    [
        [
            sum(((half >> (3 - i)) & 1) << (7 - 2 * i) for i in range(4))
            for half in (byte >> 4, byte & 15)
        ]
        for byte in range(256)
    ],
    dtype=np.uint8,
)
"""For each byte of 8 bits, the two bytes of 2-bit fields ``b0 0 b1 0 …``: 8 spins packed one
bit each (+1 as 1) become their 2-bit codes (+1 as ``10``, -1 as ``00``)."""


def _header(minbits: int, low: int) -> bytes:
    header = bytearray(SO_HEADER_BYTES)
    header[0:4] = minbits.to_bytes(4, "little")
    header[4] = 8
    header[5:13] = (low & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
    return bytes(header)


def _two_bit_codes(positive: np.ndarray) -> bytes:
    """The 2-bit codes of spins given as ``positive`` (True for +1), packed MSB first."""
    codes = _SPREAD[np.packbits(positive)].reshape(-1)
    return codes[: (positive.size * 2 + 7) // 8].tobytes()


def _scale_offset_with_fill(flat: np.ndarray, zeros: int) -> bytes:
    """Scale-offset of spins some of which are the fill value 0 (a padded last chunk)."""
    positive, fill = flat > 0, flat == 0
    plus = int(np.count_nonzero(positive))
    minus = flat.size - plus - zeros
    minbits = 2 if plus and minus else 1
    low = -1 if minus else (1 if plus else 0)
    if minbits == 1:  # one sign (or none): its code is 0, the fill value's 1
        packed = np.packbits(fill)
    else:  # -1: 00, +1: 10, fill: 11
        bits = np.empty(2 * flat.size, dtype=bool)
        bits[0::2] = positive | fill
        bits[1::2] = fill
        packed = np.packbits(bits)
    size = flat.size * minbits // 8 + 1
    return _header(minbits, low) + packed.tobytes() + bytes(size - packed.size)


def deflate(data: bytes, level: int, strategy: int = DEFAULT) -> bytes:
    """A zlib stream of ``data`` (what HDF5's deflate filter stores, for ``DEFAULT``)."""
    if strategy == DEFAULT:
        return zlib.compress(data, level)
    compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS, 8, strategy)
    return compressor.compress(data) + compressor.flush()


def encode_spin_chunk(
    chunk: np.ndarray, level: int = 1, strategies: tuple[int, ...] = (DEFAULT,)
) -> bytes | None:
    """The bytes to store for ``chunk``, one whole chunk of a dataset in :func:`spin_layout`:
    :func:`scale_offset`, then deflate with each of ``strategies`` at ``level`` (the shortest
    result kept), then its Fletcher-32, little-endian. With the default strategy these are the
    very bytes HDF5 stores. None if the chunk is not spins (a span of values above 4)."""
    encoded = scale_offset(chunk)
    if encoded is None:
        return None
    deflated = min((deflate(encoded, level, strategy) for strategy in strategies), key=len)
    return deflated + fletcher32(deflated).to_bytes(4, "little")


def fletcher32(data: bytes) -> int:
    """HDF5's Fletcher-32 checksum of ``data`` (``H5_checksum_fletcher32``): 16-bit big-endian
    words (an odd last byte padded with zero), both sums started at 0 and folded modulo 65535,
    so that a sum is 0 only for data of zeros and otherwise lies in 1 … 65535."""
    octets = np.frombuffer(data, dtype=np.uint8)
    if octets.size % 2:
        octets = np.concatenate([octets, np.zeros(1, dtype=np.uint8)])
    words = (octets[0::2].astype(np.int64) << 8) | octets[1::2]
    if not words.any():
        return 0
    weights = np.arange(words.size, 0, -1, dtype=np.int64)  # word i enters sum2 n - i times
    first = int(words.sum()) % 0xFFFF or 0xFFFF
    second = int((words * weights % 0xFFFF).sum()) % 0xFFFF or 0xFFFF
    return (second << 16) | first


def write_spin_chunks(
    dataset: h5py.Dataset, start: int, frames: np.ndarray, strategies: tuple[int, ...]
) -> None:
    """Store ``frames`` (±1 spins) at row ``start`` of ``dataset`` (in :func:`spin_layout`,
    ``start`` a multiple of its chunk rows, the extent already large enough), chunk by chunk,
    each encoded here and written with ``write_direct_chunk``. The rows of a last, partial
    chunk are padded with the fill value 0, as HDF5 pads them."""
    rows = dataset.chunks[0]
    level = dataset.compression_opts
    tail = (0,) * (dataset.ndim - 1)
    for offset in range(0, len(frames), rows):
        block = frames[offset : offset + rows]
        if len(block) < rows:
            block = np.concatenate(
                [block, np.zeros((rows - len(block), *block.shape[1:]), dtype=np.int8)]
            )
        encoded = encode_spin_chunk(block, level, strategies)
        if encoded is None:
            raise ValueError("spin chunks hold ±1 values only")
        dataset.id.write_direct_chunk((start + offset, *tail), encoded)


@functools.cache
def direct_chunks_match(strategies: tuple[int, ...] = SESSION_STRATEGIES) -> bool:
    """True if the loaded HDF5 library stores exactly what :func:`encode_spin_chunk` gives with
    its default strategy (for mixed and uniform chunks, and a last chunk HDF5 pads with the
    fill value), and reads back chunks made by :func:`write_spin_chunks` with ``strategies``
    (in an in-memory file)."""
    mixed = np.where(np.arange(5 * 4 * 5).reshape(5, 4, 5) % 3, 1, -1).astype(np.int8)
    probes = [mixed, np.ones((5, 4, 5), np.int8), -np.ones((5, 4, 5), np.int8)]
    try:
        with h5py.File(io.BytesIO(), "w") as f:
            for i, probe in enumerate(probes):  # chunks of 3 rows: rows 3-4 padded by HDF5
                layout = spin_layout(probe.shape[1:], 4, rows=3)
                dataset = f.create_dataset(f"hdf5-{i}", data=probe, **layout)
                padded = np.concatenate([probe[3:], np.zeros((1, 4, 5), np.int8)])
                for start, block in ((0, probe[:3]), (3, padded)):
                    _, stored = dataset.id.read_direct_chunk((start, 0, 0))
                    if bytes(stored) != encode_spin_chunk(block, 4):
                        return False
                ours = f.create_dataset(
                    f"ours-{i}",
                    shape=probe.shape,
                    dtype=np.int8,
                    **spin_layout(probe.shape[1:], 4, rows=3),
                )
                write_spin_chunks(ours, 0, probe, strategies)
                if not np.array_equal(ours[()], probe):
                    return False
    except Exception:
        return False
    return True


def packed_width(frame_shape: tuple[int, ...]) -> int:
    """Bytes per bit-packed (schema-2) frame: ceil(spins per frame / 8)."""
    return (math.prod(frame_shape) + 7) // 8


def decode_packed(packed: np.ndarray, encoding: object, shape: object) -> np.ndarray:
    """The int8 ±1 frames of a bit-packed dataset whose ``spin_encoding`` and ``spin_shape``
    attribute values (as read: text, list of ints, or None if absent) are ``encoding`` and
    ``shape``. ValueError, saying what does not fit, unless they describe ``packed``."""
    if encoding != ENCODING:
        raise ValueError(f"spin_encoding is {encoding!r}, expected {ENCODING!r}")
    frame_shape = _frame_shape(shape)
    if (
        frame_shape is None
        or packed.dtype != np.uint8
        or packed.ndim != 2
        or packed.shape[1] != packed_width(frame_shape)
    ):
        raise ValueError(
            f"packed spins {packed.dtype} {packed.shape} do not match spin_shape {shape!r}"
        )
    return unpack_spins(packed, frame_shape)


def _frame_shape(shape: object) -> tuple[int, ...] | None:
    """A ``spin_shape`` value as read, as a frame shape; None unless it is a non-empty list of
    positive ints."""
    if not (
        isinstance(shape, list)
        and len(shape) >= 1
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
    ):
        return None
    return tuple(shape)


def unpack_spins(packed: np.ndarray, frame_shape: tuple[int, ...]) -> np.ndarray:
    """The int8 ±1 frames ``(N, *frame_shape)`` of bit-packed rows ``(N, packed_width)``."""
    count = math.prod(frame_shape)
    bits = np.unpackbits(packed, axis=1, count=count)
    spins = bits.astype(np.int8)
    spins *= 2
    spins -= 1
    return spins.reshape(packed.shape[0], *frame_shape)
