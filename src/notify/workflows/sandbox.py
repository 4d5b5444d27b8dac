"""The sandbox templates saved through the API render in: Jinja2's immutable sandbox, narrowed.

A template is somebody's data, rendered in the senders' processes. Jinja's sandbox already refuses
underscore attributes (`''.__class__.__mro__`) and mutating lists and dicts; on top of it:
- **what a template may name:** no loader (no include, import or extends), no macro, call block,
  block or recursive loop, loops nested at most two deep, no `**`; globals are only `range` (at most 1,000
  items) and the service's own helpers; filters are an allow-list; attributes are a model's fields
  and a short list of string methods, never another method;
- **what a render may cost:** every loop iteration, attribute, call, operator and filter counts
  against a budget, and every string a template builds (concatenation, operators, filters, calls)
  against a size limit, so that no template can make a render run away in time or memory.
Breaking a rule raises TemplateProblem; a saved template is checked (validation.py) before any
sender renders it.
"""

import functools
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.runtime import new_context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel

from notify.workflows.filters import FILTERS, GLOBALS

MAX_RANGE = 1000
MAX_LOOP_DEPTH = 2
MAX_OPERATIONS = 200_000  # per render: iterations, attributes, calls, operators and filters
MAX_TEXT = 100_000  # characters of any string a render builds, the output included
MAX_RENDER_SECONDS = 1.0  # of the clock, per render: what the budget's counts do not weigh (comparisons)
MAX_INTEGER_BITS = 4096  # an integer a template computes (squaring one again and again is work)

_REFUSED_NODES: dict[type[nodes.Node], str] = {
    nodes.Macro: "macro",
    nodes.CallBlock: "call block",
    nodes.Import: "import",
    nodes.FromImport: "import",
    nodes.Include: "include",
    nodes.Extends: "extends",
    nodes.Block: "block",  # a block may call itself through `self`
    nodes.Pow: "the ** operator",
}
_JINJA_FILTERS = [
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "e",
    "escape",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "max",
    "min",
    "replace",
    "reverse",
    "round",
    "safe",
    "sort",
    "string",
    "striptags",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "wordcount",
]
_STRING_METHODS = frozenset(
    {
        "upper",
        "lower",
        "title",
        "capitalize",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "split",
        "isdigit",
    }
)
_DATE_ATTRIBUTES = frozenset({"year", "month", "day", "isoformat"})


