"""The Python side of the Celery interop tests: a Celery 5.2 app whose broker, backend and
queues come from the environment, with tasks that mirror the q side's."""
import os
import time

from celery import Celery

app = Celery('interop', broker=os.environ['Q_BROKER'], backend=os.environ['Q_BACKEND'])
app.conf.update(
    task_default_queue=os.environ.get('Q_PY_QUEUE', 'interop-py'),
    worker_prefetch_multiplier=1,
    broker_heartbeat=0,
)
Q_QUEUE = os.environ.get('Q_Q_QUEUE', 'interop-q')


@app.task(name='interop.mul')
def mul(x, y):
    return x * y


@app.task(name='interop.fail')
def fail(message):
    raise ValueError(message, 42)


@app.task(name='interop.retry_to_q', bind=True, max_retries=3)
def retry_to_q(self, x):
    # Begun here, finished by the q worker: the retry goes to the queue only q consumes.
    raise self.retry(countdown=0.5, queue=Q_QUEUE)


@app.task(name='interop.retry_to_py', bind=True)
def retry_to_py(self, x):
    return {'side': 'python', 'x': x, 'retries': self.request.retries}


@app.task(name='interop.slow')
def slow(seconds):
    time.sleep(seconds)
    return seconds
