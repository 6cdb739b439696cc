# ---- library: everything below up to the job list is the same in every pack

say() { printf '%s\n' "$*"; }
warn() { printf 'repro: %s\n' "$*" >&2; }
# A setup error: the pipeline could not even be set up (exit 2).
die() { warn "setup error: $*"; exit 2; }

containers=''
volumes=''
seed_tags=''
tmp=''
failures=0
bugs=0

cleanup() {
  for c in $containers; do docker rm -f -v "$c" >/dev/null 2>&1 || true; done
  for v in $volumes; do docker volume rm -f "$v" >/dev/null 2>&1 || true; done
  for t in $seed_tags; do docker rmi "$t" >/dev/null 2>&1 || true; done
  if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
on_exit() {
  rc=$?
  trap - EXIT INT TERM
  cleanup
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v docker >/dev/null 2>&1 || die "no docker CLI on PATH"
command -v openssl >/dev/null 2>&1 || die "no openssl on PATH (Debian/Ubuntu: apt-get install openssl; Alpine: apk add openssl)"
docker version >/dev/null 2>&1 || die "no Docker daemon answers (docker version failed)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/repro-XXXXXX") || die "mktemp failed"
prefix="repro-$REPRO_ID"
label="io.harness.repro=$REPRO_ID"

# Pulls an image only when the host lacks it (REPRO_PULL=missing), always,
# or never (offline: the image must already be on the host).
ensure_image() {
  case $REPRO_PULL in
    always) docker pull "$1" >/dev/null || die "cannot pull $1" ;;
    never) docker image inspect "$1" >/dev/null 2>&1 || die "$1 is not on this host and REPRO_PULL=never" ;;
    missing)
      docker image inspect "$1" >/dev/null 2>&1 || docker pull "$1" >/dev/null ||
        die "$1 is not on this host and cannot be pulled (point the REPRO_*_IMAGE variables at local images)" ;;
    *) die "REPRO_PULL must be missing, always or never, not '$REPRO_PULL'" ;;
  esac
}

# A CA and a registry certificate: BuildKit in engine 20.10 ignores
# --insecure-registry when it resolves FROM, so the registry speaks TLS and
# each dind trusts the CA through /etc/docker/certs.d.
make_tls() {
  mkdir -p "$tmp/tls/certs"
  cat >"$tmp/tls/openssl.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = repro pack CA
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:$REGISTRY_HOST,DNS:localhost,IP:127.0.0.1
authorityKeyIdentifier = keyid
CNF
  (
    cd "$tmp/tls" &&
      openssl req -x509 -new -nodes -newkey rsa:2048 -keyout ca.key -out ca.crt -days 2 \
        -config openssl.cnf -extensions ca -subj '/CN=repro pack CA' &&
      openssl req -new -nodes -newkey rsa:2048 -keyout certs/registry.key -out registry.csr \
        -config openssl.cnf -subj "/CN=$REGISTRY_HOST" &&
      openssl x509 -req -in registry.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -extfile openssl.cnf -extensions server -out certs/registry.crt &&
      chmod 644 certs/registry.key
  ) >"$tmp/tls/openssl.log" 2>&1 || die "openssl failed: $(cat "$tmp/tls/openssl.log")"
}

# The pipeline's registry, on the default bridge and on 127.0.0.1 for seeding.
start_registry() {
  ensure_image "$REPRO_REGISTRY_IMAGE"
  make_tls
  registry_ctr="$prefix-registry"
  containers="$containers $registry_ctr"
  docker create --name "$registry_ctr" --label "$label" -p 127.0.0.1::5000 \
    -e REGISTRY_HTTP_TLS_CERTIFICATE=/certs/registry.crt -e REGISTRY_HTTP_TLS_KEY=/certs/registry.key \
    "$REPRO_REGISTRY_IMAGE" >/dev/null || die "cannot create the registry from $REPRO_REGISTRY_IMAGE"
  docker cp "$tmp/tls/certs/." "$registry_ctr:/certs" || die "cannot copy the certificates into the registry"
  docker start "$registry_ctr" >/dev/null || die "the registry does not start"
  i=0
  until docker logs "$registry_ctr" 2>&1 | grep -q 'listening on'; do
    i=$((i + 1))
    [ "$i" -le 60 ] || die "the registry is not listening after 60 s: $(docker logs "$registry_ctr" 2>&1 | tail -n 5)"
    sleep 1
  done
  registry_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$registry_ctr" | cut -d' ' -f1)
  registry_port=$(docker port "$registry_ctr" 5000/tcp | head -n 1 | sed 's/.*://')
  if [ -z "$registry_ip" ] || [ -z "$registry_port" ]; then die "the registry has no bridge address or port"; fi
  say "registry: $REPRO_REGISTRY_IMAGE as $REGISTRY (bridge $registry_ip, host 127.0.0.1:$registry_port)"
}

