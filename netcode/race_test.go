//go:build race

package netcode

// raceEnabled: the race detector slows pion several times over; the
// heaviest tests run shorter under it.
const raceEnabled = true