class TemplateProblem(Exception):
    """A template that breaks a rule of the sandbox, cannot compile, or failed to render."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class _Budget(threading.local):
    left: int = MAX_OPERATIONS
    deadline: float = 0.0


_budget = _Budget()


def _spend(count: int = 1) -> None:
    _budget.left -= count
    if _budget.left < 0:
        raise TemplateProblem(f"the template does too much work (over {MAX_OPERATIONS:,} operations)")
    if time.monotonic() > _budget.deadline:
        raise TemplateProblem(f"the template takes too long to render (over {MAX_RENDER_SECONDS} s)")


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple | dict) else 1


def _too_long() -> TemplateProblem:
    return TemplateProblem(f"the template builds a text over {MAX_TEXT:,} characters")


def _projected_text(items: Iterable[Any], separator: str = "") -> None:
    """Refuse a join whose text would be too long, before it is built (each item counted)."""
    total = 0
    for item in items:
        _spend()
        total += (len(item) if isinstance(item, str) else 24) + len(separator)
        if total > MAX_TEXT:
            raise _too_long()


@jinja2.pass_environment
def _join(environment: Any, value: Iterable[Any], d: str = "", attribute: Any = None) -> str:
    items = list(value)
    _projected_text(items, str(d))
    return jinja2.filters.do_join(environment, items, d, attribute)  # type: ignore[no-any-return]


@jinja2.pass_environment
def _replace(environment: Any, s: str, old: str, new: str, count: int | None = None) -> str:
    text, old, new = str(s), str(old), str(new)
    times = text.count(old) if count is None else min(count, text.count(old))
    if len(text) + times * (len(new) - len(old)) > MAX_TEXT:
        raise _too_long()
    return jinja2.filters.do_replace(environment, text, old, new, count)


def _sized[T](value: T) -> T:
    if isinstance(value, str | list | tuple) and len(value) > MAX_TEXT:
        raise TemplateProblem(f"the template builds a text over {MAX_TEXT:,} characters")
    return value


def _counted(items: Iterable[Any]) -> Iterator[Any]:
    for item in items:
        _spend()
        yield item


def _range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateProblem(f"range() may give at most {MAX_RANGE} numbers")
    return numbers


def _checked_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)  # keeps jinja's pass_environment / pass_context marks
    def checked(*args: Any, **kwargs: Any) -> Any:
        # charged by what it reads too: sorting or listing a long input is work in proportion
        read = 0
        for arg in args[:2]:
            read += len(arg) if isinstance(arg, str | list | tuple | dict) else 1
        _spend(1 + read // 16)
        return _sized(function(*args, **kwargs))

    return checked


class WorkflowSandbox(ImmutableSandboxedEnvironment):
    """One per autoescape setting (HTML templates escape, the others do not)."""

    intercepted_binops = frozenset({"+", "*", "%", "//", "/", "-"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(autoescape=autoescape, undefined=jinja2.StrictUndefined, auto_reload=False)
        self.globals.clear()
        self.globals.update(range=_range, **{name: _checked_filter(f) for name, f in GLOBALS.items()})
        allowed = {name: self.filters[name] for name in _JINJA_FILTERS}
        allowed.update(FILTERS, join=_join, replace=_replace)
        self.filters = {name: _checked_filter(function) for name, function in allowed.items()}
        self.filters["sandbox_counted"] = _counted
        self.filters["sandbox_sized"] = _sized

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if isinstance(obj, BaseModel):
            return attr in type(obj).model_fields
        if isinstance(obj, str):
            return attr in _STRING_METHODS
        if isinstance(obj, date):
            return attr in _DATE_ATTRIBUTES
        return not callable(value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _spend()
        if isinstance(obj, str) and attribute not in _STRING_METHODS:
            # Before Jinja's own check, which hands str.format out (a width allocates before any size check).
            return self.unsafe_undefined(obj, attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _spend()
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - jinja's
        _spend()
        return _sized(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _spend(1 + (_length(left) + _length(right)) // 64)
        integers = isinstance(left, int) and isinstance(right, int)
        if integers and abs(left).bit_length() + abs(right).bit_length() > MAX_INTEGER_BITS:
            raise TemplateProblem(f"the template computes an integer over {MAX_INTEGER_BITS} bits")
        if operator == "*" and isinstance(left, str | list | tuple) and isinstance(right, int):
            _sized(range(len(left) * max(right, 0)))  # refused before the string is made
        if operator == "*" and isinstance(right, str | list | tuple) and isinstance(left, int):
            _sized(range(len(right) * max(left, 0)))
        if operator == "%" and isinstance(left, str):
            raise TemplateProblem("the % operator does not format strings here")
        return _sized(super().call_binop(context, operator, left, right))

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        _refuse_what_is_not_allowed(tree)
        return _with_budget_checks(tree)


def _refuse_what_is_not_allowed(tree: nodes.Template) -> None:
    for kind, what in _REFUSED_NODES.items():
        found = tree.find(kind)
        if found is not None:
            raise TemplateProblem(f"{what} is not allowed in a template", found.lineno)
    for loop in tree.find_all(nodes.For):
        if loop.recursive:
            raise TemplateProblem("a recursive loop is not allowed in a template", loop.lineno)
    _check_loop_depth(tree, 0)


def _check_loop_depth(node: nodes.Node, depth: int) -> None:
    for child in node.iter_child_nodes():
        inner = depth + 1 if isinstance(child, nodes.For) else depth
        if inner > MAX_LOOP_DEPTH:
            raise TemplateProblem(f"loops may nest at most {MAX_LOOP_DEPTH} deep", child.lineno)
        _check_loop_depth(child, inner)


def _with_budget_checks[N: nodes.Node](node: N) -> N:
    """Every loop's items counted as they are taken; every concatenation's result sized."""
    for field in node.fields:
        value = getattr(node, field, None)
        if isinstance(value, nodes.Node):
            setattr(node, field, _wrapped(_with_budget_checks(value), node, field))
        elif isinstance(value, list):
            setattr(
                node,
                field,
                [_with_budget_checks(item) if isinstance(item, nodes.Node) else item for item in value],
            )
    return node


def _wrapped(child: nodes.Node, parent: nodes.Node, field: str) -> nodes.Node:
    if isinstance(parent, nodes.For) and field == "iter":
        return _filter(child, "sandbox_counted")
    if isinstance(child, nodes.Concat):
        return _filter(child, "sandbox_sized")
    return child


def _filter(child: nodes.Node, name: str) -> nodes.Node:
    assert isinstance(child, nodes.Expr)
    return nodes.Filter(child, name, [], [], None, None, lineno=child.lineno)


# What a template's own failure may raise besides Jinja's errors: each becomes a TemplateProblem.
_FAILURES = (
    ArithmeticError,
    AttributeError,
    LookupError,
    TypeError,
    ValueError,
    RecursionError,  # a template nested past the parser's or the renderer's depth
    MemoryError,
    SyntaxError,
)


def generate(template: jinja2.Template, variables: dict[str, Any]) -> Iterator[str]:
    """`Template.generate` without its merge of the environment's globals at every call, which walks a
    ChainMap twice and was most of a short template's render: the globals are flattened once per
    environment. Errors are Jinja's own, mapped to template lines."""
    environment = template.environment
    flat = _FLAT_GLOBALS.get(environment)
    if flat is None:
        flat = _FLAT_GLOBALS.setdefault(environment, dict(environment.globals))
    context = new_context(environment, template.name, template.blocks, {**flat, **variables}, shared=True)
    try:
        yield from template.root_render_func(context)
    except Exception:  # noqa: BLE001 - re-raised at once by handle_exception, as Template.generate does
        yield environment.handle_exception()  # its traceback rewritten to the template's lines


