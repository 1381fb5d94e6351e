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
``random``, ``pooling`` — and a match holds its literal only where the pattern puts it: after
``onv`` a match has ``T``, ``L``, a digit, ``_``, an upper-case letter, ``l`` (``convlint``) or a
non-word character, never another lower-case letter; ``rand`` is followed by ``(`` or ``n(``;
lower-case ``pool`` follows ``_`` or ``.``. An occurrence that fails its test (:data:`_SKIP`) is
not searched around: every match still holds one occurrence of its literal that passes, and the
window around that one finds it. About a fifth less time on diffusers.
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
# ``# convlint:``), ``Pool`` (MaxPool, AvgPool, AdaptiveMaxPool, LPPool), ``pool`` (``_pool``,
# ``.pool(``), ``rand`` (``randn(``, ``rand(``), ...
LITERALS: tuple[bytes, ...] = (
    b"onv", b"Pool", b"pool", b"Upsampl", b"interpolate", b"jaxtyping", b".init", b"val_shape(",
    b"rand", b"ones(", b"zeros(", b"empty(", b".resize(", b"scale_and_translate(", b"reduce_window",
)
_REACH = 64  # bytes around an occurrence: more than any match's fixed part on either side of it
_SPACE = b" \t\n\r\f\v"


_LOWER_BUT_L = frozenset(b"abcdefghijkmnopqrstuvwxyz")


def _not_onv(data: bytes, i: int) -> bool:
    j = i + 3
    return j < len(data) and data[j] in _LOWER_BUT_L


def _not_rand(data: bytes, i: int) -> bool:
    return not (data[i + 4:i + 5] == b"(" or data[i + 4:i + 6] == b"n(")


def _not_pool(data: bytes, i: int) -> bool:
    return i == 0 or data[i - 1] not in b"_."


# literal -> a test on an occurrence at ``i``: True when no match holds the literal there
_SKIP = {b"onv": _not_onv, b"rand": _not_rand, b"pool": _not_pool}


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
