//go:build race

package outbox_test

// raceEnabled is true under -race, where every store transaction costs
// several times more CPU (see drainLogs).
const raceEnabled = true
