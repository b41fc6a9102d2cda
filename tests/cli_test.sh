#!/usr/bin/env bash
# The CLI's contract: output formats, exit codes (0 ok, 1 runtime error, 2 usage), one-line errors.
set -u
celtrace=$1
generator=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
check() {  # check NAME EXPECTED_EXIT COMMAND...
  local name=$1 expected=$2
  shift 2
  "$@" >"$work/out" 2>"$work/err"
  local code=$?
  if [ "$code" != "$expected" ]; then
    echo "FAIL $name: exit $code, expected $expected; stderr: $(cat "$work/err")"
    failures=$((failures + 1))
  elif [ "$expected" = 1 ] && [ "$(wc -l <"$work/err")" != 1 ]; then
    echo "FAIL $name: error is not one line: $(cat "$work/err")"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

"$generator" --series 4 --episode 1 --seconds 10 --start 12 --duration 3 --out "$work/clip.mp4" || exit 1
check "hash vpdq" 0 "$celtrace" hash "$work/clip.mp4"
lines=$(wc -l <"$work/out")
[ "$lines" = 6 ] || { echo "FAIL vpdq: $lines lines for 3 s at 2 fps"; failures=$((failures + 1)); }
grep -qE '^[0-9]+,[0-9]+,[0-9a-f]{64},[0-9]+\.[0-9]{3}$' "$work/out" || { echo "FAIL vpdq line format"; failures=$((failures + 1)); }
check "hash json" 0 "$celtrace" hash --format json --fps 1 "$work/clip.mp4"
grep -q '"model": "ctd1-' "$work/out" || { echo "FAIL json: no model id"; failures=$((failures + 1)); }
check "hash --save" 0 "$celtrace" hash --save "$work/clip.ctfp" "$work/clip.mp4"
[ -s "$work/clip.ctfp" ] || { echo "FAIL --save wrote nothing"; failures=$((failures + 1)); }
check "missing file" 1 "$celtrace" hash "$work/missing.mp4"
: >"$work/empty.mp4"
check "empty file" 1 "$celtrace" hash "$work/empty.mp4"
head -c 100000 /dev/urandom >"$work/noise.mp4"
check "random bytes" 1 "$celtrace" hash "$work/noise.mp4"
check "unknown option" 2 "$celtrace" hash --frobnicate "$work/clip.mp4"
check "bad format" 2 "$celtrace" hash --format xml "$work/clip.mp4"
check "no command" 2 "$celtrace"
check "help" 0 "$celtrace" hash --help
grep -q "vPDQ" "$work/out" || { echo "FAIL help does not explain the output"; failures=$((failures + 1)); }
check "unknown model" 2 "$celtrace" hash --model nope "$work/clip.mp4"
check "model info" 0 "$celtrace" model info

# bench: a one-episode library, a clip of it and an unrelated clip, a peer's predictions.
mkdir -p "$work/refs" "$work/queries"
"$generator" --series 4 --episode 1 --seconds 10 --out "$work/refs/Four.S01E01.mp4" || exit 1
"$celtrace" index add "$work/lib" "$work/refs" >/dev/null 2>&1 || { echo "FAIL index add"; failures=$((failures + 1)); }
cp "$work/clip.mp4" "$work/queries/clip.mp4"
check "index list --json" 0 "$celtrace" index list --json "$work/lib"
grep -q '"references":\[{.*"name":"Four.S01E01"' "$work/out" || { echo "FAIL index list --json: $(cat "$work/out")"; failures=$((failures + 1)); }
check "index info --json" 0 "$celtrace" index info --json "$work/lib"
grep -q '"references":1[,}]' "$work/out" || { echo "FAIL index info --json: $(cat "$work/out")"; failures=$((failures + 1)); }
"$generator" --series 11 --episode 1 --seconds 10 --start 12 --duration 3 --out "$work/queries/other.mp4" || exit 1
cat >"$work/truth.json" <<'JSON'
{"queries": [{"file": "clip.mp4", "class": "cut", "negative": false,
              "truth": [{"reference": "Four.S01E01", "reference_start": 12, "reference_end": 15}]},
             {"file": "other.mp4", "class": "negative", "negative": true}]}
JSON
cat >"$work/peer.json" <<'JSON'
{"system": "Peer", "queries": [{"file": "clip.mp4", "seconds": 2.0, "predictions": []},
  {"file": "other.mp4", "seconds": 2.0, "predictions": [{"reference": "Four.S01E01", "score": 0.4}]}]}
JSON
check "bench" 0 "$celtrace" bench "$work/lib" --queries "$work/queries" --truth "$work/truth.json" \
  --peer "$work/peer.json" --plot "$work/pr.svg" --gate cut
grep -q '^| cut | 1 | 1.000 |' "$work/out" || { echo "FAIL bench: clip not found: $(cat "$work/out")"; failures=$((failures + 1)); }
# Peer columns: top-1 celtrace / peer, negatives matched celtrace / peer.
grep -q '^| \*\*all\*\* .*| 1.000 / 0.000 |.*| 0 / 1 |' "$work/out" || { echo "FAIL bench peer columns: $(cat "$work/out")"; failures=$((failures + 1)); }
grep -q '<polyline' "$work/pr.svg" || { echo "FAIL bench plot"; failures=$((failures + 1)); }
check "bench gate fails" 1 "$celtrace" bench "$work/lib" --queries "$work/queries" --truth "$work/truth.json" \
  --gate cut --gate-top1 1.01
# The clip confirmed as a reference its truth lacks fails the gate whatever the top-1 asked.
sed 's/"reference": "Four.S01E01"/"reference": "Five.S01E01"/' "$work/truth.json" >"$work/wrong.json"
check "bench gate fails on a confirmed wrong" 1 "$celtrace" bench "$work/lib" --queries "$work/queries" \
  --truth "$work/wrong.json" --gate cut --gate-top1 0
grep -q "1 positives confirmed as a reference" "$work/err" || { echo "FAIL gate on confirmed wrong: $(cat "$work/err")"; failures=$((failures + 1)); }
check "bench unknown gate class" 2 "$celtrace" bench "$work/lib" --queries "$work/queries" --truth "$work/truth.json" --gate nope
check "bench bad truth" 2 "$celtrace" bench "$work/lib" --queries "$work/queries" --truth "$work/peer.json"
check "bench top below 1" 2 "$celtrace" bench "$work/lib" --queries "$work/queries" --truth "$work/truth.json" --top -3

# Hostile values and inputs end cleanly (issue: hardening).
for value in nan inf -1 1e20; do
  check "hash --fps $value" 2 timeout 60 "$celtrace" hash --fps "$value" "$work/clip.mp4"
done
grep -q "not in \[0, 1000\]" "$work/err" || { echo "FAIL range message: $(cat "$work/err")"; failures=$((failures + 1)); }
check "lookup --sequence-fps nan" 2 "$celtrace" lookup "$work/lib" "$work/clip.mp4" --sequence-fps nan
check "lookup --max-duration nan" 2 "$celtrace" lookup "$work/lib" "$work/clip.mp4" --max-duration nan
check "index add --fps nan" 2 "$celtrace" index add "$work/lib2" "$work/refs" --fps nan
check "hash --fps 1000 ends" 0 timeout 60 "$celtrace" hash --fps 1000 "$work/clip.mp4"
check "index add a device" 1 timeout 20 "$celtrace" index add "$work/lib2" /dev/zero
mkfifo "$work/fifo.mp4"
check "index add a FIFO" 1 timeout 20 "$celtrace" index add "$work/lib2" "$work/fifo.mp4"
[ ! -e "$work/lib2" ] || { echo "FAIL a refused index add left a library directory"; failures=$((failures + 1)); }
mkdir -p "$work/linked"
ln -s "$work/refs/Four.S01E01.mp4" "$work/linked/link.mp4"
check "index add does not follow links" 2 "$celtrace" index add "$work/lib2" "$work/linked"
check "index remove unknown" 1 "$celtrace" index remove "$work/lib" nope
check "lookup --json, not a library" 1 "$celtrace" lookup "$work/nolib" "$work/clip.mp4" --json
grep -q '"error":' "$work/out" || { echo "FAIL lookup --json printed no error object"; failures=$((failures + 1)); }

check "lookup --explain" 0 "$celtrace" lookup "$work/lib" "$work/clip.mp4" --explain
grep -q '^      why: ' "$work/out" && grep -q '^      frame pair: query ' "$work/out" ||
  { echo "FAIL lookup --explain: $(cat "$work/out")"; failures=$((failures + 1)); }

# --evidence: the checked frame pair as a colour PNG (RGB, query and reference side by side).
check "lookup --evidence" 0 "$celtrace" lookup "$work/lib" "$work/clip.mp4" --evidence "$work/evidence" --json
picture="$work/evidence/clip-1-Four.S01E01.png"
grep -q "\"picture\":\"$picture\"" "$work/out" &&
  [ "$(ffprobe -v error -show_entries stream=codec_name,pix_fmt -of csv=p=0 "$picture")" = png,rgb24 ] ||
  { echo "FAIL lookup --evidence: $(cat "$work/out")"; failures=$((failures + 1)); }
check "lookup --evidence, table" 0 "$celtrace" lookup "$work/lib" "$work/clip.mp4" --evidence "$work/evidence"
grep -q "^      evidence: $picture\$" "$work/out" || { echo "FAIL lookup --evidence table: $(cat "$work/out")"; failures=$((failures + 1)); }

# A saved fingerprint is a query without the media: timing evidence only, at most possible.
"$celtrace" hash --fps 6 --save "$work/clip6.ctfp" "$work/clip.mp4" >/dev/null
check "lookup a saved fingerprint" 0 "$celtrace" lookup "$work/lib" "$work/clip6.ctfp" --json
grep -q '"reference":"Four.S01E01".*"verdict":"possible"' "$work/out" && grep -q '"warnings":\["a saved fingerprint' "$work/out" ||
  { echo "FAIL lookup .ctfp: $(cat "$work/out")"; failures=$((failures + 1)); }
# vPDQ lines (Meta's format) are a query too, matched through the library's whole-frame PDQ.
"$celtrace" hash --fps 4 "$work/clip.mp4" >"$work/clip.vpdq"
check "lookup a vPDQ file" 0 "$celtrace" lookup "$work/lib" "$work/clip.vpdq" --json
grep -q '"reference":"Four.S01E01".*"verdict":"possible"' "$work/out" && grep -q '"warnings":\["vPDQ hashes' "$work/out" ||
  { echo "FAIL lookup .vpdq: $(cat "$work/out")"; failures=$((failures + 1)); }
echo "0,100,not-a-hash,0.0" >"$work/bad.vpdq"
check "lookup a damaged vPDQ file" 1 "$celtrace" lookup "$work/lib" "$work/bad.vpdq"
grep -q 'line 1' "$work/err" || { echo "FAIL damaged vPDQ: $(cat "$work/err")"; failures=$((failures + 1)); }
head -c 200 "$work/clip6.ctfp" >"$work/cut.ctfp"
check "lookup a truncated fingerprint" 1 "$celtrace" lookup "$work/lib" "$work/cut.ctfp"

# Long names are printed whole in the human tables (they were cut at 24 and 32 characters).
long="A.Very.Long.Production.Name.With.Many.Words.S01E01"
"$celtrace" index add "$work/lib3" "$work/refs/Four.S01E01.mp4" --name "$long" >/dev/null 2>&1
# A second add extends the indexes; the first builds them, and says so.
check "index add, a second reference" 0 "$celtrace" index add "$work/lib3" "$work/clip.mp4"
grep -q "^indexes extended, nothing trained again$" "$work/out" || { echo "FAIL second add: $(cat "$work/out")"; failures=$((failures + 1)); }
check "index list, a long name" 0 "$celtrace" index list "$work/lib3"
grep -q "^$long " "$work/out" || { echo "FAIL index list cut a name: $(cat "$work/out")"; failures=$((failures + 1)); }
check "lookup, a long name" 0 "$celtrace" lookup "$work/lib3" "$work/clip.mp4"
grep -q "^  $long " "$work/out" || { echo "FAIL lookup cut a name: $(cat "$work/out")"; failures=$((failures + 1)); }

# Several files per lookup: one table each, or JSON Lines; a failing file does not stop the rest.
check "lookup several files" 0 "$celtrace" lookup "$work/lib" "$work/clip.mp4" "$work/queries/other.mp4"
[ "$(grep -c '^  REFERENCE\|no match' "$work/out")" = 2 ] || { echo "FAIL lookup several: $(cat "$work/out")"; failures=$((failures + 1)); }
check "lookup several, one missing" 1 "$celtrace" lookup "$work/lib" "$work/clip.mp4" "$work/missing.mp4" \
  "$work/queries/other.mp4" --json
[ "$(wc -l <"$work/out")" = 3 ] && grep -q '"error":' "$work/out" || { echo "FAIL lookup JSON Lines: $(cat "$work/out")"; failures=$((failures + 1)); }

# A file name with a terminal escape is printed escaped, in the table and in errors.
evil="$work/clip$(printf '\033')[2J.mp4"
cp "$work/clip.mp4" "$evil"
check "lookup an escape in a name" 0 "$celtrace" lookup "$work/lib" "$evil"
grep -q "$(printf '\033')" "$work/out" && { echo "FAIL raw escape in lookup output"; failures=$((failures + 1)); }
grep -q 'clip\\x1b\[2J.mp4' "$work/out" || { echo "FAIL escape not shown as \\x1b: $(cat "$work/out")"; failures=$((failures + 1)); }
check "an escape in an error" 1 "$celtrace" hash "$work/missing$(printf '\033').mp4"
grep -q "$(printf '\033')" "$work/err" && { echo "FAIL raw escape in an error"; failures=$((failures + 1)); }

# match: exit 1 when an input is missing (nothing written) or an item ends in error, 0 when all
# are traced; its own output inside the scanned tree is not scanned.
check "match a missing input" 1 "$celtrace" match "$work/lib" "$work/nonexistent" --out "$work/m1"
[ ! -e "$work/m1" ] || { echo "FAIL match left an output directory for a missing input"; failures=$((failures + 1)); }
mkdir -p "$work/damaged"
cp "$work/noise.mp4" "$work/damaged/noise.mp4"
check "match with an error" 1 "$celtrace" match "$work/lib" "$work/damaged" --out "$work/m2" --jobs 1
check "match --sequence-fps nan" 2 "$celtrace" match "$work/lib" "$work/queries" --out "$work/m4" --sequence-fps nan
check "match all traced" 0 "$celtrace" match "$work/lib" "$work/queries" --out "$work/queries/case" --jobs 1 \
  --top 2 --sequence-fps 10 --fps 4
grep -q "jobs.sqlite" "$work/queries/case/results.jsonl" && { echo "FAIL match scanned its own output"; failures=$((failures + 1)); }

# queue: usage errors, and a server that cannot be reached is a one-line runtime error that
# hides the password (tests/queue_test.cpp runs the queue against a real server).
check "queue without a command" 2 "$celtrace" queue
check "queue work without a library" 2 "$celtrace" queue work "postgresql:///x"
check "queue work --lease too short" 2 "$celtrace" queue work "postgresql:///x" "$work/lib" --lease 1
check "queue work bad --path-map" 2 "$celtrace" queue work "postgresql:///x" "$work/lib" --path-map /mnt
check "queue status unreachable" 1 "$celtrace" queue status "postgresql://ana:Secret-9@/x?host=$work/none"
grep -q "Secret-9" "$work/err" && { echo "FAIL queue error shows the password"; failures=$((failures + 1)); }
grep -q "ana:\*\*\*@" "$work/err" || { echo "FAIL queue error does not name the server: $(cat "$work/err")"; failures=$((failures + 1)); }

echo "$failures failures"
[ "$failures" = 0 ]
