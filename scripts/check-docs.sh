#!/usr/bin/env bash
# make check: every config key is documented in README.md and every route
# of api/routes.c appears in openapi.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
rc=0
for key in $(grep -oE '\{ ?"[a-z_]+", CFG_' server/config.c | cut -d'"' -f2); do
  upper=$(tr '[:lower:]' '[:upper:]' <<<"$key")
  grep -q "\`$upper\`" README.md || { echo "README.md lacks config key $upper"; rc=1; }
done
while read -r method path; do
  oapath=$(sed 's/{}/{[a-z_]*}/g' <<<"$path")
  grep -qE "^  $oapath:" openapi.yaml || { echo "openapi.yaml lacks $method $path"; rc=1; }
done < <(grep -oE '\{ ?"(GET|POST|PUT|DELETE|PATCH)", "[^"]+"' api/routes.c |
         sed -E 's/^\{ ?"([A-Z]+)", "([^"]+)"$/\1 \2/')
routes=$(grep -cE '\{ ?"(GET|POST|PUT|DELETE|PATCH)", "' api/routes.c)
[[ $routes -gt 0 ]] || { echo "found no routes in api/routes.c"; rc=1; }
[[ $rc -eq 0 ]] && echo "docs check passed ($routes routes)"
exit $rc
