"""The value codec: plain data <-> tagged JSON, the only form in which values cross the sandbox's boundary.

Public and shared by both sides: the parent encodes call inputs and decodes outputs
(``evaluators.code.sandbox.child.codec``); the worker decodes inputs and encodes outputs. Only *exact* built-in types
are encoded (``str``, ``bool``, ``int``, ``float``, ``None``, ``list``, ``tuple``, ``set``, ``frozenset``, ``dict``,
``bytes``, ``complex``); anything else, a subclass included, becomes ``{"$unsupported":""}``, so no object of the
program's own making (for instance one whose ``__eq__`` always returns True) can leave the sandbox.

Encoding (JSON text): ``str``/``bool``/``None``/finite ``float``/``list`` as JSON; ``int`` as a JSON number, or
``{"$int":"<hex>"}`` from ``10**600`` up; ``{"$float":"nan"|"inf"|"-inf"}``; ``{"$tuple":[...]}``, ``{"$set":[...]}``,
``{"$frozenset":[...]}``; ``{"$dict":[[k, v], ...]}``; ``{"$bytes":"<base64>"}``; ``{"$complex":[re, im]}``;
``{"$digest":"<sha256>"}`` for an encoding longer than ``DIGEST_OVER`` characters (see ``digest_if_large``).

``encode_value``, ``clone_value`` and ``digest_if_large`` run in the worker after the untrusted program has started, so
every built-in they use is bound when this module is imported (closure variables, not module globals): a program
that patches ``builtins`` or this module cannot change what they do. Standard library only.
"""

from __future__ import annotations

import binascii
import hashlib
import json

MAX_DEPTH = 200  # nesting depth accepted by the value codec
MAX_NODES = 20_000_000  # values (atoms + containers) per encoded object
_INT_DECIMAL_LIMIT = 10**600  # ints at least this large are sent in hex (CPython limits int->str conversion)
DIGEST_OVER = 65536  # an encoded output longer than this crosses the boundary as its SHA-256 only
UNSUPPORTED_TEXT = '{"$unsupported":""}'


class _TooComplex(Exception):
    """Raised inside the encoder for a value it refuses (a non-plain type, too deep, too many nodes)."""


def _make_atom_encoder():
    """``atom(value, type, out) -> bool``: append the encoding of an atom to ``out``; False if not an atom."""
    _int_repr, _float_repr, _int_format = int.__repr__, float.__repr__, int.__format__
    _esc, _b64 = json.encoder.encode_basestring_ascii, binascii.b2a_base64
    _str, _int, _float, _bool, _none, _bytes, _complex = str, int, float, bool, type(None), bytes, complex
    _lim, _inf = _INT_DECIMAL_LIMIT, float("inf")

    def float_text(v):
        if v != v:
            return '{"$float":"nan"}'
        if v == _inf:
            return '{"$float":"inf"}'
        if v == -_inf:
            return '{"$float":"-inf"}'
        return _float_repr(v)

    def atom(v, t, out):
        if t is _str:
            out.append(_esc(v))
        elif t is _bool:
            out.append("true" if v else "false")
        elif t is _int:
            out.append(_int_repr(v) if -_lim < v < _lim else '{"$int":"' + _int_format(v, "x") + '"}')
        elif t is _float:
            out.append(float_text(v))
        elif t is _none:
            out.append("null")
        elif t is _bytes:
            out.append('{"$bytes":"' + _b64(v, newline=False).decode("ascii") + '"}')
        elif t is _complex:
            out.append('{"$complex":[' + float_text(v.real) + "," + float_text(v.imag) + "]}")
        else:
            return False
        return True

    return atom


