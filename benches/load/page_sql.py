#!/usr/bin/env python3
"""Turns the statements PostgreSQL logged for one request (log_statement = all: `execute …: SQL`
lines, each followed by `DETAIL:  parameters: $1 = '…', …`) into a pgbench script with the values
in place: the exact SQL of one page, for the database ceiling. Reads the log excerpt on stdin."""
import re
import sys

statements = []
for line in sys.stdin:
    m = re.search(r"LOG:\s+execute [^:]*: (.*)$", line)
    if m:
        statements.append([m.group(1).strip(), {}])
        continue
    m = re.search(r"DETAIL:\s+parameters: (.*)$", line)
    if m and statements:
        for name, value in re.findall(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", m.group(1)):
            statements[-1][1][int(name)] = value
if not statements:
    sys.exit("no statement in the log excerpt")
for sql, params in statements:
    for n in sorted(params, reverse=True):
        sql = re.sub(r"\$%d(?!\d)" % n, lambda _: params[n], sql)
    print(sql + ";")
