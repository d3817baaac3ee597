#!/usr/bin/env bash
# Checks the validator on testdata/valid.json and on broken copies of it
# (made with jq): each broken one must fail naming the field; the last group
# documents mistakes the schema does NOT catch (they pass).
#   bash testbin/grafana-schema/selftest.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(bash "$here/build.sh")
valid=$here/testdata/valid.json
pass=0 fail=0

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

# name, jq edit, expected output line ("" = must pass)
case_() {
  local name=$1 edit=$2 want=$3 out rc=0
  out=$(jq "$edit" "$valid" | "$bin" -q -) || rc=$?
  if [[ -z $want ]]; then
    [[ $rc == 0 ]] && ok || ko "$name: expected to pass, got: $out"
  elif [[ $rc == 1 && $out == *"-: $want"* ]]; then
    ok
  else
    ko "$name: expected '$want' (exit 1), got exit $rc: $out"
  fi
}

out=$("$bin" "$valid") && [[ $out == "$valid: ok" ]] && ok || ko "valid.json: $out"

# The shape the operator generates today (operator/src/monitoring/dashboards):
# absent required fields without a schema default, nothing else.
like=$here/testdata/storeops-like.json
out=$("$bin" -q "$like") && ko "storeops-like.json passed" ||
  { [[ $out == *"$like: links[0].icon: required field is missing from input"* ]] && ok || ko "storeops-like.json: $out"; }
"$bin" -q -allow-missing "$like" && ok || ko "storeops-like.json -allow-missing failed"

case_ 'gridPos.w > 24' '.panels[2].gridPos.w = 30' 'panels[2].gridPos.w: must be <= 24'
case_ 'gridPos.h = 0' '.panels[2].gridPos.h = 0' 'panels[2].gridPos.h: must be > 0'
case_ 'gridPos.w string' '.panels[2].gridPos.w = "6"' 'panels[2].gridPos.w: wrong type: got string, want number'
case_ 'panel type number' '.panels[2].type = 7' 'panels[2].type: wrong type: got number, want string'
case_ 'panel type missing' '.panels[2] |= del(.type)' "panels[2]: discriminator field 'type' not found in payload"
case_ 'templating.list object' '.templating.list = {}' 'templating.list: wrong type: got object, want array'
case_ 'panels object' '.panels = {}' 'panels: wrong type: got object, want array'
case_ 'refresh number' '.refresh = 30' 'refresh: wrong type: got number, want string'
case_ 'top-level typo' '.tittle = "x"' 'tittle: unknown field (not in the schema)'
case_ 'panel field typo' '.panels[2].gridpos = .panels[2].gridPos' 'panels[2].gridpos: unknown field (not in the schema)'
case_ 'fieldConfig typo' '.panels[2].fieldConfig.defaults.unitt = "s"' 'panels[2].fieldConfig.defaults.unitt: unknown field (not in the schema)'
case_ 'unit number' '.panels[2].fieldConfig.defaults.unit = 5' 'panels[2].fieldConfig.defaults.unit: wrong type: got number, want string'
case_ 'timeseries options typo' '.panels[2].options.legends = {}' 'panels[2].options.legends: unknown field (not in the schema)'
case_ 'legend enum' '.panels[2].options.legend.displayMode = "bogus"' 'panels[2].options.legend.displayMode: "bogus" is not one of "list", "table", "hidden"'
case_ 'stat enum' '.panels[1].options.colorMode = "values"' 'panels[1].options.colorMode: "values" is not one of'
case_ 'logs enum' '.panels[8].options.sortOrder = "descending"' 'panels[8].options.sortOrder: "descending" is not one of "Descending", "Ascending"'
case_ 'prometheus target typo' '.panels[2].targets[0].legendformat = "x"' 'panels[2].targets[0].legendformat: unknown field (not in the schema)'
case_ 'prometheus format enum' '.panels[2].targets[0].format = "csv"' 'panels[2].targets[0].format: "csv" is not one of'
case_ 'loki target typo' '.panels[8].targets[0].exprr = "x"' 'panels[8].targets[0].exprr: unknown field (not in the schema)'
case_ 'tempo target typo' '.panels[9].targets[0].queryTyp = "x"' 'panels[9].targets[0].queryTyp: unknown field (not in the schema)'
case_ 'datasource string' '.panels[2].datasource = "prometheus"' 'panels[2].datasource: wrong type: got string, want object'
case_ 'graphTooltip enum' '.graphTooltip = 7' 'graphTooltip: 7 is not one of 0, 1, 2'
case_ 'variable type enum' '.templating.list[0].type = "dropdown"' 'templating.list[0].type: "dropdown" is not one of'
case_ 'link type enum' '.links[0].type = "dashboard"' 'links[0].type: "dashboard" is not one of "link", "dashboards"'
case_ 'link icon missing' '.links[0] |= del(.icon)' 'links[0].icon: required field is missing from input'
case_ 'fiscalYearStartMonth' '.fiscalYearStartMonth = 12' 'fiscalYearStartMonth: must be < 12'

# Not caught: the schema has no rule for these (they pass).
case_ 'gridPos missing (optional)' '.panels[2] |= del(.gridPos)' ''
case_ 'x + w > 24 (no cross-field rule)' '.panels[2].gridPos.x = 20' ''
case_ 'refresh format (any string)' '.refresh = "every 30 seconds"' ''
case_ 'unknown panel type' '.panels[2].type = "timeseriez"' ''
case_ 'duplicate panel ids' '.panels[3].id = .panels[2].id' ''
case_ 'undefined variable' '.panels[2].datasource.uid = "${prometeus}"' ''
case_ 'unit id (any string)' '.panels[2].fieldConfig.defaults.unit = "secs"' ''
case_ 'tempo queryType (any string)' '.panels[9].targets[0].queryType = "search"' ''
case_ 'traces options (no schema)' '.panels[9].options.bogus = 1' ''

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
