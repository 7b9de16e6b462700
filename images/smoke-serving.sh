#!/usr/bin/env bash
# Runs the serving image on a model folder and calls its prediction API: a good request must get a
# probability tagged with the model version, a malformed one a 4xx naming the field. Stops what it started.
# Usage: images/smoke-serving.sh MODEL_DIR VERSION [IMAGE]   (VERSION: the registry's name, e.g. v1)
#   IMAGE default: the serving image of this version (`mlops images list`); HTTP_PORT default 19000.
# The container shares the host's network namespace and binds 127.0.0.1 only (the image's entry point
# binds 0.0.0.0, which is right inside a pod: the launcher here rebinds it).
set -euo pipefail
cd "$(dirname "$0")/.."
model_dir=$(cd "${1:?usage: $0 MODEL_DIR VERSION [IMAGE]}" && pwd)
version=${2:?usage: $0 MODEL_DIR VERSION [IMAGE]}
image=${3:-$(${MLOPS:-.venv/bin/mlops} images list | awk '$1 == "serving" {print $2}')}
port=${HTTP_PORT:-19000}
docker=${DOCKER:-docker}
url="http://127.0.0.1:$port"
name="flights-mlops-smoke-$$"

cleanup() { "$docker" rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() { echo "error: $1" >&2; "$docker" logs --tail 30 "$name" >&2 2>&1 || true; exit 1; }

start=$SECONDS
"$docker" run -d --name "$name" --network host --read-only --tmpfs /tmp \
  -v "$model_dir:/mnt/models:ro" \
  --entrypoint python "$image" -m components.serving.launcher --bind-host 127.0.0.1 -- \
  components.serving.model.FlightDelayModel --service-type MODEL \
  --http-port "$port" --grpc-port "$((port + 1))" --metrics-port "$((port + 2))" \
  --parameters "[{\"name\": \"model_uri\", \"value\": \"/mnt/models\", \"type\": \"STRING\"},
                 {\"name\": \"model_version\", \"value\": \"$version\", \"type\": \"STRING\"}]" >/dev/null

for _ in $(seq 1 120); do
  curl -fsS "$url/health/status" >/dev/null 2>&1 && break
  [ "$("$docker" inspect -f '{{.State.Running}}' "$name")" = true ] || fail "the serving container exited"
  sleep 0.5
done
curl -fsS "$url/health/status" >/dev/null || fail "the serving container did not become healthy in 60 s"
echo "serving image healthy in $((SECONDS - start))s ($image, uid $("$docker" exec "$name" id -u))"

good='{"jsonData": {"day": 14, "hour": 17, "minute": 30, "sched_dep_time": 1730, "sched_arr_time": 2015,
  "carrier": "UA", "origin": "EWR", "dest": "ORD", "distance": 719, "temp": 81.0, "dewp": 65.0,
  "humid": 58.0, "wind_dir": 200, "wind_speed": 12.7, "wind_gust": null, "precip": 0, "pressure": 1012.0,
  "visib": 10, "plane_year": 2004, "plane_seats": 149, "plane_engines": 2, "plane_engine": "Turbo-fan",
  "carrier_arrivals_7d": 1120, "carrier_delay_rate_7d": 0.21, "route_arrivals_7d": 85,
  "route_delay_rate_7d": 0.18}}'
answer=$(curl -sS -X POST "$url/api/v1.0/predictions" -H 'Content-Type: application/json' -d "$good")
echo "prediction: $answer"
python3 - "$answer" "$version" <<'PY' || fail "the prediction answer breaks the API contract"
import json, sys
answer = json.loads(sys.argv[1])
probability = answer["data"]["ndarray"][0][0]
assert answer["data"]["names"] == ["delay_probability"], answer["data"]["names"]
assert 0.0 <= probability <= 1.0, probability
assert answer["meta"]["tags"]["model_version"] == sys.argv[2], answer["meta"]
PY

status=$(curl -sS -o /tmp/smoke-bad-$$.json -w '%{http_code}' -X POST "$url/api/v1.0/predictions" \
  -H 'Content-Type: application/json' -d '{"jsonData": {"day": 14, "carrier": "ZZ"}}')
echo "malformed request: HTTP $status $(cat /tmp/smoke-bad-$$.json)"
rm -f /tmp/smoke-bad-$$.json
[ "${status:0:1}" = 4 ] || fail "a malformed request got HTTP $status instead of a 4xx"
echo "serving image smoke test passed"
