.PHONY: crm-drain crm-bench

crm-drain: ## CRM: the 10 000-log outage drain under injected faults (without -race)
	$(GO) test -count=1 -v -run 'TestDrainAfterOutageUnderFaults' ./crm/outbox/

crm-bench: ## CRM: drain throughput (batched vs one by one) and lookup latency (with and without cache)
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./crm/...
