# SIP media (package sip): codecs, RTCP round-trip time.
.PHONY: test-sip-media bench-sip-media

test-sip-media: deps ## the SIP engine's codec and RTCP tests (Opus against baresip and sipp, RTT, 488)
	$(GO) test -race -count=1 -run 'Opus|Codec|RoundTrip|NTPTime|RTCP|NoCommonCodec|AccountCodecNames' ./sip/

bench-sip-media: deps ## Opus encode+decode cost per call, and one 30 s Opus call's CPU/RSS, ours and baresip's side by side
	$(GO) test -run '^$$' -bench BenchmarkOpusEncodeDecode -benchtime 500x -count=1 ./sip/
	$(GO) test -run '^$$' -bench BenchmarkOpusCallCPU -benchtime 1x -count=1 ./sip/
