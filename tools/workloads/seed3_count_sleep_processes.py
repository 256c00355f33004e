#!/usr/bin/env python3
"""Seed experiment 3: experiment 2's counting-and-sleeping work on 20
`multiprocessing.Process` children (mode `processes`; `serial` for comparison).

Each child has its own interpreter and GIL: gtrace should show 20 processes,
each with its own GIL section, their fork and exit, and parallelism up to the
number of cores.

    seed3_count_sleep_processes.py processes|serial [--workers 20] [--size 20000] [--sleep 0.1]
"""
from seed2_count_sleep import run

if __name__ == "__main__":
    run(3)