# Pushes host image $1 into the registry as $2 (repo:tag): the host daemon
# treats 127.0.0.0/8 as an insecure registry, so the private CA is no obstacle.
seed() {
  ensure_image "$1"
  tag="127.0.0.1:$registry_port/$2"
  seed_tags="$seed_tags $tag"
  docker tag "$1" "$tag" || die "cannot tag $1"
  docker push "$tag" >"$tmp/seed.log" 2>&1 || die "cannot push $1 into the registry: $(tail -n 5 "$tmp/seed.log")"
  docker rmi "$tag" >/dev/null 2>&1 || true
  say "seeded: $1 as $REGISTRY/$2"
}

# --privileged when the host allows it, else the capability set that runs
# dockerd where CAP_SYS_RESOURCE is missing.
decide_rights() {
  case $REPRO_RIGHTS in
    privileged | capabilities) rights=$REPRO_RIGHTS; return ;;
    auto) ;;
    *) die "REPRO_RIGHTS must be auto, privileged or capabilities, not '$REPRO_RIGHTS'" ;;
  esac
  probe="$prefix-probe"
  containers="$containers $probe"
  if out=$(docker run --rm --name "$probe" --label "$label" --privileged --entrypoint true "$1" 2>&1); then
    rights=privileged
  else
    case $out in
      *'apply caps'* | *'operation not permitted'*)
        rights=capabilities
        say "note: this host refuses --privileged; dind runs with --cap-add ALL --cap-drop SYS_RESOURCE, seccomp, AppArmor and system paths unconfined, /sys/fs/cgroup read-write" ;;
      *) die "the --privileged probe failed: $out" ;;
    esac
  fi
}

# A fresh dind: $1 image, $2 containerd image store (true/false). The
# engine's carry volume, if any, is mounted at its folder (--mount: the
# folder is a plain path, no colon to split on).
start_dind() {
  [ -n "${rights:-}" ] || decide_rights "$1"
  dind_n=$((${dind_n:-0} + 1))
  dind="$prefix-dind-$dind_n"
  etc="$tmp/etc-docker-$dind_n"
  mkdir -p "$etc/certs.d/$REGISTRY"
  cp "$tmp/tls/ca.crt" "$etc/certs.d/$REGISTRY/ca.crt"
  printf '{"features":{"containerd-snapshotter":%s}}\n' "$2" >"$etc/daemon.json"
  containers="$containers $dind"
  # `dockerd` first: the official entrypoint then runs it as given, on its
  # unix socket only (no TCP listener; this script uses docker exec).
  # REPRO_DOCKERD_FLAGS is split into words on purpose: they are dockerd's arguments.
  # shellcheck disable=SC2086
  if [ "$rights" = privileged ]; then
    docker create --name "$dind" --label "$label" --privileged \
      -v /var/lib/docker --add-host "$REGISTRY_HOST:$registry_ip" \
      ${carry_vol:+--mount} ${carry_vol:+"type=volume,source=$carry_vol,target=$engine_carry"} \
      "$1" dockerd --host=unix:///var/run/docker.sock $REPRO_DOCKERD_FLAGS >/dev/null || die "cannot create a dind from $1"
  else
    docker create --name "$dind" --label "$label" \
      --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
      --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
      -v /var/lib/docker --add-host "$REGISTRY_HOST:$registry_ip" \
      ${carry_vol:+--mount} ${carry_vol:+"type=volume,source=$carry_vol,target=$engine_carry"} \
      "$1" dockerd --host=unix:///var/run/docker.sock $REPRO_DOCKERD_FLAGS >/dev/null || die "cannot create a dind from $1"
  fi
  docker cp "$etc/." "$dind:/etc/docker" || die "cannot copy daemon.json and the CA into the dind"
  docker start "$dind" >/dev/null || die "the dind from $1 does not start"
  i=0
  # Only a server version counts: 26.1's CLI exits 0 when no daemon answers.
  until [ -n "$(docker exec "$dind" docker info --format '{{.ServerVersion}}' 2>/dev/null)" ]; do
    i=$((i + 1))
    [ "$i" -le 90 ] || die "dockerd in $1 does not answer after 90 s: $(docker logs "$dind" 2>&1 | tail -n 10)"
    sleep 1
  done
  # Nested containers must not fall back to public DNS (8.8.8.8): that
  # happens when the dind sees only loopback resolvers.
  case $REPRO_DOCKERD_FLAGS in *--dns*) ;; *)
    docker exec "$dind" cat /etc/resolv.conf | awk '$1 == "nameserver" && $2 !~ /^127\./ && $2 != "::1" { ok = 1 } END { exit !ok }' ||
      die "the dind sees only loopback resolvers; set REPRO_DOCKERD_FLAGS=--dns=<your resolver>" ;;
  esac
}

