#!/usr/bin/env bash
# The image of deploy/Dockerfile, built and run for real with podman + runc
# (no Docker daemon and no image registry here):
# - the Debian 12 base images are made by debootstrap from Debian's archive
#   and imported as debian:bookworm and debian:bookworm-slim (once: they
#   stay in the test's own podman storage under the build folder, with the
#   build cache);
# - `podman build` of deploy/Dockerfile from the repository root;
# - the image runs as a non-root user, with recsys as its entry point;
# - in it, `recsys demo --no-serve` builds a store and `recsys train` (the
#   training job) exits 0;
# - `recsys serve` (the default command) in a container on the host network,
#   locked down as deploy/k8s runs it (read-only root, no capabilities),
#   answers /healthz, /readyz, /metrics (with the metrics the dashboard and
#   alerts use) and a recommendation; the image's HEALTHCHECK passes;
# - SIGTERM (podman stop) stops it cleanly: exit status 0, well before the
#   grace period's SIGKILL;
# - the containers and the test image are removed.
#
# Needs root (podman's storage and runc), podman, runc and debootstrap
# (scripts/install-deps), and the npm packages the build embeds in
# node_modules (scripts/install-npm).
. "$(dirname "$0")/../integration/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${RS_CONTAINER_WORK:-${TMPDIR:-/tmp}/container}
mkdir -p "$WORK"

for tool in podman runc debootstrap curl; do
  command -v "$tool" >/dev/null || { fail "$tool is not installed (scripts/install-deps)"; finish; }
done
if [ "$(id -u)" -ne 0 ]; then
  echo "skip: the container test needs root (podman storage, runc, debootstrap)"
  exit 77
fi

# podman's configuration: runc (crun fails on this kernel's hybrid cgroups),
# cgroupfs, events to a file, ulimits within the hard limits; storage of
# its own under the build folder.
cat >"$WORK/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
cat >"$WORK/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$WORK/storage"
runroot = "$WORK/run"
EOF
export CONTAINERS_CONF="$WORK/containers.conf" CONTAINERS_STORAGE_CONF="$WORK/storage.conf"

IMAGE="localhost/recsys-test:$$"
NAME="recsys-test-$$"
cleanup() {
  podman rm -f -t 0 "$NAME" "$NAME-train" "$NAME-demo" >/dev/null 2>&1
  podman rmi -f "$IMAGE" >/dev/null 2>&1
  # The build's intermediate images of this run (the cache keeps layers
  # that later builds reuse; dangling ones are of no use).
  podman image prune -f >/dev/null 2>&1
}
eval "words=($(trap -p EXIT))"
# shellcheck disable=SC2064,SC2154 # expand lib.sh's trap now
trap "cleanup; ${words[2]}" EXIT

# --- the base images --------------------------------------------------------
t0=$SECONDS
if ! podman image exists debian:bookworm-slim || ! podman image exists debian:bookworm; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
  mirror=${mirror:-http://deb.debian.org/debian}
  rootfs="$T/rootfs"
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$T/debootstrap.log" 2>&1; then
    fail "debootstrap bookworm from $mirror"; tail -n 20 "$T/debootstrap.log"; finish
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  run "import the debootstrap root as debian:bookworm-slim" 0 \
    sh -c "tar -C '$rootfs' -c . | podman import - debian:bookworm-slim"
  run "tag it debian:bookworm" 0 podman tag debian:bookworm-slim debian:bookworm
  rm -rf "$rootfs"
  pass "base images made by debootstrap in $((SECONDS - t0)) s"
else
  pass "base images debian:bookworm and debian:bookworm-slim already made"
fi

# --- the build --------------------------------------------------------------
t0=$SECONDS
if ! podman build --pull=never --network=host --format docker -f "$ROOT/deploy/Dockerfile" \
       -t "$IMAGE" "$ROOT" >"$T/build.log" 2>&1; then
  fail "podman build deploy/Dockerfile"; tail -n 30 "$T/build.log"; finish
fi
pass "podman build deploy/Dockerfile in $((SECONDS - t0)) s"
podman image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "ok: image size %.0f MB\n", $1 / 1e6}'

inspect() { podman image inspect "$IMAGE" --format "$1"; }
[ "$(inspect '{{.Config.User}}')" = "10001:10001" ] && pass "runs as user 10001" ||
  fail "image user: $(inspect '{{.Config.User}}')"
