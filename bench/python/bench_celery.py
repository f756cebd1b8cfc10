"""The Python Celery side of q's bench (bench/src/peers/celery-python.ts).

A worker: ``/usr/bin/python3 -m celery -A bench_celery worker -P solo --prefetch-multiplier 64 ...``
with BENCH_BROKER, BENCH_QUEUE, BENCH_N (tasks to count; 0 = never done) and, for the round trip,
BENCH_BACKEND. It prints ``BENCH_READY`` when the consumer is up (worker_ready) and
``BENCH_DONE <seconds>`` when BENCH_N tasks have run, timed from worker_ready.

A client: ``/usr/bin/python3 bench_celery.py roundtrip <count> <warmup>`` sends ``bench.noop`` and
waits for its result, in sequence, and prints the latencies in ms as JSON.
"""
import json
import os
import sys
import time

from celery import Celery
from celery.signals import worker_ready

BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/8")
BACKEND = os.environ.get("BENCH_BACKEND") or None
QUEUE = os.environ.get("BENCH_QUEUE", "celery")
N = int(os.environ.get("BENCH_N", "0"))

app = Celery("bench", broker=BROKER, backend=BACKEND)
app.conf.update(
    task_default_queue=QUEUE,
    task_ignore_result=BACKEND is None,
    worker_prefetch_multiplier=64,
    worker_disable_rate_limits=True,
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    result_expires=300,
)

_state = {"t0": None, "count": 0}


@worker_ready.connect
def _ready(**_kwargs):
    _state["t0"] = time.perf_counter()
    print("BENCH_READY", flush=True)


@app.task(name="bench.noop")
def noop(*_args, **_kwargs):
    _state["count"] += 1
    if _state["count"] == N:
        print("BENCH_DONE %.6f" % (time.perf_counter() - _state["t0"]), flush=True)
    return None


def roundtrip(count, warmup):
    out = []
    for i in range(count + warmup):
        t0 = time.perf_counter()
        noop.delay("x" * 216).get(timeout=10)
        if i >= warmup:
            out.append((time.perf_counter() - t0) * 1000)
    print(json.dumps(out), flush=True)


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "roundtrip":
    roundtrip(int(sys.argv[2]), int(sys.argv[3]))
