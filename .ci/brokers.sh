#!/usr/bin/env bash
# Starts each broker the integration tests need if it is not answering, with the same commands
# the machine uses, then waits until it answers. Safe to run when they are already up.
set -uo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name, check command, seconds
  local name=$1 check=$2 limit=$3
  for ((i = 0; i < limit; i++)); do
    if eval "$check" >/dev/null 2>&1; then echo "  $name is up"; return 0; fi
    sleep 1
  done
  echo "  $name did not answer within ${limit}s" >&2
  return 1
}

if ! port_open 5672; then
  echo "  starting RabbitMQ"
  rabbitmq-server -detached || true
fi
wait_for RabbitMQ "port_open 5672 && rabbitmq-diagnostics -q check_port_connectivity" 120

if ! port_open 6379; then
  echo "  starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
fi
wait_for Redis "redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG" 30

if ! port_open 5432; then
  echo "  starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
wait_for PostgreSQL "pg_isready -h 127.0.0.1 -p 5432" 60
