.PHONY: test-audio bench-audio

test-audio: ## audio engine, lab/pulse and the sip+audio end-to-end test, with the race detector
	$(GO) test $(TESTFLAGS) ./audio/... ./lab/pulse/...

bench-audio: ## audio benchmarks side by side: cpu per call and 5-party mix, one-way latency, ours vs baresip on pulse
	$(GO) test -run '^$$' -bench . -benchtime 1x -count=1 ./audio/...
