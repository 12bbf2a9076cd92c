#!/usr/bin/env python3
"""Fails when a module of src/ depends against the layering of ARCHITECTURE.md ("Layers"), or when
SQL is written outside src/store/ and src/db/.

Every `crate::x` path (also inside `use crate::{x, y}` groups) of a file under src/x/ or src/x.rs is an
edge from module x; an edge not in ALLOWED fails, and so does an edge that ALLOWED narrows to some
items when it names another item. Run from anywhere: `scripts/check-layers.py` (add `--edges` to
print every edge with the files that make it; `--self-test` first checks, on a small tree of wrong
edges, that it refuses each kind).
"""

import collections
import pathlib
import re
import sys

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"

# The modules every layer may use: pure rules, the error type, settings, time and the CSV cell rule.
LEAVES = {"domain", "error", "config", "clock", "csv_out", "telemetry"}

# Who may use whom. A set lists the whole modules a module may use; a dict narrows a module to
# the items named (`"db": {"Db"}` allows `crate::db::Db` and nothing else of db).
ALLOWED = {
    # The composition root and the binary's command line wire everything together.
    "startup": "*",
    # Starts every background worker, wherever it lives.
    "workers": LEAVES | {"service", "mail", "webhooks", "runtime", "db"},
    # Use cases, and the adapters they drive (mail composing and sending, webhook delivery).
    "service": LEAVES | {"store", "db", "mail", "webhooks", "runtime"},
    "seed": LEAVES | {"service", "store", "db"},
    "mail": LEAVES | {"store", "db", "runtime"},
    "webhooks": LEAVES | {"store", "db", "runtime"},
    # Shared HTTP plumbing of the two web faces (state, strict query extractor, CSV answers).
    "web": LEAVES | {"service", "db"},
    # What the background workers share; below everything that runs a worker.
    "runtime": LEAVES | {"db"},
    "store": {"db", "domain", "error"},
    "db": {"config", "error"},
    # Leaves.
    "domain": set(),
    "error": {"domain"},
    "config": set(),
    "clock": set(),
    "csv_out": set(),
    "telemetry": {"config"},
}
# The faces: HTTP API, web pages, command line. They hold the database handle to open the unit of
# work a request spans (its commit decides the answer) and call service for everything else.
FACE = {m: set() for m in LEAVES | {"service", "web"}}
FACE["db"] = {"Db", "Tx", "Dialect"}
ALLOWED["api"] = FACE
ALLOWED["pages"] = FACE
# The command line also starts the server, runs migrations and seeds, and prints the API document.
ALLOWED["cli"] = {**FACE, "startup": set(), "seed": set(), "api": {"docs"}}

# SQL lives in store (queries) and db (connections, migrations, dialect fragments).
SQL_HOMES = ("store/", "db/")
SQL = re.compile(
    r"sqlx::query|\bquery_as\b|\bquery_scalar\b|QueryBuilder|"
    r"\"\s*(SELECT\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|WITH\s+\w+\s+AS\b|ANALYZE\b|LISTEN\s|NOTIFY\s)"
)


def module_of(path: pathlib.Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".rs")


def edges_of(text: str):
    for m in re.finditer(r"crate::([a-z_]+)(?:::([A-Za-z_]+))?", text):
        yield m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1
    for m in re.finditer(r"crate::\{([^}]*)\}", text):
        line = text.count("\n", 0, m.start()) + 1
        for part in m.group(1).split(","):
            names = re.findall(r"[A-Za-z_]+", part)
            if names:
                yield names[0], names[1] if len(names) > 1 else None, line


def problems_in(src: pathlib.Path, show_edges: bool = False) -> list:
    global SRC
    SRC = src
    problems = []
    seen = collections.defaultdict(set)
    for path in sorted(SRC.rglob("*.rs")):
        module = module_of(path)
        rel = str(path.relative_to(SRC))
        text = path.read_text(encoding="utf-8")
        for target, item, line in edges_of(text):
            if target == module or module in ("main", "lib"):
                continue
            seen[(module, target)].add(rel)
            rule = ALLOWED.get(module)
            if rule is None:
                problems.append(f"src/{rel}:{line}: module `{module}` has no layer in scripts/check-layers.py")
                continue
            if rule == "*":
                continue
            if target not in rule:
                problems.append(f"src/{rel}:{line}: `{module}` may not use `crate::{target}`")
            elif isinstance(rule, dict) and rule[target] and item not in rule[target]:
                allowed = ", ".join(sorted(rule[target]))
                problems.append(f"src/{rel}:{line}: `{module}` may use only {allowed} of `crate::{target}`, not `{item}`")
        if not rel.startswith(SQL_HOMES):
            for number, text_line in enumerate(text.splitlines(), 1):
                if text_line.lstrip().startswith("//"):
                    continue
                if SQL.search(text_line):
                    problems.append(f"src/{rel}:{number}: SQL outside src/store/ and src/db/")
    if show_edges:
        for (a, b), files in sorted(seen.items()):
            print(f"{a} -> {b}: {', '.join(sorted(files))}")
    return problems


def self_test() -> None:
    """The check must be able to fail: a small tree with one edge of each kind it refuses."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp)
        for rel, text in {
            "domain/pool.rs": "use crate::store::Conn;\n",
            "store/firms.rs": "use crate::service::firms;\nconst Q: &str = \"SELECT id FROM firms\";\n",
            "api/firms.rs": "use crate::store::firms;\nuse crate::db::row::RowExt;\n",
            "pages/bank.rs": "use crate::{api, service};\n",
            "service/stats.rs": "use crate::store::Conn;\nfn f() { sqlx::query(\"DELETE FROM x\"); }\n",
            "mail/outbox.rs": "use crate::store::Conn;\n",
        }.items():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            (src / rel).write_text(text, encoding="utf-8")
        found = problems_in(src)
    expected = [
        "api/firms.rs:1: `api` may not use `crate::store`",
        "api/firms.rs:2: `api` may use only Db, Dialect, Tx of `crate::db`, not `row`",
        "domain/pool.rs:1: `domain` may not use `crate::store`",
        "pages/bank.rs:1: `pages` may not use `crate::api`",
        "service/stats.rs:2: SQL outside src/store/ and src/db/",
        "store/firms.rs:1: `store` may not use `crate::service`",
    ]
    got = sorted(p.removeprefix("src/") for p in found)
    if got != expected:
        raise SystemExit("check-layers self-test failed:\n  expected " + "\n  ".join(expected) + "\n  got " + "\n  ".join(got))


def main() -> int:
    if "--self-test" in sys.argv:
        self_test()
    problems = problems_in(pathlib.Path(__file__).resolve().parent.parent / "src", "--edges" in sys.argv)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} layering problem(s); the rules are in ARCHITECTURE.md (Layers)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
