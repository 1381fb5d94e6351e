"""A cheap text test run before any parse: may this file hold a conv-family call?

One compiled bytes regular expression, one ``search`` per file. A file that fails it produces no
findings and is never parsed, so the test must be a *necessary* condition for anything convlint
reports in that file, yet strict enough to drop most files of an ML repository.

It matches, word-bounded and case-sensitive (a case-insensitive ``conv`` would match "convert"):

- torch.nn: ``Conv1d``..``Conv3d``, ``ConvTranspose1d``..``3d``, ``LazyConv*``, pooling
  (``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``, ...), ``Upsample``, ``Upsampling*2d``;
- torch.nn.functional: ``conv1d``..``conv_transpose3d``, ``max_pool*``, ``avg_pool*``,
  ``interpolate``;
- jax.lax: ``conv_general_dilated``, ``conv_with_general_padding``, ``conv_transpose``,
  ``lax.conv``, ``reduce_window``;
- flax.linen: ``Conv``, ``ConvTranspose``, ``ConvLocal``, ``max_pool``, ``avg_pool``;
- user blocks whose CamelCase name contains ``Conv`` (``DoubleConv``, ``ConvBlock``,
  ``BasicConv2d``): a model assembled from imported blocks has no framework name of its own;
- ``jaxtyping`` (an annotated input declares a model) and a ``# convlint:`` pragma;
- script code that may run a model from another file: a tensor made from a literal shape
  (``torch.randn(1, 3, 64, 64)``, ``jnp.ones((1, 64, 64, 3))``), flax ``.init(``/``.init_with_output(``,
  ``jax.eval_shape(`` — a smoke test or a ``__main__`` block is how a config-driven model is declared.

Each alternative starts with a literal character and checks the word boundary with a
look-behind *after* it, so that ``re`` can scan for the first characters quickly; alternatives
start at a rare character where they can (``_pool`` then look back for ``max``/``avg``,
``polate`` for ``interpolate``) since every position holding a first character costs a try.
Measured on torch/jax sources: about 5M lines/s (a leading ``\\b`` makes it 10x slower).

Even so, ``re`` scans a file at a few hundred MB/s at best, several times the cost of reading it.
:func:`may_contain_conv` therefore first looks for :data:`LITERALS` with ``bytes.find`` (a
memchr-speed search): every alternative of the pattern contains one of them, so a file holding
none cannot match. Around each occurrence the pattern is searched in a window wide enough for any
match that contains it (runs of whitespace, which some alternatives allow without bound, widen
the window), and a match found in a window is confirmed at its position against the whole file
(a window's end would otherwise satisfy a ``\\b`` or a look-ahead that the full text does not).
The answer is exactly ``CONV_PATTERN.search(data) is not None``; only the time differs.

Most occurrences of the commonest literals are prose or other names — ``convert``, ``convolution``,
``random``, ``pooling``, ``bool``, ``self.conv.weight`` — and a match holds its literal only where
the pattern puts it: ``onv`` after ``C`` and before anything but a lower-case letter, or after
``c`` and before ``_``, ``1``–``3``, ``l`` (``convlint``), or a non-word character where ``lax.``
precedes; ``ool`` after ``P``, ``max_p``/``avg_p``/``min_p``, or ``.p`` with ``(`` next; ``rand``,
``ones(``, ``zeros(``, ``empty(`` before a literal shape (``(1``, ``((1``); ``.init`` before ``(``
or ``_with_output(``; ``.resize(`` after ``image``. An occurrence that fails its test
(:data:`_SKIP`) is not searched around: every match still holds one occurrence of its literal
that passes, and the window around that one finds it.
"""

from __future__ import annotations

import re

__all__ = ["CONV_PATTERN", "LITERALS", "may_contain_conv"]

CONV_PATTERN: re.Pattern[bytes] = re.compile(
    rb"""(?x)
      C(?:(?<!\wC)onv(?:Transpose|Local|(?:Transpose)?[123]d)?\b   # Conv, Conv2d, ConvTranspose
         |(?<!\wC)onv(?=[A-Z_0-9])                                 # ConvBlock, Conv_BN
         |(?<=[a-z0-9]C)onv(?![a-z]))                              # DoubleConv, BasicConv2d
    | L(?<!\wL)(?:azyConv(?:Transpose)?[123]d\b|PPool[123]d\b)
    | c(?<!\wc)onv(?:(?:_transpose)?[123]d\b|_general_dilated|_with_general_padding
                    |_transpose\b|_dimension_numbers|(?<=lax\.conv)\b)
    | M(?<!\wM)axPool[123]d\b
    | A(?<!\wA)(?:vg|daptiveMax|daptiveAvg)Pool[123]d\b
    | _pool(?:(?<=max_pool)|(?<=avg_pool)|(?<=min_pool))          # max_pool2d, adaptive_avg_pool2d, nn.min_pool
    | \.pool\(                                                       # flax nn.pool(
    | \.resize\((?<=image\.resize\() | scale_and_translate\(           # jax.image
    | U(?<!\wU)psampl(?:e|ingNearest2d|ingBilinear2d)\b
    | polate\b(?<=interpolate)(?<!\winterpolate)
    | _window\b(?<=reduce_window)
    | j(?<!\wj)axtyping\b
    | \#[ \t]*convlint[ \t]*:
    | (?:randn|rand|ones|zeros|empty)\((?=\(?\s*\d)                      # torch.randn(1, 3, 64, 64), jnp.ones((1, 64, 64, 3))
    | \.init(?:_with_output)?\(                                     # flax Model(...).init(key, x)
    | e(?<!\we)val_shape\(
    """
)


