package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/id"
)

// addRPCFlag adds --rpc (alias --api) to a client command.
func addRPCFlag(cmd *cobra.Command) {
	cmd.Flags().String("rpc", client.DefaultRPC, "node API address: \":8080\", host:port or a URL (env ONVM_RPC)")
	cmd.Flags().String("api", "", "alias of --rpc")
	_ = cmd.Flags().MarkHidden("api")
}

// client returns a client for the node named by --rpc (or --api).
func (e *env) client(cmd *cobra.Command) (*client.Client, error) {
	rpc := e.stringSetting(cmd, "rpc", "ONVM_RPC")
	if f := cmd.Flags().Lookup("api"); f.Changed {
		rpc = f.Value.String()
	}
	opts, err := e.authOptions(cmd) // credentials and --rpc-ca (auth.go)
	if err != nil {
		return nil, err
	}
	c, err := client.New(rpc, append(opts, client.WithUserAgent("onvm-cli/"+rootVersion(cmd)))...)
	if err != nil {
		return nil, usageError{err: fmt.Errorf("--rpc: %w", err)}
	}
	return c, nil
}

func rootVersion(cmd *cobra.Command) string { return cmd.Root().Version }

func (e *env) uploadBlobCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "upload-blob",
		Short: "Upload a file to a node as a content-addressed blob",
		Long: `upload-blob streams a file to the node (POST /blobs) and prints {"id":"blob…","size":N}
on stdout; the id is the BLAKE3 of the bytes, the same as b3sum prints. Without --json a
human-readable line goes to stderr as well. The MIME type is --mime, else detected from
the content. A progress bar is shown when stderr is a terminal.`,
		Example: "  onvm upload-blob --rpc :8080 --file input.bin\n  onvm upload-blob --file page.html --mime text/html --json",
		Args:    cobra.NoArgs,
		RunE:    e.runUploadBlob,
	}
	addRPCFlag(cmd)
	cmd.Flags().String("file", "", "file to upload (required)")
	cmd.Flags().String("mime", "", "MIME type (default: detected from the content)")
	cmd.Flags().Bool("json", false, "print only the JSON result")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func (e *env) runUploadBlob(cmd *cobra.Command, _ []string) error {
	c, err := e.client(cmd)
	if err != nil {
		return err
	}
	path, _ := cmd.Flags().GetString("file")
	mimeType, _ := cmd.Flags().GetString("mime")
	asJSON, _ := cmd.Flags().GetBool("json")
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("upload-blob: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("upload-blob: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("upload-blob: %s is not a regular file", path)
	}
	if mimeType == "" {
		head := make([]byte, 512)
		n, _ := f.ReadAt(head, 0)
		mimeType = http.DetectContentType(head[:n])
	}
	ctx, err := uploadContext(cmd.Context(), c, f) // the body hash a signed stream needs
	if err != nil {
		return fmt.Errorf("upload-blob: %w", err)
	}
	bar := e.progress(st.Size(), "uploading")
	ref, err := c.UploadBlob(ctx, bar.reader(f), st.Size(), mimeType)
	bar.finish()
	if err != nil {
		return fmt.Errorf("upload-blob %s: %w", path, nodeError(c, err))
	}
	b, _ := json.Marshal(struct {
		ID   string `json:"id"`
		Size int64  `json:"size"`
	}{ref.ID, ref.Size})
	printLine(cmd.OutOrStdout(), string(b))
	if !asJSON {
		state := "stored"
		if !ref.Created {
			state = "already stored"
		}
		printf(cmd.ErrOrStderr(), "Uploaded %s (%d bytes, %s, %s) as %s\n", path, ref.Size, mimeType, state, ref.ID)
	}
	return nil
}

func (e *env) getBlobCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get-blob",
		Short: "Download a blob from a node into a file, verified",
		Long: `get-blob streams a blob (GET /blobs/{id}) into a temporary file next to --out, checks
that the BLAKE3 of the bytes equals the id, syncs the file and renames it to --out. A
download that fails or does not verify leaves --out untouched.`,
		Example: "  onvm get-blob --rpc :8080 --id blob<64 hex> --out downloaded.bin",
		Args:    cobra.NoArgs,
		RunE:    e.runGetBlob,
	}
	addRPCFlag(cmd)
	cmd.Flags().String("id", "", "blob id: blob<64 hex> or 64 hex (required)")
	cmd.Flags().String("out", "", "output file (required)")
	_ = cmd.MarkFlagRequired("id")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func (e *env) runGetBlob(cmd *cobra.Command, _ []string) error {
	c, err := e.client(cmd)
	if err != nil {
		return err
	}
	idText, _ := cmd.Flags().GetString("id")
	out, _ := cmd.Flags().GetString("out")
	b, err := id.ParseBlob(idText)
	if err != nil {
		return fmt.Errorf("get-blob: --id: %w", err)
	}
	r, err := c.OpenBlob(cmd.Context(), b.String())
	if err != nil {
		return fmt.Errorf("get-blob %s: %w", b, nodeError(c, err))
	}
	defer func() { _ = r.Close() }()
	bar := e.progress(r.Size(), "downloading")
	n, err := writeFileAtomic(out, bar.reader(r))
	bar.finish()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("get-blob %s: cannot write --out %s: %w", b, out, err)
	}
	if err != nil {
		return fmt.Errorf("get-blob %s: %w", b, nodeError(c, err))
	}
	printf(cmd.OutOrStdout(), "blob saved to %s (%d bytes, verified)\n", out, n)
	return nil
}

// writeFileAtomic copies r into a temporary file in path's directory, syncs
// it and renames it to path; on any error the temporary file is removed and
// path is untouched.
func writeFileAtomic(path string, r io.Reader) (n int64, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".onvm-*")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if n, err = io.Copy(tmp, r); err != nil {
		return n, err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return n, err
	}
	if err = tmp.Sync(); err != nil {
		return n, err
	}
	if err = tmp.Close(); err != nil {
		return n, err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return n, err
	}
	if d, derr := os.Open(filepath.Dir(path)); derr == nil {
		err = errors.Join(d.Sync(), d.Close())
	}
	return n, err
}
