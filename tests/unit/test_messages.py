"""Every error message a user can meet names a next step (read from the source, every raise site)."""

import ast
from pathlib import Path

import headlab
from test_misuse import NEXT_STEP

PKG = Path(headlab.__file__).resolve().parent
ERRORS = {"HeadlabError", "InputError", "TooLongError", "NoApplicableRoleError", "ModelLoadError",
          "UnsupportedModelError", "UnknownRoleError", "MissingExtraError", "CatalogError", "UserError"}


def static_text(node) -> str | None:
    """The literal parts of a message: a string, an f-string's constant pieces, or '+' of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant)) + " {}"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = static_text(node.left), static_text(node.right)
        return None if left is None or right is None else left + right
    return None


def raise_sites():
    for path in sorted(PKG.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
                continue
            func = node.exc.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in ERRORS and node.exc.args:
                text = static_text(node.exc.args[0])
                if text is not None:
                    yield f"{path.relative_to(PKG)}:{node.lineno}", text


def test_there_are_many_raise_sites():
    assert len(list(raise_sites())) > 150


def test_every_literal_error_message_names_a_next_step():
    missing = [f"{where}: {text[:90]!r}" for where, text in raise_sites() if not NEXT_STEP.search(text)]
    assert missing == [], "messages without a next step:\n" + "\n".join(missing)
