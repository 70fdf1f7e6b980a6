"""MathML content (SBML math) to LaTeX, for the model reference pages.

Read from the MathML text, not libsbml's AST: in a process that has also loaded libsedml, libsbml's
``ASTNode.getType`` can return an unusable SWIG object.
"""

from __future__ import annotations

import libsbml

MATHML = "{http://www.w3.org/1998/Math/MathML}"
_RELATIONS = {"lt": "<", "gt": ">", "leq": r"\le", "geq": r"\ge", "eq": "=", "neq": r"\ne"}
_LOGICAL = {"and": r"\land", "or": r"\lor", "xor": r"\veebar"}
_FUNCTIONS = {"exp": r"\exp", "ln": r"\ln", "sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "tanh": r"\tanh",
              "min": r"\min", "max": r"\max"}
_CONSTANTS = {"pi": r"\pi", "exponentiale": "e", "true": r"\mathrm{true}", "false": r"\mathrm{false}",
              "infinity": r"\infty", "notanumber": r"\mathrm{NaN}"}
# precedence: sums 1, products 2, unary minus 3, powers 4, atoms 5
_ATOM, _POWER, _UNARY, _PRODUCT, _SUM, _RELATION = 5, 4, 3, 2, 1, 0


def latex_name(sid: str) -> str:
    r"""An SBML id as LaTeX: upright, underscores kept (``TC_k_mem`` -> ``\mathrm{TC\_k\_mem}``)."""
    return r"\mathrm{" + sid.replace("_", r"\_") + "}"


def _number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.6g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def _signed(text: str) -> str:
    """A negative term after a binary operator, in parentheses (``a - (-b)``, ``a \\cdot (-b)``)."""
    return rf"\left({text}\right)" if text.startswith("-") else text


def _tag(element) -> str:
    return element.tag.removeprefix(MATHML)


def _cn(element) -> tuple[str, int]:
    kind = element.get("type", "real")
    parts = [element.text or ""] + [sep.tail or "" for sep in element]
    if kind == "rational":
        return rf"\frac{{{parts[0].strip()}}}{{{parts[1].strip()}}}", _ATOM
    value = float(parts[0]) * 10 ** float(parts[1]) if kind == "e-notation" else float(parts[0])
    return (_number(value), _ATOM) if value >= 0 else ("-" + _number(-value), _UNARY)


