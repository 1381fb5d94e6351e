"""Python's operators as an enum the frameworks can match on, and their LibCST spellings.

The interpreter turns each LibCST operator node into a :class:`BinOp` once; everything after that
(framework shape functions for ``x + y``, ``torch.add``, ``Tensor.mul``) speaks :class:`BinOp`,
never a LibCST class.
"""

from __future__ import annotations

import enum
import operator

import libcst as cst

__all__ = ["BinOp", "CST_BINOPS", "CST_AUGOPS", "CST_CMPOPS"]


class BinOp(enum.Enum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    FLOORDIV = "//"
    MOD = "%"
    POW = "**"
    LSHIFT = "<<"
    RSHIFT = ">>"
    OR = "|"
    AND = "&"
    XOR = "^"
    MATMUL = "@"

    @property
    def fn(self):
        """The Python function that computes it on plain values."""
        return _FUNCTIONS[self]

    @property
    def elementwise(self) -> bool:
        """On tensors: elementwise with broadcasting (everything but ``@``)."""
        return self is not BinOp.MATMUL


_FUNCTIONS = {
    BinOp.ADD: operator.add,
    BinOp.SUB: operator.sub,
    BinOp.MUL: operator.mul,
    BinOp.DIV: operator.truediv,
    BinOp.FLOORDIV: operator.floordiv,
    BinOp.MOD: operator.mod,
    BinOp.POW: operator.pow,
    BinOp.LSHIFT: operator.lshift,
    BinOp.RSHIFT: operator.rshift,
    BinOp.OR: operator.or_,
    BinOp.AND: operator.and_,
    BinOp.XOR: operator.xor,
    BinOp.MATMUL: operator.matmul,
}

CST_BINOPS = {
    cst.Add: BinOp.ADD,
    cst.Subtract: BinOp.SUB,
    cst.Multiply: BinOp.MUL,
    cst.Divide: BinOp.DIV,
    cst.FloorDivide: BinOp.FLOORDIV,
    cst.Modulo: BinOp.MOD,
    cst.Power: BinOp.POW,
    cst.LeftShift: BinOp.LSHIFT,
    cst.RightShift: BinOp.RSHIFT,
    cst.BitOr: BinOp.OR,
    cst.BitAnd: BinOp.AND,
    cst.BitXor: BinOp.XOR,
    cst.MatrixMultiply: BinOp.MATMUL,
}
CST_AUGOPS = {
    cst.AddAssign: BinOp.ADD,
    cst.SubtractAssign: BinOp.SUB,
    cst.MultiplyAssign: BinOp.MUL,
    cst.DivideAssign: BinOp.DIV,
    cst.FloorDivideAssign: BinOp.FLOORDIV,
    cst.ModuloAssign: BinOp.MOD,
    cst.PowerAssign: BinOp.POW,
    cst.LeftShiftAssign: BinOp.LSHIFT,
    cst.RightShiftAssign: BinOp.RSHIFT,
    cst.BitOrAssign: BinOp.OR,
    cst.BitAndAssign: BinOp.AND,
    cst.BitXorAssign: BinOp.XOR,
    cst.MatrixMultiplyAssign: BinOp.MATMUL,
}
CST_CMPOPS = {
    cst.Equal: operator.eq,
    cst.NotEqual: operator.ne,
    cst.LessThan: operator.lt,
    cst.LessThanEqual: operator.le,
    cst.GreaterThan: operator.gt,
    cst.GreaterThanEqual: operator.ge,
}
