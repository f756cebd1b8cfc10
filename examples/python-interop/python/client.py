"""Calls the Node worker's tasks from Python: `python3 client.py` (run from this folder)."""
import os

from tasks import app

queue = os.environ.get('NODE_QUEUE', 'node-tasks')

add = app.send_task('node.add', args=(2, 3), kwargs={'z': 4}, queue=queue, countdown=1)
print('node.add(2, 3, z=4) =', add.get(timeout=30))

greet = app.send_task('node.greet', args=('Ada',), kwargs={'punctuation': '?'}, queue=queue)
print('node.greet ->', greet.get(timeout=30))

fail = app.send_task('node.fail', args=('bad input',), queue=queue)
try:
    fail.get(timeout=30)
except TypeError as exc:
    print('node.fail raised TypeError:', exc)