[ "$(inspect '{{json .Config.Entrypoint}}')" = '["/usr/local/bin/recsys"]' ] && pass "entry point recsys" ||
  fail "entry point: $(inspect '{{json .Config.Entrypoint}}')"
[ "$(inspect '{{json .Config.Cmd}}')" = '["serve"]' ] && pass "default command serve" ||
  fail "command: $(inspect '{{json .Config.Cmd}}')"
run "recsys --version in the image" 0 podman run --rm --network=host --no-healthcheck "$IMAGE" --version
has "$T/out" "recsys"
run "the process is not root" 0 podman run --rm --network=host --no-healthcheck --entrypoint id "$IMAGE" -u
[ "$(cat "$T/out")" = "10001" ] || fail "id -u in the container: $(cat "$T/out")"
run "no compiler in the runtime image" 0 podman run --rm --network=host --no-healthcheck --entrypoint sh "$IMAGE" \
  -c '! command -v cc && ! command -v gcc && ! command -v cmake'

# --- the training job in the image -------------------------------------------
data="$T/data"
mkdir -p "$data" && chown 10001:10001 "$data"
vol=(-v "$data:/data")
run "recsys demo --no-serve in the image" 0 podman run --rm --name "$NAME-demo" --network=host --no-healthcheck "${vol[@]}" "$IMAGE" \
  demo --dir /data/demo --users 300 --items 120 --events 15000 --no-serve --log-level warn
run "recsys train in the image (the CronJob's command) exits 0" 0 \
  podman run --rm --name "$NAME-train" --network=host --no-healthcheck "${vol[@]}" \
    -e RECSYS_DB=sqlite:///data/demo/recsys.db -e RECSYS_MODELS=file:///data/demo/models \
    "$IMAGE" train --log-level warn --factors 8 --iterations 3
versions=$(count "$data/demo/recsys.db" "select count(*) from model_versions")
[ "$versions" = 2 ] && pass "the job registered a second model version" ||
  fail "model versions after the job: $versions, expected 2"

# --- recsys serve in the image ------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
# As Kubernetes runs it (deploy/k8s/base/server/deployment.yaml): a
# read-only root file system with a writable /tmp, no capabilities, no
# privilege escalation.
run "start recsys serve (the default command)" 0 podman run -d --name "$NAME" --network=host "${vol[@]}" \
  --read-only --tmpfs /tmp --cap-drop=ALL --security-opt=no-new-privileges \
  -e RECSYS_LISTEN="127.0.0.1:$port" -e RECSYS_DB=sqlite:///data/demo/recsys.db \
  -e RECSYS_MODELS=file:///data/demo/models -e RECSYS_POLL=1s "$IMAGE"
for _ in $(seq 100); do
  curl -fsS -o /dev/null "$url/healthz" 2>/dev/null && break
  sleep 0.1
done
run "/healthz" 0 curl -fsS "$url/healthz"
run "/readyz" 0 curl -fsS "$url/readyz"
has "$T/out" '"ready"'
run "/v1/recommend" 0 curl -fsS "$url/v1/recommend?user_id=u1&n=3"
has "$T/out" '"items"'
run "/metrics" 0 curl -fsS "$url/metrics"
for m in recsys_http_requests_total recsys_http_request_duration_seconds_bucket recsys_model_version \
         recsys_model_age_seconds recsys_training_runs_total recsys_events_ingested_total \
         recsys_process_resident_memory_bytes; do
  has "$T/out" "$m"
done
run "the image's HEALTHCHECK passes" 0 podman healthcheck run "$NAME"

t0=$(date +%s%N)
run "podman stop (SIGTERM)" 0 podman stop -t 20 "$NAME"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
code=$(podman inspect "$NAME" --format '{{.State.ExitCode}}')
if [ "$code" = "0" ]; then pass "exit status 0 on SIGTERM, stopped in $ms ms"; else
  fail "exit status $code on SIGTERM (137: killed after the grace period)"; podman logs --tail 20 "$NAME"
fi
[ "$ms" -lt 15000 ] || fail "stopping took $ms ms"
podman logs "$NAME" >"$T/serve.log" 2>&1
grep -qi "level=error" "$T/serve.log" && { fail "errors in the server's log"; grep -i "level=error" "$T/serve.log" | head -5; }
run "remove the container" 0 podman rm "$NAME"
finish
