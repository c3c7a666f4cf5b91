# crm/conformance: the shared exactly-once suite every CRM connector runs.

.PHONY: crm-conformance

crm-conformance: ## CRM: the exactly-once conformance suite (offline backlog, each fault, sigkill mid-drain, revoked sign-in) for every connector, with the race detector
	$(GO) test -race -count=1 -v -run 'TestConformance' ./crm/...