# Every match of CONV_PATTERN contains one of these (most useful first): ``onv`` (Conv, conv, LazyConv,
# ``# convlint:``), ``ool`` (MaxPool, AvgPool, AdaptiveMaxPool, LPPool, ``_pool``, ``.pool(``),
# ``rand`` (``randn(``, ``rand(``), ... Each costs a pass over the file (about twice the time of
# reading it): ``ool`` holds both ``Pool`` and ``pool`` in one.
LITERALS: tuple[bytes, ...] = (
    b"onv", b"ool", b"Upsampl", b"interpolate", b"jaxtyping", b".init", b"val_shape(",
    b"rand", b"ones(", b"zeros(", b"empty(", b".resize(", b"scale_and_translate(", b"reduce_window",
)
_REACH = 64  # bytes around an occurrence: more than any match's fixed part on either side of it
_SPACE = b" \t\n\r\f\v"

_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_LOWER = frozenset(b"abcdefghijklmnopqrstuvwxyz")
_AFTER_C = frozenset(b"_123l")  # what follows ``conv`` in a match: conv_…, conv1d, convlint
_POOLS = (b"max", b"avg", b"min")
_ARGUMENTS = re.compile(rb"\(?\s*\d")  # a literal shape follows ``ones(``: ``(1, 3)``, ``((1, 3))``
_RAND = re.compile(rb"n?\(\(?\s*\d")
_INIT = re.compile(rb"(?:_with_output)?\(")


def _not_onv(data: bytes, i: int) -> bool:
    if i == 0:
        return True
    before = data[i - 1]
    nxt = data[i + 3] if i + 3 < len(data) else None
    if before == 67:  # ``C``: Conv, Conv2d, ConvTranspose, ConvBlock, DoubleConv — never a lower-case letter next
        return nxt is not None and nxt in _LOWER
    if before == 99:  # ``c``: conv2d, conv_transpose, conv_general_dilated, # convlint:, lax.conv
        if nxt is None or nxt not in _WORD:
            return data[max(0, i - 5):i - 1] != b"lax."
        return nxt not in _AFTER_C
    return True


def _not_pool(data: bytes, i: int) -> bool:
    before = data[i - 1] if i > 0 else None
    if before == 80:  # ``P``: MaxPool2d, AdaptiveAvgPool2d, LPPool1d
        return False
    if before == 112 and i >= 2:  # ``p``: max_pool, avg_pool, min_pool, .pool(
        if data[i - 2] == 95:
            return data[max(0, i - 5):i - 2] not in _POOLS
        if data[i - 2] == 46:
            return data[i + 3:i + 4] != b"("
    return True


def _not_rand(data: bytes, i: int) -> bool:
    return _RAND.match(data, i + 4) is None


def _not_shaped(n: int):
    return lambda data, i: _ARGUMENTS.match(data, i + n) is None


def _not_init(data: bytes, i: int) -> bool:
    return _INIT.match(data, i + 5) is None


def _not_resize(data: bytes, i: int) -> bool:
    return data[max(0, i - 5):i] != b"image"


# literal -> a test on an occurrence at ``i``: True when no match holds the literal there
_SKIP = {
    b"onv": _not_onv, b"ool": _not_pool, b"rand": _not_rand, b"ones(": _not_shaped(5), b"zeros(": _not_shaped(6),
    b"empty(": _not_shaped(6), b".init": _not_init, b".resize(": _not_resize,
}


def may_contain_conv(data: bytes) -> bool:
    """True when ``data`` (a file's raw bytes) may hold a conv-family call or a model declaration.

    Exactly ``CONV_PATTERN.search(data) is not None`` (see the module's documentation)."""
    n = len(data)
    search, match = CONV_PATTERN.search, CONV_PATTERN.match
    for lit in LITERALS:
        i = data.find(lit)
        skip = _SKIP.get(lit)
        while i >= 0:
            if skip is not None and skip(data, i):
                i = data.find(lit, i + 1)
                continue
            lo = max(0, i - _REACH)
            while lo > 0 and data[lo - 1] in b" \t":  # ``#   convlint``: a run of blanks before
                lo -= 1
            lo = max(0, lo - 1)
            hi = min(n, i + len(lit) + _REACH)
            while hi < n and data[hi] in _SPACE:  # ``ones(  \n 1``: a run of whitespace after
                hi += 1
            hi = min(n, hi + 2)
            m = search(data, lo, hi)
            while m is not None:
                if match(data, m.start()) is not None:
                    return True
                m = search(data, m.start() + 1, hi)
            i = data.find(lit, i + 1)
    return False
