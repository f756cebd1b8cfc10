#!/usr/bin/env bash
# Debian's Python Celery 5.2 (and Kombu, redis, msgpack) for the interop tests, at /usr/bin/python3.
set -euo pipefail
if /usr/bin/python3 -c 'import celery, kombu, redis, msgpack' 2>/dev/null; then
  echo "  python3-celery already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3-celery python3-redis python3-msgpack >/dev/null
/usr/bin/python3 -c 'import celery; print("  python3-celery", celery.__version__)'
