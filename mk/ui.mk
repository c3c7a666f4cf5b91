# ui: the agent desktop's window tests and figures (Xvfb, xdotool, xwd).

.PHONY: ui-test ui-smoke ui-figures

ui-test: ## ui: headless desktop tests (Fyne test driver, real core) with the race detector
	$(GO) test -race -count=1 ./ui/... ./cmd/softphone

ui-smoke: ## ui: real window under Xvfb, screenshots kept in bin/smoke
	SOFTPHONE_SMOKE_SHOTS=$(CURDIR)/bin/smoke $(GO) test -count=1 -run TestSmokeWindow -v ./cmd/softphone

ui-figures: ## ui: launch-to-frame; idle CPU and RSS under Xvfb beside a bare Fyne window; core event to frame
	$(GO) test -run '^$$' -bench 'GUIStartAndIdle|CoreEventToFrame' -benchtime 1x ./cmd/softphone
	$(GO) test -run '^$$' -bench CoreEventToFrame -benchtime 200x ./ui
