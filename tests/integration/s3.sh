#!/usr/bin/env bash
# The model store (src/registry/objstore.h) end to end through
# objstore_tool. s3://: against s3rver behind a proxy that checks every
# request's SigV4 signature with botocore (s3lib.sh): uploads (one of
# several MB), a listing over several pages, downloads compared byte for
# byte, deletes, a wrong secret, a wrong payload hash, an object changed
# behind the store's back, an upload corrupted on the way, virtual-hosted
# addressing, and a server that is down or silent. file://: the same round
# trip in a folder given relative to the working directory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3lib.sh"
: "${OBJSTORE_TOOL:?OBJSTORE_TOOL must point to the objstore_tool binary}"
OT=$OBJSTORE_TOOL

s3_start "$T/s3" models || { fail "s3rver and the proxy start"; finish; }
pass "s3rver on port $S3_SERVER_PORT, the verifying proxy on port $S3_PROXY_PORT"
U="s3://$S3_BUCKET/some/prefix"
sha() { sha256sum "$1" | cut -d' ' -f1; }

# --- uploads ------------------------------------------------------------------
head -c $((6 * 1024 * 1024 + 123)) /dev/urandom >"$T/big.bin"
run "put a 6 MB object" 0 "$OT" "$U" put big.rsm "$T/big.bin"
has "$T/out" "$U/big.rsm $(sha "$T/big.bin") $((6 * 1024 * 1024 + 123))"
small=(model-2.rsm model-10.rsm CURRENT a_first z-last.txt model-1.rsm)
for k in "${small[@]}"; do
  printf 'the object named %s\n' "$k" >"$T/f-$k"
  run "put $k" 0 "$OT" "$U" put "$k" "$T/f-$k"
done
head=$(curl -sS -I "http://127.0.0.1:$S3_SERVER_PORT/$S3_BUCKET/some/prefix/big.rsm" | tr -d '\r')
meta=$(sed -n 's/^x-amz-meta-sha256: //Ip' <<<"$head")
[ "$meta" = "$(sha "$T/big.bin")" ] || fail "stored x-amz-meta-sha256 is '$meta'"
: >"$T/f-empty.rsm"
run "put an empty object" 0 "$OT" "$U" put empty.rsm "$T/f-empty.rsm"
# Not in the store: outside the prefix, below it, or not named by a key.
for path in some/prefixed/other some/prefix/nested/deeper top-level; do
  [ "$(s3_direct -X PUT --data-binary x "/$S3_BUCKET/$path")" = 200 ] || fail "direct PUT $path"
done

# --- listing, two keys a page --------------------------------------------------
printf '%s\n' big.rsm empty.rsm "${small[@]}" | LC_ALL=C sort >"$T/want"
run "list in pages of 2" 0 env RECSYS_S3_PAGE_SIZE=2 "$OT" "$U" list
cut -d' ' -f1 "$T/out" >"$T/keys"
diff "$T/want" "$T/keys" >/dev/null || { fail "listed keys differ:"; diff "$T/want" "$T/keys"; }
has "$T/out" "big.rsm $((6 * 1024 * 1024 + 123))"
has "$T/out" "CURRENT $(wc -c <"$T/f-CURRENT")"
has "$T/out" "empty.rsm 0"
page_re="^GET /$S3_BUCKET\?continuation-token=.*max-keys=2&prefix=some%2Fprefix%2F 200"
pages=$(s3_proxy_count "$page_re")
[ "$pages" -ge 3 ] || fail "expected at least 3 follow-up pages (8 keys, 2 a page), saw $pages"

# --- downloads ----------------------------------------------------------------
run "get the 6 MB object" 0 "$OT" "$U" get big.rsm "$T/big.out"
cmp -s "$T/big.bin" "$T/big.out" || fail "downloaded bytes differ"
[ "$(cat "$T/out")" = "$(sha "$T/big.bin")" ] || fail "get printed $(cat "$T/out"), not the SHA-256"
run "get a small object" 0 "$OT" "$U" get a_first "$T/small.out"
cmp -s "$T/f-a_first" "$T/small.out" || fail "small object differs"
run "get the empty object" 0 "$OT" "$U" get empty.rsm "$T/empty.out"
if [ ! -f "$T/empty.out" ] || [ -s "$T/empty.out" ]; then
  fail "the empty object did not come back empty"
