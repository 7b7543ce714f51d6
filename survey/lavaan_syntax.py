"""lavaan model syntax read into statements: `=~` loadings, `~` regressions, `~~` (co)variances,
`~ 1` intercepts and `:=` defined parameters, with fixed values, labels and `NA*` modifiers.

The parser never evaluates user text: defined parameters are read with Python's `ast` module and
only arithmetic on parameter labels and numbers is accepted.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from survey.errors import SurveyAnalysisError

NAME = r"[A-Za-z_\u4e00-\u9fff][\w.\u4e00-\u9fff]*"
_NUMBER = r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"


@dataclass(frozen=True)
class Modifier:
    """What stands before `*` for one group: a fixed value, a label, or NA (explicitly free)."""

    fixed: float | None = None
    label: str | None = None
    free: bool = False


@dataclass(frozen=True)
class Statement:
    """One parameter named in the syntax: lhs op rhs, with one modifier per group (or one for all)."""

    lhs: str
    op: str  # "=~", "~", "~~", "~1"
    rhs: str
    modifiers: tuple[Modifier, ...] = ()

    def modifier(self, group: int) -> Modifier:
        if not self.modifiers:
            return Modifier()
        if len(self.modifiers) == 1:
            return self.modifiers[0]
        return self.modifiers[group]


@dataclass(frozen=True)
class Defined:
    """`name := expression` over parameter labels."""

    name: str
    expression: str
    labels: tuple[str, ...]
    function: Callable[[Mapping[str, float]], float]


@dataclass
class ModelSyntax:
    statements: list[Statement]
    defined: list[Defined]
    text: str


def _one_modifier(text: str, where: str) -> Modifier:
    text = text.strip()
    if text.upper() == "NA":
        return Modifier(free=True)
    if re.fullmatch(_NUMBER, text):
        return Modifier(fixed=float(text))
    if re.fullmatch(NAME, text):
        return Modifier(label=text)
    raise SurveyAnalysisError(f"cannot read the modifier {text!r} in {where!r}")


def _modifiers(head: str, where: str) -> tuple[Modifier, ...]:
    head = head.strip()
    match = re.fullmatch(r"c\((.*)\)", head)
    if match:
        return tuple(_one_modifier(part, where) for part in match.group(1).split(","))
    return (_one_modifier(head, where),)


def _terms(rhs: str, where: str) -> list[tuple[str, tuple[Modifier, ...]]]:
    out = []
    for term in (t.strip() for t in rhs.split("+")):
        mods: tuple[Modifier, ...] = ()
        if "*" in term:
            head, term = term.rsplit("*", 1)
            mods = _modifiers(head, where)
            term = term.strip()
        if term == "1":
            out.append(("1", mods))
            continue
        if not re.fullmatch(NAME, term):
            raise SurveyAnalysisError(f"cannot read {where!r}: {term!r} is not a variable name")
        out.append((term, mods))
    return out


_ALLOWED_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
                   ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a**b}
_ALLOWED_FUNCS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "abs": abs}


def _compile_expression(expression: str, where: str) -> tuple[Callable[[Mapping[str, float]], float], tuple[str, ...]]:
    """Arithmetic over labels (+ - * / ^, sqrt/exp/log/abs) compiled to a closure; nothing else."""
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
    except SyntaxError:
        raise SurveyAnalysisError(f"cannot read {where!r}: the expression is not arithmetic") from None
    labels: list[str] = []

    def build(node: ast.AST) -> Callable[[Mapping[str, float]], float]:
        if isinstance(node, ast.Expression):
            return build(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            value = float(node.value)
            return lambda env: value
        if isinstance(node, ast.Name):
            name = node.id
            labels.append(name)
            return lambda env: env[name]
        if isinstance(node, ast.BinOp) and type(node.op) in _ALLOWED_BINOPS:
            op, left, right = _ALLOWED_BINOPS[type(node.op)], build(node.left), build(node.right)
            return lambda env: op(left(env), right(env))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner, sign = build(node.operand), (-1.0 if isinstance(node.op, ast.USub) else 1.0)
            return lambda env: sign * inner(env)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _ALLOWED_FUNCS
                and len(node.args) == 1 and not node.keywords):
            func, inner = _ALLOWED_FUNCS[node.func.id], build(node.args[0])
            return lambda env: func(inner(env))
        raise SurveyAnalysisError(f"cannot read {where!r}: only labels, numbers, + - * / ^ and "
                                  "sqrt/exp/log/abs are allowed")

    function = build(tree)
    return function, tuple(dict.fromkeys(labels))


def parse_syntax(model: str) -> ModelSyntax:
    """Read lavaan model syntax.

    Accepted: `F =~ x1 + x2` (loadings), `y ~ x1 + x2` (regressions), `y ~ 1` (intercept),
    `a ~~ b` ((residual) covariance or variance), `ab := a*b` (defined parameter); modifiers
    `0.5*x` (fixed), `a*x` (label: equal labels mean equal parameters), `NA*x` (free), and per group
    `c(a1, a2)*x`. Comments start with `#` or `!`; statements end at a newline or `;`.

    Raises:
        SurveyAnalysisError: naming the statement that cannot be read.
    """
    if not isinstance(model, str) or not model.strip():
        raise SurveyAnalysisError("the model is an empty string; write lines like 'F1 =~ x1 + x2 + x3'")
    statements: list[Statement] = []
    defined: list[Defined] = []
    lines = [re.split(r"[#!]", line, maxsplit=1)[0] for line in model.splitlines()]
    # a line ending in an operator or '+' continues on the next line
    joined: list[str] = []
    for line in lines:
        if joined and re.search(r"(=~|~~|~|\+|\*|:=)\s*$", joined[-1]):
            joined[-1] += " " + line
        else:
            joined.append(line)
    for statement in (s.strip() for line in joined for s in line.split(";")):
        if not statement:
            continue
        if ":=" in statement:
            name, expression = (part.strip() for part in statement.split(":=", 1))
            if not re.fullmatch(NAME, name):
                raise SurveyAnalysisError(f"cannot read {statement!r}: {name!r} is not a name")
            function, labels = _compile_expression(expression, statement)
            defined.append(Defined(name, expression, labels, function))
            continue
        for op in ("=~", "~~", "~"):
            if op in statement:
                break
        else:
            raise SurveyAnalysisError(f"cannot read {statement!r}; use '=~' for loadings, '~' for regressions, "
                                      "'~~' for covariances and ':=' for defined parameters")
        lhs_text, rhs = statement.split(op, 1)
        if any(other in rhs for other in ("=~", "~~", "~", "==", "<", ">")):
            raise SurveyAnalysisError(f"cannot read {statement!r}: one operator per statement")
        lhs_names = [t.strip() for t in lhs_text.split("+")]
        for name in lhs_names:
            if not re.fullmatch(NAME, name):
                raise SurveyAnalysisError(f"cannot read {statement!r}: {name!r} is not a variable name")
        if op == "=~" and len(lhs_names) != 1:
            raise SurveyAnalysisError(f"cannot read {statement!r}: one latent variable left of '=~'")
        for lhs in lhs_names:
            for rhs_name, mods in _terms(rhs, statement):
                if rhs_name == "1":
                    if op != "~":
                        raise SurveyAnalysisError(f"cannot read {statement!r}: write intercepts as 'y ~ 1'")
                    statements.append(Statement(lhs, "~1", "", mods))
                else:
                    statements.append(Statement(lhs, op, rhs_name, mods))
    if not statements and defined:
        raise SurveyAnalysisError(f"cannot read '{defined[0].name} := {defined[0].expression}': the model has no "
                                  "parameter to define it from")
    if not statements:
        raise SurveyAnalysisError("the model defines no parameter ('F =~ a + b + c' or 'y ~ x')")
    return ModelSyntax(statements, defined, model)


__all__ = ["Defined", "Modifier", "ModelSyntax", "Statement", "parse_syntax"]
