// Package archtest enforces the direction of dependencies between ONVM's
// packages (STYLE.md): a package may import only packages of a lower layer
// (or its own sub-packages), the public client and guest SDK import nothing
// internal beyond ids, and only the CLI reaches the composition root.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/onvm-network/onvm/"

// layer ranks every package; a package imports only lower ranks. A package
// missing from this table fails the test, so a new package must be placed.
var layer = map[string]int{
	"internal/id":     0,
	"internal/codec":  0,
	"internal/bls":    0,
	"internal/config": 0,

	"internal/wasm/meter/wasmbin": 1,
	"internal/wasm/meter":         2,
	"internal/identity":           1,
	"internal/consensus":          1,
	"internal/bft":                1, // pure agreement core
	"internal/kv":                 1,

	"internal/blob":      3,
	"internal/state":     3,
	"internal/program":   3,
	"internal/dag":       3,
	"internal/committee": 3, // the agreement shell: signing store, timers, messages
	"internal/wasm":      3,
	"internal/auth":      3,

	"internal/dag/op": 4,
	"internal/chain":  4,
	"internal/p2p":    4,

	"internal/dag/dagtest": 5,
	"internal/job":         5,
	"internal/replica":     6, // routes job calls to a job's home node

	"internal/ui":       5,
	"internal/ui/build": 5,
	"internal/ui/gen":   6,

	"internal/api":  7,
	"internal/node": 8,
	"internal/cli":  9,
	"cmd/onvm":      10,

	// Public packages users import.
	"client":            2,
	"client/wire":       0,
	"internal/nodeproc": 3,
	"guest":             0,
	"guest/guesttest":   1,

	// Sample programs and their helpers (built for wasip1).
	"examples":                       10,
	"examples/internal/serde":        0,
	"examples/internal/blake3":       0,
	"examples/internal/lz4":          0,
	"examples/internal/abitest":      2,
	"examples/internal/abitest/wasm": 3,
	"examples/internal/golden":       0,
	"examples/echo":                  3,
	"examples/kvstore":               3,
	"examples/analytics":             3,
	"examples/job-test":              3,
	"docker":                         10,
	"docker/entrypoint":              10,
	"internal/archtest":              10,
	"bench/blobbench":                10,
	"bench/compilebench":             10,
}

// publicAllowed lists the only internal packages public packages may use:
// ids, and the pure BLS and receipt core the client verifies receipts with
// offline (no I/O, no node state).
var publicAllowed = map[string]bool{"internal/id": true, "internal/bls": true, "internal/consensus": true}

func TestLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		rank, ok := layer[pkg]
		if !ok {
			t.Errorf("package %s has no layer in archtest's table: place it", pkg)
			continue
		}
		public := !strings.HasPrefix(pkg, "internal/") && !strings.HasPrefix(pkg, "examples") &&
			!strings.HasPrefix(pkg, "cmd/") && !strings.HasPrefix(pkg, "docker") && !strings.HasPrefix(pkg, "bench/")
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			dep := strings.TrimPrefix(imp, module)
			if strings.HasPrefix(dep, pkg+"/") {
				continue // own sub-package
			}
			if public && strings.HasPrefix(dep, "internal/") && !publicAllowed[dep] {
				t.Errorf("public package %s imports %s", pkg, dep)
			}
			drank, ok := layer[dep]
			if !ok {
				continue // reported on its own line
			}
			if drank >= rank {
				t.Errorf("%s (layer %d) imports %s (layer %d): dependencies must point down", pkg, rank, dep, drank)
			}
		}
	}
}
