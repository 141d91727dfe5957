//go:build !race

package rollbacktest

const raceEnabled = false
