//go:build race

package meter

// raceSlowdown scales FuzzCompileBounds' time bound under the race
// detector, which slows the instrumenter and wazero's compiler several
// times over; bench/compilebench measures the real figure.
const raceSlowdown = 8
