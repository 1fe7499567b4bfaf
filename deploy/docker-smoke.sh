#!/usr/bin/env bash
# Builds the image and runs it as Docker would in production: the sandbox and the FHIR store on
# the host, the container on the host network, until Docker's HEALTHCHECK says healthy; then
# `docker stop` (SIGTERM to node as PID 1) must end it with status 0 within the grace.
# Usage: deploy/docker-smoke.sh [image-tag]. Needs a Docker daemon and the base image
# (node:20-bookworm-slim) pullable or present; exits 2 without them, saying which is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-avara-fhir-sync:smoke}
base=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' Dockerfile | head -1)

docker info >/dev/null 2>&1 || { echo "docker-smoke: no Docker daemon reachable; image not built" >&2; exit 2; }
# Without the buildx plugin a recent docker CLI refuses BuildKit builds; the classic builder does.
docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0
docker image inspect "$base" >/dev/null 2>&1 || docker pull "$base" >/dev/null 2>&1 \
  || { echo "docker-smoke: base image $base neither present nor pullable; image not built" >&2; exit 2; }

work=$(mktemp -d)
container=avara-fhir-sync-smoke-$$
pids=()
cleanup() {
  docker rm -f "$container" >/dev/null 2>&1 || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# --network host: the build reaches the npm registry and Debian through the host's resolver.
docker build --network host -t "$tag" . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
echo "docker-smoke: built $tag"

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
node src/cli-entry.mjs sandbox --port 0 --webhook-url "http://127.0.0.1:$port/webhooks/avara" >"$work/sandbox.json" 2>"$work/sandbox.log" & pids+=($!)
node src/cli-entry.mjs fhir-server --port 0 >"$work/fhir.json" 2>"$work/fhir.log" & pids+=($!)
for _ in $(seq 120); do [[ -s "$work/sandbox.json" && -s "$work/fhir.json" ]] && break; sleep 0.5; done
field() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0])[process.argv[2]])' "$1" "$2"; }

docker run -d --name "$container" --network host \
  -e PORT="$port" -e ADMIN_TOKENS=smoke:docker-smoke-token-0001 \
  -e AVARA_BASE_URL="$(field "$work/sandbox.json" baseUrl)" -e AVARA_API_KEY="$(field "$work/sandbox.json" apiKey)" \
  -e AVARA_WEBHOOK_KEY="$(field "$work/sandbox.json" webhookKey)" -e FHIR_BASE_URL="$(field "$work/fhir.json" baseUrl)" \
  -e MRN_SYSTEM=urn:oid:1.2.3.4.5 -e STUDY_TIME_ZONE=America/New_York -e POLL_INTERVAL_SECONDS=0 \
  "$tag" >/dev/null

[[ $(docker inspect -f '{{.Config.User}}' "$tag") != root ]] || { echo "docker-smoke: image runs as root" >&2; exit 1; }
for _ in $(seq 90); do
  status=$(docker inspect -f '{{.State.Health.Status}}' "$container")
  [[ $status == healthy ]] && break
  [[ $(docker inspect -f '{{.State.Running}}' "$container") == true ]] || { docker logs "$container" | tail -20 >&2; exit 1; }
  sleep 2
done
[[ $status == healthy ]] || { echo "docker-smoke: HEALTHCHECK says $status" >&2; docker logs "$container" | tail -20 >&2; exit 1; }
echo "docker-smoke: healthy on port $port"

docker stop -t 30 "$container" >/dev/null
code=$(docker inspect -f '{{.State.ExitCode}}' "$container")
[[ $code == 0 ]] || { echo "docker-smoke: exit status $code after docker stop" >&2; docker logs "$container" | tail -20 >&2; exit 1; }
echo "docker-smoke: stopped by SIGTERM with status 0"
