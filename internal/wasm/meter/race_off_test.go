//go:build !race

package meter

// raceSlowdown: see race_on_test.go.
const raceSlowdown = 1
