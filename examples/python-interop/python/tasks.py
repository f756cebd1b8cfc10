"""The Python side: a Celery 5 app on the same broker and backend as the Node app."""
import os

from celery import Celery

app = Celery(
    'interop',
    broker=os.environ.get('BROKER_URL', 'redis://127.0.0.1:6379/0'),
    backend=os.environ.get('RESULT_BACKEND', 'redis://127.0.0.1:6379/1'),
)
app.conf.task_default_queue = os.environ.get('PYTHON_QUEUE', 'python-tasks')


@app.task(name='tasks.mul')
def mul(x, y):
    return x * y


@app.task(name='tasks.divide')
def divide(x, y):
    return x / y
