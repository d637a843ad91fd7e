#!/bin/sh
# The container's entry point.
#   (no arguments)              faultline-server -host 0.0.0.0
#   -config /etc/faultline.json faultline-server -host 0.0.0.0 -config ...  (flags go to the server)
#   -host 127.0.0.1 ...         the server, with the host given
#   faultline status            any other command runs as it is (the CLI, a shell)
# The API listens on every address unless -host says otherwise: inside a
# container, localhost is unreachable from outside. Set FAULTLINE_API_TOKEN
# (or -api-token) when the port is published beyond the machine.
set -eu
server=${FAULTLINE_SERVER_BIN:-/usr/bin/faultline-server}
case "${1:-}" in
  ""|-*)
    for arg in "$@"; do
      case "$arg" in
        -host|--host|-host=*|--host=*) exec "$server" "$@" ;;
      esac
    done
    exec "$server" -host 0.0.0.0 "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