def _mathml(element) -> tuple[str, int]:
    """LaTeX of a MathML content element and its precedence (where its parent needs parentheses)."""
    tag = _tag(element)
    if tag == "math":
        return _mathml(element[0])
    if tag == "ci":
        return latex_name(element.text.strip()), _ATOM
    if tag == "cn":
        return _cn(element)
    if tag == "csymbol":
        return ("t", _ATOM) if element.get("definitionURL", "").endswith("/time") else \
            (latex_name(element.text.strip()), _ATOM)
    if tag in _CONSTANTS:
        return _CONSTANTS[tag], _ATOM
    if tag == "piecewise":
        rows = [rf"{_mathml(p[0])[0]} & \text{{if }} {_mathml(p[1])[0]}" for p in element if _tag(p) == "piece"]
        rows += [rf"{_mathml(o[0])[0]} & \text{{otherwise}}" for o in element if _tag(o) == "otherwise"]
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}", _ATOM
    if tag != "apply":
        return r"\mathrm{" + tag + "}", _ATOM
    head, args = element[0], [a for a in element[1:] if _tag(a) not in ("degree", "logbase")]
    op = _tag(head)
    n = len(args)

    def wrap(arg, least: int) -> str:
        text, precedence = _mathml(arg)
        return rf"\left({text}\right)" if precedence < least else text

    if op == "plus":
        if n == 0:
            return "0", _ATOM
        parts = [wrap(args[0], _SUM)]
        for arg in args[1:]:
            text = wrap(arg, _SUM)
            parts.append(f"- {text[1:].lstrip()}" if text.startswith("-") else f"+ {text}")
        return " ".join(parts), _SUM if n > 1 else _mathml(args[0])[1]
    if op == "minus":
        if n == 1:
            return "-" + wrap(args[0], _PRODUCT), _UNARY
        return f"{wrap(args[0], _SUM)} - {_signed(wrap(args[1], _PRODUCT))}", _SUM
    if op == "times":
        if n == 0:
            return "1", _ATOM
        factors = [wrap(a, _PRODUCT) for a in args]
        return r" \cdot ".join([factors[0], *map(_signed, factors[1:])]), _PRODUCT if n > 1 else _mathml(args[0])[1]
    if op == "divide":
        return rf"\frac{{{_mathml(args[0])[0]}}}{{{_mathml(args[1])[0]}}}", _ATOM
    if op == "power":
        base, precedence = _mathml(args[0])
        if precedence < _ATOM or base.startswith((r"\frac", "{")):
            base = rf"\left({base}\right)"
        return f"{{{base}}}^{{{_mathml(args[1])[0]}}}", _POWER
    if op == "root":
        degree = [d for d in element if _tag(d) == "degree"]
        inner = _mathml(args[0])[0]
        return (rf"\sqrt[{_mathml(degree[0][0])[0]}]{{{inner}}}" if degree else rf"\sqrt{{{inner}}}"), _ATOM
    if op == "log":
        base = [b for b in element if _tag(b) == "logbase"]
        index = _mathml(base[0][0])[0] if base else "10"
        return rf"\log_{{{index}}}\left({_mathml(args[0])[0]}\right)", _ATOM
    if op in ("abs", "floor", "ceiling"):
        left, right = {"abs": (r"\lvert", r"\rvert"), "floor": (r"\lfloor", r"\rfloor"),
                       "ceiling": (r"\lceil", r"\rceil")}[op]
        return rf"\left{left} {_mathml(args[0])[0]} \right{right}", _ATOM
    if op in _RELATIONS:
        return f" {_RELATIONS[op]} ".join(wrap(a, _SUM) for a in args), _RELATION
    if op in _LOGICAL:
        return f" {_LOGICAL[op]} ".join(wrap(a, _ATOM) for a in args), _RELATION
    if op == "not":
        return rf"\lnot {wrap(args[0], _ATOM)}", _UNARY
    name = _FUNCTIONS.get(op) or (latex_name(head.text.strip()) if op == "ci" else r"\mathrm{" + op + "}")
    return rf"{name}\left({', '.join(_mathml(a)[0] for a in args)}\right)", _ATOM


def _element(math):
    """The MathML element tree of an SBML math object or of an SBML L3 infix formula."""
    import xml.etree.ElementTree as ElementTree

    node = libsbml.parseL3Formula(math) if isinstance(math, str) else math
    if node is None:
        raise ValueError(f"not a formula: {math!r}")
    return ElementTree.fromstring(libsbml.writeMathMLToString(node))


def to_latex(math) -> str:
    """LaTeX of an SBML math element (libsbml ASTNode) or of an SBML L3 infix formula."""
    return _mathml(_element(math))[0]


def names_in(math) -> set[str]:
    """The ids an SBML math element refers to."""
    return {ci.text.strip() for ci in _element(math).iter(f"{MATHML}ci")}


def is_zero(math) -> bool:
    """Whether an SBML math element is the number 0."""
    root = _element(math)
    return _tag(root[0]) == "cn" and _cn(root[0])[0] == "0"


def rate_law(reaction: libsbml.Reaction) -> str:
    """The reaction's rate as LaTeX, without thymosim's division by an ``extent_*`` conversion
    parameter (value 1; it carries the substance unit, see :mod:`thymosim.sbml.units`)."""
    root = _element(reaction.getKineticLaw().getMath())[0]
    if (_tag(root) == "apply" and _tag(root[0]) == "divide" and _tag(root[2]) == "ci"
            and root[2].text.strip().startswith("extent_")):
        return _mathml(root[1])[0]
    return _mathml(root)[0]
