# crm/zendesk and crm/zendeskemu: the Zendesk connector and its emulator.

.PHONY: crm-zendesk crm-zendesk-fuzz

crm-zendesk: ## CRM: the Zendesk connector, its emulator and its conformance run, with the race detector
	$(GO) test -race -count=1 ./crm/zendesk/... ./crm/zendeskemu/...

crm-zendesk-fuzz: ## CRM: fuzz the Zendesk error classification for a minute
	$(GO) test -run '^$$' -fuzz FuzzAPIError -fuzztime 60s ./crm/zendesk
