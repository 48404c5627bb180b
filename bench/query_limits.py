"""How long the schema takes to refuse hostile documents, against a trivial query in the same run.

Each document is sent through the real schema (parse, validation with every limit, and execution when
it passes), in process and without a database: `{ __typename }` is the baseline. The hostile ones are
the fragment bomb (`fragment Fi on Query { ...F(i-1) ...F(i-1) }`, which doubles its expansion with
each fragment), the same bomb built of aliases, and one field repeated many times. Every document text
is fresh, so the validation cache never answers for it.

    python bench/query_limits.py [--fragments 21] [--repeats 20]

prints one JSON line: each document's median milliseconds and its ratio to the baseline.
"""

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schema import build_schema
from schema.context import Context

_fresh = itertools.count()


def bomb(fragments: int, field: str) -> str:
    tag = next(_fresh)  # a new text each time: nothing cached
    parts = [f"query Q{tag} {{ ...F{fragments} }}", f"fragment F0 on Query {{ {field} }}"]
    parts += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, fragments + 1)]
    return " ".join(parts)


def documents(fragments: int) -> dict:
    return {
        "baseline": lambda: f"query Q{next(_fresh)} {{ __typename }}",
        "fragment_bomb": lambda: bomb(fragments, "__typename"),
        "alias_bomb": lambda: bomb(fragments, "a: __typename"),
        "repeated_field_x990": lambda: f"query Q{next(_fresh)} {{ " + "__typename " * 990 + "}",
    }


async def median_ms(schema, make, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        text = make()
        started = time.perf_counter()
        await schema.execute(text, context_value=Context())
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fragments", type=int, default=21)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    schema = build_schema(introspection=False)
    made = documents(args.fragments)
    results = {name: await median_ms(schema, make, args.repeats) for name, make in made.items()}
    base = results["baseline"]
    print(
        json.dumps(
            {
                "benchmark": "query_limits",
                "fragments": args.fragments,
                "repeats": args.repeats,
                "median_ms": {k: round(v, 3) for k, v in results.items()},
                "ratio_to_baseline": {k: round(v / base, 1) for k, v in results.items() if k != "baseline"},
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
