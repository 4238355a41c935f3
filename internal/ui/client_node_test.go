package ui_test

import (
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/onvm-network/onvm/internal/ui/build"
)

// TestClientNode runs the TypeScript client's own tests
// (clients/ts/test, node --test) against a node without authentication
// and one with it. Under CI (CI=true, where .ci/run installs Node) a
// missing node fails the test; elsewhere it skips.
func TestClientNode(t *testing.T) {
	nodeExe, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not installed; .ci/run installs it (apt-get install nodejs)")
		}
		t.Skip("node is not installed")
	}
	tests, err := build.NodeTests(".", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	testdata, err := filepath.Abs(filepath.Join("..", "..", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"dev", "prod"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			base, secret := apiServer(t, dir, mode == "prod")
			cmd := exec.CommandContext(t.Context(), nodeExe, append([]string{"--test", "--test-reporter=spec"}, tests...)...)
			cmd.Env = append(os.Environ(), "ONVM_URL="+base, "ONVM_TESTDATA="+testdata)
			if secret != nil {
				cmd.Env = append(cmd.Env, "ONVM_PROJECT_ID=webproj", "ONVM_PROJECT_SECRET="+hex.EncodeToString(secret))
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("node --test: %v\n%s", err, out)
			}
			t.Logf("%s", out)
		})
	}
}