# Starts job $1 (name $2) on a fresh or warm daemon; returns 1 past REPRO_JOBS.
job_begin() {
  if [ -n "$REPRO_JOBS" ] && [ "$1" -gt "$REPRO_JOBS" ]; then return 1; fi
  job=$1
  job_failed=0
  job_out="$engine_out/job-$1"
  mkdir -p "$job_out"
  say ""
  say "== job $1 ($2), engine $engine"
  job_started=$(date +%s)
  daemon_ready=0
  if [ "$3" = fresh ] || [ -z "${dind:-}" ]; then
    if [ -n "${dind:-}" ]; then docker rm -f -v "$dind" >/dev/null 2>&1 || true; fi
    start_dind "$engine_image" "$engine_containerd"
    daemon_ready=$(($(date +%s) - job_started))
  fi
  docker exec "$dind" docker version >"$job_out/versions.txt" 2>&1 || true
  docker exec "$dind" docker buildx version >>"$job_out/versions.txt" 2>&1 || true
  say "   daemon: $(docker exec "$dind" docker version --format '{{.Server.Version}}' 2>/dev/null) ($dind)"
  if [ -d "$pack_dir/jobs/$engine/job-$1" ]; then
    cp -R "$pack_dir/jobs/$engine/job-$1/." "$work/"
  fi
}

# Ends the job: its wall time (and its daemon's start) to timings.tsv.
job_end() {
  took=$(($(date +%s) - job_started))
  say "   job $job took $took s (daemon ready after $daemon_ready s)"
  printf '%s\t%s\t%s\t%s\n' "$engine" "$job" "$took" "$daemon_ready" >>"$REPRO_OUT/timings.tsv"
}

# Copies the build context into the daemon, as it is after this job's edits.
job_context() {
  docker exec "$dind" sh -c 'rm -rf /harness/context && mkdir -p /harness/context' || die "cannot reset the context in the dind"
  docker cp "$work/." "$dind:/harness/context" || die "cannot copy the context into the dind"
}

# Runs command $3 (log file $1, may fail: $2) in the context, like the harness.
run_cmd() {
  [ "$job_failed" = 0 ] || return 0
  say "   \$ $3"
  if docker exec -w /harness/context "$dind" sh -c "$3" >"$job_out/$1" 2>&1; then return 0; fi
  rc=$?
  if [ "$2" = 1 ]; then
    say "     (exit $rc; allowed to fail)"
  else
    say "     FAILED (exit $rc): the job's later commands are skipped; log: $job_out/$1"
    job_failed=1
    failures=$((failures + 1))
  fi
}

# The outcome of one step in a plain progress log: the vertex whose title is
# "[<stage> n/m] <instruction>" with the instruction containing the step
# text (spaces not counting) ends with CACHED (cached), DONE (executed),
# ERROR (error) or CANCELED (canceled); no such vertex: absent; two: ambiguous.
# A step that only moved layers (sizes "a / b", extracting, pulling) and
# printed no process output took its result from a registry: remote, as a
# registry-cache hit prints DONE.
step_outcome() {
  [ -f "$1" ] || { echo absent; return; }
  awk -v stage="$2" -v step="$3" '
    function norm(s) { gsub(/[ \t\r]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); return s }
    BEGIN { step = norm(step) }
    /^#[0-9]+ \[/ {
      title = substr($0, length($1) + 2)
      p = index(title, "] ")
      if (p == 0) next
      head = substr(title, 2, p - 2)
      split(head, parts, " ")
      instr = norm(substr(title, p + 2))
      if ((stage == "" || parts[1] == stage) && index(instr, step) > 0 && !($1 in want)) { want[$1] = 1; n++; first = $1 }
      next
    }
    ($1 in want) {
      if (($2 ~ /^sha256:/ && $4 == "/") || $2 == "extracting" || $2 == "pulling") moved[$1] = 1
      else if ($2 ~ /^[0-9]+\.[0-9]+$/) ran[$1] = 1
      if ($2 == "CACHED") res[$1] = "cached"
      else if ($2 == "DONE" && res[$1] == "") res[$1] = "executed"
      else if ($2 == "ERROR" || $2 == "ERROR:") res[$1] = "error"
      else if ($2 == "CANCELED") res[$1] = "canceled"
    }
    END {
      if (n == 0) print "absent"
      else if (n > 1) print "ambiguous"
      else if (res[first] == "") print "unfinished"
      else if ((res[first] == "executed" || res[first] == "cached") && moved[first] && !ran[first]) print "remote"
      else print res[first]
    }' "$1"
}

