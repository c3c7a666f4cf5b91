# G.722 wideband audio in the SIP engine (package sip: sip/g722*.go).
# (Target names carry no digits: make help lists only [a-zA-Z_-] names.)
.PHONY: test-wideband bench-wideband fuzz-wideband

test-wideband: deps ## G.722: codec unit tests (sines, silence, bit-exact reference, bad input) and calls with baresip both ways, with the race detector
	$(GO) test -race -count=1 -run 'G722' ./sip/

bench-wideband: deps ## G.722: encode+decode cost per 20 ms frame, and one 20 s G.722 call's CPU/RSS, ours and baresip's side by side
	$(GO) test -run '^$$' -bench BenchmarkG722EncodeDecode -benchtime 5000x -count=1 ./sip/
	$(GO) test -run '^$$' -bench BenchmarkG722CallCPU -benchtime 1x -count=1 ./sip/

fuzz-wideband: ## G.722: fuzz the decoder for 60 s
	$(GO) test -run '^$$' -fuzz FuzzG722Decode -fuzztime 60s ./sip/
