//go:build race

package rollbacktest

const raceEnabled = true