fi
has "$T/out" "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
run "uri round trip" 0 "$OT" "$U" uri model-2.rsm
has "$T/out" "s3://models/some/prefix/model-2.rsm"

# --- deletes ------------------------------------------------------------------
run "delete" 0 "$OT" "$U" delete model-1.rsm
run "get of a deleted object is not found" 3 "$OT" "$U" get model-1.rsm "$T/gone"
has "$T/err" "s3://models/some/prefix/model-1.rsm: no such object (404 NoSuchKey)"
[ ! -e "$T/gone" ] || fail "a failed get left its file behind"
run "delete of a missing object" 0 "$OT" "$U" delete model-1.rsm
run "list after delete" 0 "$OT" "$U" list
if grep -q '^model-1.rsm ' "$T/out"; then fail "deleted key still listed"; fi

# --- signing: the proxy must reject what S3 would reject -----------------------
before=$(s3_proxy_count "^PUT .* 403 SignatureDoesNotMatch")
run "a wrong secret is refused" 1 env AWS_SECRET_ACCESS_KEY=not-the-secret \
  "$OT" "$U" put wrong.rsm "$T/f-CURRENT"
has "$T/err" "s3://models/some/prefix/wrong.rsm: PUT refused (403 SignatureDoesNotMatch: "
has "$T/err" "check AWS_SECRET_ACCESS_KEY"
after=$(s3_proxy_count "^PUT .* 403 SignatureDoesNotMatch")
[ "$after" -eq $((before + 1)) ] || fail "the proxy did not reject the badly signed PUT once"
run "a wrong secret stored nothing" 3 "$OT" "$U" get wrong.rsm "$T/x"
run "a wrong secret cannot list" 1 env AWS_SECRET_ACCESS_KEY=not-the-secret "$OT" "$U" list
has "$T/err" "s3://models/some/prefix: LIST refused (403 SignatureDoesNotMatch"
run "an unknown key id is refused" 1 env AWS_ACCESS_KEY_ID=NOBODY "$OT" "$U" list
has "$T/err" "403 InvalidAccessKeyId"
has "$T/err" "check AWS_ACCESS_KEY_ID"
run "a session token is signed too" 0 env AWS_SESSION_TOKEN=token-for-the-test "$OT" "$U" list
run "a wrong payload hash is refused" 1 "$OT" "$U" put bad.rsm "$T/f-CURRENT" \
  0000000000000000000000000000000000000000000000000000000000000000
has "$T/err" "PUT refused (400 XAmzContentSHA256Mismatch"
run "a refused payload stored nothing" 3 "$OT" "$U" get bad.rsm "$T/x"
run "no credentials" 1 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$OT" "$U" list
has "$T/err" "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
[ "$(s3_proxy_count .)" -gt 20 ] || fail "the proxy saw fewer requests than expected"
other=$(grep -E " 403 " "$S3_PROXY_LOG" | grep -cvE "SignatureDoesNotMatch|InvalidAccessKeyId")
[ "$other" -eq 0 ] || fail "the proxy refused $other other requests"

# --- checksums ------------------------------------------------------------------
orig=$(sha "$T/f-model-2.rsm")
printf 'changed behind the store\n' >"$T/tampered"
status=$(s3_direct -X PUT --data-binary @"$T/tampered" "/$S3_BUCKET/some/prefix/model-2.rsm")
[ "$status" = 200 ] || fail "tamper with model-2.rsm in s3rver"
run "get of a tampered object" 0 "$OT" "$U" get model-2.rsm "$T/t.out"
[ "$(cat "$T/out")" != "$orig" ] || fail "a tampered object gave the original SHA-256"
[ "$(cat "$T/out")" = "$(sha "$T/tampered")" ] ||
  fail "get printed a SHA-256 not of the bytes received"