def _make_encoder(atom):
    """``encode(value) -> str``: the JSON text of a value made of exact built-in types, or ``UNSUPPORTED_TEXT``."""
    _type, _join, _enumerate = type, "".join, enumerate
    _list, _tuple, _dict, _set, _frozenset = list, tuple, dict, set, frozenset
    _openers = {_tuple: '{"$tuple":[', _set: '{"$set":[', _frozenset: '{"$frozenset":['}
    _max_depth, _max_nodes, _unsupported = MAX_DEPTH, MAX_NODES, UNSUPPORTED_TEXT
    _refused = (_TooComplex, RecursionError, MemoryError, OverflowError)

    def enc(v, depth, out, count):
        count[0] += 1
        if depth > _max_depth or count[0] > _max_nodes:
            raise _TooComplex
        t = _type(v)
        if atom(v, t, out):
            return
        if t is _list or t is _tuple or t is _set or t is _frozenset:
            out.append("[" if t is _list else _openers[t])
            for i, item in _enumerate(v):
                if i:
                    out.append(",")
                enc(item, depth + 1, out, count)
            out.append("]" if t is _list else "]}")
        elif t is _dict:
            out.append('{"$dict":[')
            for i, (k, item) in _enumerate(v.items()):
                out.append(",[" if i else "[")
                enc(k, depth + 1, out, count)
                out.append(",")
                enc(item, depth + 1, out, count)
                out.append("]")
            out.append("]}")
        else:
            raise _TooComplex

    def encode(value) -> str:
        """JSON text for a value made of exact built-in types; ``{"$unsupported":""}`` for anything else."""
        out = []
        try:
            enc(value, 0, out, [0])
        except _refused:
            return _unsupported
        return _join(out)

    return encode


def _make_clone():
    """``clone(value) -> value``: a fresh deep copy of plain data (the inputs of a call)."""
    _type, _list, _tuple, _dict, _set, _max_depth = type, list, tuple, dict, set, MAX_DEPTH
    _ValueError = ValueError

    def clone(value, depth=0):
        """A fresh deep copy of plain data, built from exact built-in types only."""
        t = _type(value)
        if depth > _max_depth:
            raise _ValueError("input nested too deeply")
        if t is _list:
            return [clone(x, depth + 1) for x in value]
        if t is _tuple:
            return _tuple(clone(x, depth + 1) for x in value)
        if t is _dict:
            return {clone(k, depth + 1): clone(x, depth + 1) for k, x in value.items()}
        if t is _set:
            return {clone(x, depth + 1) for x in value}
        return value  # immutable atoms (and frozensets of atoms)

    return clone


def _make_digest():
    """``digest_if_large(encoded) -> str``: the text itself, or ``{"$digest": sha256}`` when it is long."""
    _len, _sha256, _digest_over = len, hashlib.sha256, DIGEST_OVER  # sha256: a C function bound at import

    def digest_if_large(encoded: str) -> str:
        """``encoded`` itself, or ``{"$digest": sha256}`` when longer than ``DIGEST_OVER`` characters."""
        if _len(encoded) <= _digest_over:
            return encoded
        return '{"$digest":"' + _sha256(encoded.encode("utf-8", "surrogatepass")).hexdigest() + '"}'

    return digest_if_large


encode_value = _make_encoder(_make_atom_encoder())
clone_value = _make_clone()
digest_if_large = _make_digest()


class Digest:
    """A large value, known by the SHA-256 of its encoding: equal to a Digest of the same encoding only."""

    def __init__(self, hexdigest: str) -> None:
        self.hexdigest = str(hexdigest)

    def __eq__(self, other):
        return isinstance(other, Digest) and other.hexdigest == self.hexdigest

    def __hash__(self) -> int:
        return hash(self.hexdigest)

    def __repr__(self) -> str:
        return f"<digest {self.hexdigest[:12]}>"


class Unsupported:
    """Stands for a value the program returned that is not plain data; equal to nothing."""

    __hash__ = object.__hash__

    def __eq__(self, other):
        return False

    def __repr__(self) -> str:
        return "<unsupported value>"


_DECODERS = {
    "$tuple": lambda body: tuple(decode_value(x) for x in body),
    "$set": lambda body: {decode_value(x) for x in body},
    "$frozenset": lambda body: frozenset(decode_value(x) for x in body),
    "$dict": lambda body: {decode_value(k): decode_value(v) for k, v in body},
    "$int": lambda body: int(body, 16),
    "$float": float,
    "$bytes": lambda body: binascii.a2b_base64(body, strict_mode=True),
    "$complex": lambda body: complex(decode_value(body[0]), decode_value(body[1])),
    "$unsupported": lambda body: Unsupported(),
    "$digest": Digest,
}


def decode_value(obj):
    """Inverse of ``encode_value`` applied to ``json.loads`` output. Raises ValueError on malformed input."""
    if isinstance(obj, list):
        return [decode_value(x) for x in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) != 1:
        raise ValueError(f"malformed encoded value: {sorted(obj)[:3]}")
    ((tag, body),) = obj.items()
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise ValueError(f"unknown tag {tag!r} in encoded value")
    try:
        return decoder(body)
    except (TypeError, IndexError, binascii.Error) as exc:
        raise ValueError(f"malformed {tag} body in encoded value: {exc}") from None
