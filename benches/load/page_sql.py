#!/usr/bin/env python3
"""Turns the statements PostgreSQL logged for one request (log_statement = all: `execute …: SQL`
lines, each followed by `DETAIL:  parameters: $1 = '…', …`) into a pgbench script: the exact SQL of
one page, for the database ceiling. Reads the log excerpt on stdin.

  page_sql.py                 the values written in place (each statement planned once, for its values)
  page_sql.py --bound DEFS    the statements as the service sends them, parameters bound: the script
                              uses pgbench variables (:s1p1, …) and their values go to DEFS as
                              `-D name=value` arguments, one per line
"""
import re
import sys

bound = len(sys.argv) == 3 and sys.argv[1] == "--bound"
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
defines = []
for i, (sql, params) in enumerate(statements, 1):
    for n in sorted(params, reverse=True):
        if bound and params[n] != "NULL":
            var = "s%dp%d" % (i, n)
            defines.append("-D%s=%s" % (var, params[n][1:-1].replace("''", "'")))
            sql = re.sub(r"\$%d(?!\d)" % n, ":" + var, sql)
        else:
            sql = re.sub(r"\$%d(?!\d)" % n, lambda _: params[n], sql)
    print(sql + ";")
if bound:
    with open(sys.argv[2], "w") as out:
        out.write("\n".join(defines) + "\n")
