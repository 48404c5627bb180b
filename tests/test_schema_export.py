"""schema/schema.graphql is the committed contract (and the client generator's input)."""

from pathlib import Path

from schema import schema

SDL = Path(__file__).resolve().parents[1] / "schema" / "schema.graphql"


def test_committed_sdl_matches_the_code():
    assert SDL.read_text().strip() == schema.as_str().strip(), (
        "schema changed: run `strawberry export-schema schema:schema --output schema/schema.graphql`"
    )