# Whether observed outcome $2 satisfies expected $1: reused is cached or
# remote; a silent step the harness calls executed? reads as executed here.
outcome_matches() {
  case $1 in
    reused) [ "$2" = cached ] || [ "$2" = remote ] ;;
    'executed?') [ "$2" = executed ] ;;
    *) [ "$1" = "$2" ] ;;
  esac
}

# check_step LOG STAGE STEP EXPECTED BUG_OUTCOME BUG_LINK UNSUPPORTED BUILD
check_step() {
  observed=$(step_outcome "$job_out/$1" "$2" "$3")
  where="job $job  $8: $3"
  if [ -n "$7" ]; then
    verdict=unsupported
    say "   - $where: $observed (not checked on this engine: $7)"
  elif outcome_matches "$4" "$observed"; then
    verdict=pass
    if [ -n "$6" ]; then
      say "   - $where: $observed, as expected ($4): the known bug did not show ($6)"
    else
      say "   - $where: $observed, as expected ($4)"
    fi
  elif [ -n "$6" ] && outcome_matches "$5" "$observed"; then
    verdict=known_bug
    bugs=$((bugs + 1))
    say "   - $where: $observed, expected $4: KNOWN BUG reproduced ($6)"
  else
    verdict=fail
    failures=$((failures + 1))
    say "   - $where: $observed, expected $4: FAILED"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$engine" "$job" "$8" "$2" "$3" "$observed" "$verdict" >>"$REPRO_OUT/results.tsv"
}

# check_run SCRIPT CONTAINS NOT_CONTAINS EXIT_CODE
check_run() {
  if [ "$job_failed" != 0 ]; then return 0; fi
  rc=0
  out=$(docker exec "$dind" sh -c "$1" 2>>"$job_out/runs.log") || rc=$?
  printf '$ %s\n%s\n' "$1" "$out" >>"$job_out/runs.log"
  bad=''
  [ "$rc" = "$4" ] || bad="exit code $rc, expected $4"
  if [ -n "$2" ]; then case $out in *"$2"*) ;; *) bad="${bad:+$bad; }output lacks \"$2\"" ;; esac; fi
  if [ -n "$3" ]; then case $out in *"$3"*) bad="${bad:+$bad; }output has \"$3\"" ;; esac; fi
  if [ -z "$bad" ]; then
    say "   - run: $1: as expected"
    verdict=pass
  else
    say "   - run: $1: FAILED ($bad); output: $(printf '%s' "$out" | head -n 5)"
    failures=$((failures + 1))
    verdict=fail
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$engine" "$job" run '' "$1" "${bad:-ok}" "$verdict" >>"$REPRO_OUT/results.tsv"
}

# Starts engine $1 (dind image $2, containerd store $3) from a fresh context;
# $4, when not empty, is the folder every dind of the engine mounts from one
# volume, kept from job to job as a CI cache keeps a folder.
engine_begin() {
  engine=$1
  engine_image=$2
  engine_containerd=$3
  engine_carry=${4:-}
  carry_vol=''
  if [ -n "$engine_carry" ]; then
    carry_vol="$prefix-carry-$1"
    volumes="$volumes $carry_vol"
    docker volume create --label "$label" "$carry_vol" >/dev/null || die "cannot create the volume $carry_vol"
  fi
  engine_out="$REPRO_OUT/$1"
  rm -rf "$engine_out"
  mkdir -p "$engine_out"
  work="$tmp/context-$1"
  rm -rf "$work"
  cp -R "$pack_dir/context" "$work"
  ensure_image "$engine_image"
  say ""
  say "=== engine $1: $engine_image"
  if [ -n "$carry_vol" ]; then say "carry: $engine_carry in every dind, from the volume $carry_vol"; fi
}

engine_end() {
  if [ -n "${dind:-}" ]; then docker rm -f -v "$dind" >/dev/null 2>&1 || true; fi
  dind=''
  if [ -n "${carry_vol:-}" ]; then docker volume rm -f "$carry_vol" >/dev/null 2>&1 || true; fi
  carry_vol=''
}

wanted() {
  case " $REPRO_ENGINES " in *" $1 "*) return 0 ;; *) return 1 ;; esac
}
