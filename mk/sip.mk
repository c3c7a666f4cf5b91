# SIP engine (package sip) and its test peers (lab/kamailio, lab/baresip,
# lab/sipp, lab/linphone).
.PHONY: test-sip bench-sip

test-sip: deps ## the SIP engine's tests against kamailio, baresip, linphonec and sipp
	$(GO) test -race -count=1 ./sip/ ./lab/kamailio/ ./lab/baresip/ ./lab/sipp/ ./lab/linphone/

bench-sip: deps ## call setup (20 calls) and one 30 s call's CPU/RSS, ours and baresip's side by side
	$(GO) test -run '^$$' -bench BenchmarkCallSetup -benchtime 20x -count=1 ./sip/
	$(GO) test -run '^$$' -bench BenchmarkCallCPU -benchtime 1x -count=1 ./sip/