# Environments are few and live as long as the process (the two sandboxes, the service's templates).
_FLAT_GLOBALS: "weakref.WeakKeyDictionary[jinja2.Environment, dict[str, Any]]" = weakref.WeakKeyDictionary()


def render_checked(template: jinja2.Template, context: dict[str, Any]) -> str:
    """`template` rendered under a fresh budget, its output measured as it is made; TemplateProblem
    when it breaks a rule or fails."""
    _budget.left, _budget.deadline = MAX_OPERATIONS, time.monotonic() + MAX_RENDER_SECONDS
    try:
        pieces, size = [], 0
        for piece in generate(template, context):
            size += len(piece)
            if size > MAX_TEXT:
                raise _too_long()
            pieces.append(piece)
        return "".join(pieces)
    except TemplateProblem as problem:
        problem.line = problem.line or _line_of(problem)
        raise
    except jinja2.TemplateError as error:
        raise TemplateProblem(error.message or type(error).__name__, _line_of(error)) from error
    except _FAILURES as error:
        raise TemplateProblem(f"{type(error).__name__}: {error}", _line_of(error)) from error


def compile_checked(sandbox: WorkflowSandbox, source: str) -> jinja2.Template:
    try:
        return sandbox.from_string(source)
    except TemplateProblem:
        raise
    except jinja2.TemplateSyntaxError as error:
        raise TemplateProblem(error.message or "syntax error", error.lineno) from error
    except _FAILURES as error:  # the parser's own recursion on a deeply nested expression
        raise TemplateProblem(f"the template cannot be read: {type(error).__name__}") from error


def _line_of(error: BaseException) -> int | None:
    """The template line a runtime error came from (Jinja maps its frames to template lines)."""
    traceback = error.__traceback__
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line
