"""One stage of a shell pipeline: `produce N` writes N lines of three numbers to
stdout; `consume` parses each line from stdin and round-trips it through JSON
(the busy stage), then prints one JSON line with its pid and its own CPU time
(time.process_time()).

Usage: py_pipeline_stage.py produce N | py_pipeline_stage.py consume
"""
import json
import os
import sys
import time


def main():
    if sys.argv[1:2] == ["produce"] and len(sys.argv) == 3:
        out = sys.stdout
        for i in range(int(sys.argv[2])):
            out.write("%d,%d,%d\n" % (i, i * 7, i * 13))
    elif sys.argv[1:] == ["consume"]:
        total = 0
        for line in sys.stdin:
            a, b, c = map(int, line.split(","))
            total += json.loads(json.dumps({"a": a, "b": b, "c": c}))["b"] % 7
        print(json.dumps({"pid": os.getpid(), "cpu_s": time.process_time(), "total": total}))
    else:
        sys.exit("usage: py_pipeline_stage.py produce N | py_pipeline_stage.py consume")


if __name__ == "__main__":
    main()
