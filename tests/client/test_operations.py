"""The operation documents the client is generated from still fit the schema (schema/schema.graphql).

Checked with the server's graphql-core here; that the committed generated code matches a fresh generation is
checked by `scripts/generate-client --check` in .ci/run (the generator needs its own venv)."""

from pathlib import Path

from graphql import build_schema, parse, validate

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ROOT / "client_sdk" / "queries"


def problems(document: str) -> list[str]:
    schema = build_schema((ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8"))
    return [error.message for error in validate(schema, parse(document))]


def operations() -> str:
    # One document: fragments are shared between files, as the generator reads them.
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(QUERIES.glob("*.graphql")))


def test_every_operation_document_validates_against_the_schema():
    assert sorted(p.name for p in QUERIES.glob("*.graphql"))  # the directory is there and not empty
    assert problems(operations()) == []


def test_a_document_that_no_longer_fits_fails_the_check():
    broken = operations().replace(
        "  onHand\n  reserved\n  available\n  inTransit", "  onHnad\n  reserved\n  available\n  inTransit", 1
    )
    assert broken != operations()
    assert any("onHnad" in problem for problem in problems(broken))