s3_proxy_control flip-next-put
run "an upload corrupted on the way is detected" 4 "$OT" "$U" put flipped.rsm "$T/big.bin"
has "$T/err" "$U/flipped.rsm: the stored object does not match the upload: its ETag"
has "$T/err" "it was deleted"
run "the corrupted upload was deleted" 3 "$OT" "$U" get flipped.rsm "$T/x"

# --- virtual-hosted addressing: BUCKET.s3.localhost -------------------------------
vh=(env AWS_ENDPOINT_URL="http://s3.localhost:$S3_PROXY_PORT" RECSYS_S3_PATH_STYLE=false "$OT" "$U")
run "virtual-hosted put" 0 "${vh[@]}" put vhost.rsm "$T/f-CURRENT"
run "virtual-hosted get" 0 "${vh[@]}" get vhost.rsm "$T/v.out"
cmp -s "$T/f-CURRENT" "$T/v.out" || fail "virtual-hosted download differs"
run "virtual-hosted list" 0 env RECSYS_S3_PAGE_SIZE=3 "${vh[@]}" list
has "$T/out" "vhost.rsm"
[ "$(s3_proxy_count "^GET /some/prefix/vhost.rsm 200")" -eq 1 ] || fail "no virtual-hosted GET seen"
[ "$(s3_proxy_count "^GET /\?continuation-token=")" -ge 1 ] ||
  fail "no virtual-hosted listing page seen"

# --- a server that is down or silent -----------------------------------------------
s3_stop_server
n0=$(s3_proxy_count " 503 ServiceUnavailable")
run "5xx answers are retried" 1 "$OT" "$U" get big.rsm "$T/x"
has "$T/err" "GET failed (503 ServiceUnavailable: "
has "$T/err" "after 4 attempts"
[ "$(s3_proxy_count " 503 ServiceUnavailable")" -eq $((n0 + 4)) ] ||
  fail "expected 4 tries of the GET"
[ ! -e "$T/x" ] || fail "a failed get left its file behind"
s3_stop_proxy
t0=$(date +%s%N)
run "server down" 1 env RECSYS_S3_TIMEOUT=2 "$OT" "$U" list
has "$T/err" "s3://models/some/prefix: LIST failed: cannot reach http://127.0.0.1:$S3_PROXY_PORT ("
has "$T/err" "after 4 attempts"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 10000 ] || fail "server down took ${ms} ms"
# A server that accepts connections and never answers: each try times out.
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$T/silent.port" &
silent=$!
for _ in $(seq 50); do [ -s "$T/silent.port" ] && break; sleep 0.1; done
t0=$(date +%s%N)
run "silent server" 1 env RECSYS_S3_TIMEOUT=1 \
  AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$T/silent.port")" "$OT" "$U" delete big.rsm
has "$T/err" "DELETE failed: cannot reach"
has "$T/err" "timed out"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 12000 ] || fail "a silent server took ${ms} ms"
kill "$silent"; wait "$silent" 2>/dev/null

# --- file:// ----------------------------------------------------------------------
cd "$T" || exit 1
F=file://files/models
run "file put" 0 "$OT" "$F" put big.rsm "$T/big.bin"
has "$T/out" "file://$T/files/models/big.rsm $(sha "$T/big.bin")"
run "file put small" 0 "$OT" "$F" put CURRENT "$T/f-CURRENT"
run "file list" 0 "$OT" "$F" list
[ "$(cat "$T/out")" = "CURRENT $(wc -c <"$T/f-CURRENT")
big.rsm $((6 * 1024 * 1024 + 123))" ] || fail "file list: $(cat "$T/out")"
run "file get" 0 "$OT" "$F" get big.rsm "$T/big.file.out"
cmp -s "$T/big.bin" "$T/big.file.out" || fail "file:// download differs"
run "file delete" 0 "$OT" "$F" delete big.rsm
run "file get deleted" 3 "$OT" "$F" get big.rsm "$T/x"
run "file bad key" 1 "$OT" "$F" put ../escape "$T/f-CURRENT"
has "$T/err" "bad object key '../escape'"
cd - >/dev/null || exit 1
finish
