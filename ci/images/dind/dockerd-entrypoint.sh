#!/bin/sh
# Start dockerd the way the official dind image does: arguments are dockerd
# flags. Only the local socket is served; the harness execs the CLI inside.
set -e
rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
exec dockerd --host=unix:///var/run/docker.sock "$@"
