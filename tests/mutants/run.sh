#!/bin/bash
# Breaks the code on purpose, one defect at a time, and asserts that the check meant to see it
# goes red (make mutants; root for the live and bpf ones). Each mutant is a perl substitution
# on one file of a scratch worktree of HEAD, built incrementally, then reverted. A mutant whose
# pattern no longer matches fails too: the code moved, the mutant must follow it.
#   tests/mutants/run.sh [NAME...]     (all mutants without names)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAP_SUITE=mutants
. "$ROOT/tests/tap.sh"
WT=$(mktemp -d /tmp/httpeek-mutants.XXXXXX)
trap 'git -C "$ROOT" worktree remove --force "$WT" >/dev/null 2>&1; rm -rf "$WT"' EXIT
git -C "$ROOT" worktree add -q --detach "$WT" HEAD || exit 1
[ -e "$ROOT/../shared" ] && ln -s "$ROOT/../shared" "$WT/../shared" 2>/dev/null
WANT=("$@")
FAILED=0

wanted() {
	[ ${#WANT[@]} = 0 ] && return 0
	local w
	for w in "${WANT[@]}"; do [ "$w" = "$1" ] && return 0; done
	return 1
}

# mutant NAME FILE PERL-SUBSTITUTION TARGET CHECK...: the weakness it stands for is in NAME.
mutant() {
	local name=$1 file=$2 subst=$3 target=$4
	shift 4
	wanted "$name" || return 0
	(cd "$WT" && perl -0pi -e "$subst" "$file")
	if git -C "$WT" diff --quiet -- "$file"; then
		tap_fail "$name" "the pattern no longer matches $file"
		FAILED=1
		return
	fi
	if ! (cd "$WT" && make -s $target >"$WT/build.log" 2>&1); then
		tap_fail "$name" "does not build: $(tail -c 300 "$WT/build.log")"
		FAILED=1
	elif (cd "$WT" && "$@" >"$WT/check.log" 2>&1); then
		tap_fail "$name" "$* stayed green with the defect"
		FAILED=1
	else
		tap_ok "$name"
		tap_note "$name: $(grep -m1 '^not ok' "$WT/check.log" | cut -c1-200)"
	fi
	git -C "$WT" checkout -q -- "$file"
}

(cd "$WT" && make -s httpeek build/httpeek-asan >/dev/null 2>&1) || { tap_fail build "HEAD does not build"; exit 1; }

# Golden: every exchange's latency is tshark's (net_flow_http was barely checked).
mutant golden-latency src/session/session.c \
	's/resp->ts_ns - req->ts_ns : 0/resp->ts_ns - req->ts_ns + 1000 : 0/' httpeek \
	python3 tests/offline/golden/check_golden.py
# Golden: header values are compared, not only their count.
mutant golden-header-value src/output/event_http.c \
	's/json_str\(b, s->p, s->len\);/json_str(b, s->p, s->len ? s->len - 1 : 0);/' httpeek \
	python3 tests/offline/golden/check_golden.py
# Event cache: a parse's id is never given again (a slot's reuse would hit the old rendering).
mutant event-cache-parse-id src/http/parse_cache.c \
	's/c->id = __atomic_add_fetch\(&parse_ids, 1, __ATOMIC_RELAXED\);/c->id = 1 + pc->next % PARSE_CACHE;/' \
	httpeek python3 tests/offline/golden/check_golden.py
# Event cache: what is set after the parse (a tunnel's names) is part of the key.
mutant event-cache-tunnel src/output/event_http.c \
	's/\t\tby_parse.via = t->via.len;\n\t\tby_parse.proxy = t->proxy.len;\n\t\tby_parse.target = t->target.len;\n//; s/if \(t->via.len \|\| t->proxy.len \|\| t->target.len\)/if (0)/' \
	httpeek python3 tests/offline/golden/check_golden.py
# Hostile: a crash on a hostile input is a failure, whatever the exit status was meant to be.
mutant hostile-crash src/http/http.c \
	's/else\n\t\tm->truncated = true;\n\}/else\n\t\tabort();\n}/' httpeek \
	python3 tests/offline/hostile/check_hostile.py
# SIGTERM and a closed pipe: the summary must be written.
mutant stop-summary src/main.c \
	's/\tprint_summary\(pipe, writer, live, &opt, exp\);\n/\tif (!stop_requested)\n\t\tprint_summary(pipe, writer, live, &opt, exp);\n/' httpeek \
	python3 tests/offline/hostile/check_stop.py
# -w: the exported packets' time stamps equal the input's.
mutant export-timestamps src/output/export.c \
	's/put_u32\(e, \(uint32_t\)p->ts_ns\);/put_u32(e, (uint32_t)p->ts_ns + 1000);/' httpeek \
	python3 tests/offline/hostile/check_outputs.py
# Metrics: a quote in a route must be escaped in the label.
mutant metrics-escape src/metrics/metrics.c \
	"s/c != '\\\\\\\\' && c != '\"'\\)/c != '\\\\\\\\')/" httpeek \
	python3 tests/offline/metrics/check_metrics.py
# HTTP/2: each message's stream id is tshark's (check_h2.py, the http2 dissector).
mutant h2-stream-id src/output/event_http.c \
	's/json_i64\(b, msg->stream_id\);/json_i64(b, msg->stream_id + 2);/' httpeek \
	python3 tests/offline/golden/check_h2.py
# TLS: the internal reader is the target both readers share and no writer has (tls-cores.so's
# error function, which all four call, is not taken).
mutant tls-core-exclusion src/live/tls/ssl_core.c \
	's/if \(!has\(&a\[1\], to\) \|\| has\(&b\[0\], to\) \|\| has\(&b\[1\], to\)\)/if (!has(\&a[1], to))/' \
	build/tests/test_live_tls_core build/tests/test_live_tls_core
# Go: the entry probe moves only past a check of the goroutine's stack guard (r14 + 16).
mutant go-entry-guard src/live/tls/go_rets.c \
	's/\(base != X86_REG_R14 \|\| x->operands\[1\]\.mem\.disp == 16\)/1/' \
	build/tests/test_live_tls_go build/tests/test_live_tls_go
# Owners: an id stands for one content only, whatever the hashes say (events would name
# another process).
mutant owner-content-id src/live/owner_table.c \
	's/uint64_t h = content_hash\(o\);/uint64_t h = 0;/; s/ && owner_same_content\(had, o\)\)/)/' \
	build/tests/test_live_owner build/tests/test_live_owner
# Owners: a hint names a slot, not the owner: its cookie is checked (events would name another
# process).
mutant owner-hint-cookie src/live/owner_table.c \
	's/if \(i < t->max && t->slots\[i\].used && t->slots\[i\].o.sock_cookie == cookie\)/if (i < t->max \&\& t->slots[i].used)/' \
	build/tests/test_live_owner build/tests/test_live_owner
# Whole heads read where they lie: never a head that parsing rewrote (folded lines).
mutant parse-known-rewritten src/http/parse_cache.c \
	's/c->field_lines < 0 \|\| c->rewritten \|\|/c->field_lines < 0 ||/' \
	build/tests/test_http_parse_cache build/tests/test_http_parse_cache
# Whole heads read where they lie: only whole heads (a start line alone is not one).
mutant parse-known-whole src/http/parse_cache.c \
	's/if \(!c->used \|\| c->field_lines < 0 \|\|/if (!c->used ||/' \
	build/tests/test_http_parse_cache build/tests/test_http_parse_cache
# Whole heads read where they lie: what follows is framed as after any other head.
mutant whole-head-frame src/http/stream.c \
	's/\tif \(s->state != ST_TUNNEL\)\n\t\tframe\(s, &m, next, false\);\n\treturn len;/\treturn len;/' \
	build/tests/test_http_stream build/tests/test_http_stream
if [ "$(id -u)" = 0 ]; then
	# TLS live: the reader's and the writer's internal functions swapped.
	mutant tls-core-swap src/live/tls/ssl_core.c \
		's/shared\(&t\[READ\], &t\[WRITE\]\)/shared(\&t[WRITE], \&t[READ])/' httpeek \
		sh tests/live/fresh.sh python3 tests/live/tls/check_tls.py
	# HTTP/2 live: the kernel framer skips HEADERS payloads as if DATA (the differential test's
	# h2 case misses their messages).
	mutant h2-kernel-headers bpf/frame/h2.h \
		's/\(type != F2_TYPE_DATA\) \{/(type != F2_TYPE_DATA \&\& type != F2_TYPE_HEADERS) {/' \
		httpeek env DIFF_SEEDS=1 DIFF_SCALE=100 DIFF_EXTREMES=0 bash tests/live/diff/run.sh
	# The framer's tests hold the real programs: a change in the kernel glue alone is seen.
	mutant bpf-glue-fin bpf/httpeek.bpf.c \
		's/if \(\(p->flags & \(TH_FIN \| TH_RST\)\) &&/if ((p->flags & TH_RST) \&\&/' httpeek \
		make -s test-bpf
	# Live: a byte lost from each kernel copy differs from the recording of the same traffic.
	mutant live-copy-byte src/live/live.c \
		's/\.caplen = r->cap_len,/.caplen = r->cap_len > 60 ? r->cap_len - 1 : r->cap_len,/' \
		httpeek bash tests/live/run.sh
	# TLS: an abort at shutdown is a failure of the TLS test, not a pass.
	mutant tls-exit src/live/tls/tls.c \
		's/\tlive_tls_detach\(t\);\n\ttls_bpf__destroy/\tabort();\n\ttls_bpf__destroy/' httpeek \
		sh tests/live/fresh.sh python3 tests/live/tls/check_tls.py
	# The README's commands: what each printed is checked, not only that it printed.
	mutant readme-table-status src/output/table.c \
		's/if \(m->status.len\)\n\t\tput_safe\(b, &m->status\);\n\telse\n\t\t//' httpeek \
		sh tests/live/fresh.sh python3 tests/live/check_readme.py
else
	tap_skip "bpf and live mutants" "not root"
fi
exit $FAILED
