#!/bin/sh
# Entrypoint of the offline dind stand-in. It keeps the contract of the
# official docker:dind image's dockerd-entrypoint.sh (docker-library/docker),
# so code written for the official image runs unchanged on the stand-in:
#
# - no arguments, or a first argument starting with `-`: dockerd is started
#   on the unix socket (`$DOCKER_HOST` when that names one) and on TCP, with
#   the arguments appended (they add flags or override earlier ones):
#   - DOCKER_TLS_CERTDIR set and non-empty (the image's default, /certs): a
#     CA, a server and a client certificate are made under
#     $DOCKER_TLS_CERTDIR/{ca,server,client} and the API is served on
#     tcp://0.0.0.0:2376 with --tlsverify (mutual TLS);
#   - DOCKER_TLS_CERTDIR empty: tcp://0.0.0.0:2375 without TLS. `--tls=false`
#     says so explicitly: without it dockerd 20.10 to 28.5 warn and sleep
#     16 s before serving (measured; newer official images pass it too).
# - first argument `dockerd`: run exactly as given (only the listeners it
#   names; the harness starts its dinds this way, with the socket alone).
# - anything else: run as given.
#
# Certificates follow the official rules: a CA key present (or no CA
# certificate) means the CA is managed here, and the server and client
# certificates are made again on every start (addresses may have changed);
# a CA certificate without its key is the user's own CA, left alone.
set -eu

CERT_DAYS=825

ensure_key() {
	[ -s "$1" ] || openssl genrsa -out "$1" 4096 2>/dev/null
}

# subjectAltName of the server certificate: every address of the container,
# loopback, its names, `docker`, and $DOCKER_TLS_SAN.
server_san() {
	{
		for ip in $(hostname -I 2>/dev/null) 127.0.0.1 ::1; do echo "IP:$ip"; done
		for name in "$(hostname)" "$(hostname -f 2>/dev/null || :)" docker localhost; do
			[ -z "$name" ] || echo "DNS:$name"
		done
		[ -z "${DOCKER_TLS_SAN:-}" ] || echo "$DOCKER_TLS_SAN"
	} | sort -u | paste -sd, -
}

# sign DIR NAME SUBJECT EXTENSIONS: key, request and certificate of NAME
# under DIR/NAME, signed by DIR/ca, checked against it.
sign() {
	dir="$1" name="$2" subject="$3" extensions="$4"
	mkdir -p "$dir/$name"
	ensure_key "$dir/$name/key.pem"
	openssl req -new -key "$dir/$name/key.pem" -out "$dir/$name/csr.pem" -subj "$subject"
	printf '[ x509_exts ]\n%s\n' "$extensions" >"$dir/$name/openssl.cnf"
	openssl x509 -req -in "$dir/$name/csr.pem" -CA "$dir/ca/cert.pem" -CAkey "$dir/ca/key.pem" \
		-CAcreateserial -out "$dir/$name/cert.pem" -days "$CERT_DAYS" \
		-extfile "$dir/$name/openssl.cnf" -extensions x509_exts 2>/dev/null
	cp "$dir/ca/cert.pem" "$dir/$name/ca.pem"
	openssl verify -CAfile "$dir/$name/ca.pem" "$dir/$name/cert.pem" >/dev/null
}

generate_certs() {
	dir="$1"
	if [ -s "$dir/ca/key.pem" ] || [ ! -s "$dir/ca/cert.pem" ]; then
		mkdir -p "$dir/ca"
		ensure_key "$dir/ca/key.pem"
		openssl req -new -x509 -key "$dir/ca/key.pem" -out "$dir/ca/cert.pem" \
			-subj '/CN=docker:dind CA' -days "$CERT_DAYS"
	fi
	[ -s "$dir/ca/key.pem" ] || return 0
	sign "$dir" server '/CN=docker:dind server' "subjectAltName = $(server_san)"
	sign "$dir" client '/CN=docker:dind client' 'extendedKeyUsage = clientAuth'
	# Shared with whatever client mounts the folder, as the official image does.
	chmod 0644 "$dir/client/key.pem"
}

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
	socket='unix:///var/run/docker.sock'
	case "${DOCKER_HOST:-}" in
		unix://*) socket="$DOCKER_HOST" ;;
	esac
	certs="${DOCKER_TLS_CERTDIR:-}"
	if [ -n "$certs" ] && generate_certs "$certs" \
		&& [ -s "$certs/server/ca.pem" ] && [ -s "$certs/server/cert.pem" ] && [ -s "$certs/server/key.pem" ]; then
		set -- dockerd --host="$socket" --host=tcp://0.0.0.0:2376 --tlsverify \
			--tlscacert "$certs/server/ca.pem" --tlscert "$certs/server/cert.pem" \
			--tlskey "$certs/server/key.pem" "$@"
	else
		set -- dockerd --host="$socket" --host=tcp://0.0.0.0:2375 --tls=false "$@"
	fi
fi

if [ "$1" = dockerd ]; then
	# A daemon killed uncleanly leaves its pid files, which stop the next start.
	find /run /var/run -iname 'docker*.pid' -delete 2>/dev/null || :
	rm -f /var/run/docker/containerd/containerd.pid
fi
exec "$@"
