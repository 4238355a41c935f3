package id

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

const abc = "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85" // BLAKE3("abc")

func TestBlobOfKnownDigest(t *testing.T) {
	got := BlobOf([]byte("abc"))
	if got.String() != "blob"+abc {
		t.Fatalf("BlobOf(abc) = %s, want blob%s", got, abc)
	}
	if Hash(got) != Sum([]byte("a"), []byte("bc")) {
		t.Fatal("Sum of parts differs from Sum of the concatenation")
	}
}

// TestOfficialVectors checks the id function against the BLAKE3 team's
// test vectors (the first 32 bytes of each extended output).
func TestOfficialVectors(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/blake3_test_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors struct {
		Cases []struct {
			InputLen int    `json:"input_len"`
			Hash     string `json:"hash"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors.Cases) < 30 {
		t.Fatalf("only %d vectors", len(vectors.Cases))
	}
	for _, c := range vectors.Cases {
		in := make([]byte, c.InputLen)
		for i := range in {
			in[i] = byte(i % 251)
		}
		if got, want := Hash(BlobOf(in)).String(), c.Hash[:64]; got != want {
			t.Errorf("len %d: got %s, want %s", c.InputLen, got, want)
		}
	}
}

func TestParseBlob(t *testing.T) {
	want := BlobOf([]byte("abc"))
	for _, s := range []string{
		"blob" + abc, abc, "BLOB" + strings.ToUpper(abc), "  blob" + abc + "\n", "Blob" + abc,
	} {
		got, err := ParseBlob(s)
		if err != nil {
			t.Errorf("ParseBlob(%q): %v", s, err)
			continue
		}
		if got != want {
			t.Errorf("ParseBlob(%q) = %s", s, got)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, in, msg string
		parse         func(string) error
	}{
		{"blob wants blob", "prog" + abc, "expected blob id, got program id prefix", func(s string) error { _, err := ParseBlob(s); return err }},
		{"prog wants prog", "blob" + abc, "expected program id, got blob id prefix", func(s string) error { _, err := ParseProgram(s); return err }},
		{"empty", "  ", "id cannot be empty", func(s string) error { _, err := ParseBlob(s); return err }},
		{"short", abc[:62], "expected 32 bytes, got 31", func(s string) error { _, err := ParseBlob(s); return err }},
		{"odd", abc[:63], "expected 64 hex digits, got 63", func(s string) error { _, err := ParseBlob(s); return err }},
		{"not hex", strings.Repeat("zz", 32), "invalid hex", func(s string) error { _, err := ParseProgram(s); return err }},
		{"job with prefix", "blob" + abc, "unexpected", func(s string) error { _, err := ParseJob(s); return err }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.parse(c.in)
			if err == nil {
				t.Fatalf("parse(%q) succeeded", c.in)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("error %v does not wrap ErrSyntax", err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
		})
	}
}

func TestProgramAndJobIDs(t *testing.T) {
	p := ProgramOf([]byte("\x00asm"), []byte("salt"))
	if Hash(p) != Sum([]byte("\x00asmsalt")) {
		t.Fatal("ProgramOf is not BLAKE3(wasm ‖ salt)")
	}
	if ProgramOf([]byte("\x00asm"), []byte("salt2")) == p {
		t.Fatal("salt does not change the program id")
	}
	j := JobOf(p, "req-1")
	if Hash(j) != Sum(p[:], []byte("req-1")) {
		t.Fatal("JobOf is not BLAKE3(program ‖ request id)")
	}
	if JobOf(p, "req-2") == j {
		t.Fatal("request id does not change the job id")
	}
	back, err := ParseJob(j.String())
	if err != nil || back != j {
		t.Fatalf("ParseJob round trip: %v %v", back, err)
	}
}

func TestJSONForms(t *testing.T) {
	v := struct {
		B Blob    `json:"b"`
		P Program `json:"p"`
		J Job     `json:"j"`
		N Node    `json:"n"`
	}{B: BlobOf(nil), P: ProgramOf(nil, nil), J: JobOf(Program{}, "x"), N: Node{1}}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"b":"blob`) || !strings.Contains(string(raw), `"p":"prog`) {
		t.Fatalf("ids lack their prefix in JSON: %s", raw)
	}
	w := v
	w.B, w.P, w.J, w.N = Blob{}, Program{}, Job{}, Node{}
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	if w != v {
		t.Fatalf("JSON round trip changed the ids: %+v", w)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("blob" + abc)
	f.Add("prog" + abc)
	f.Add(abc)
	f.Add("")
	f.Add("blob")
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (Hash, error){
			func(s string) (Hash, error) { b, err := ParseBlob(s); return Hash(b), err },
			func(s string) (Hash, error) { p, err := ParseProgram(s); return Hash(p), err },
			ParseHash,
		} {
			h, err := parse(s)
			if err != nil {
				if !errors.Is(err, ErrSyntax) {
					t.Fatalf("error %v does not wrap ErrSyntax", err)
				}
				continue
			}
			// Whatever parsed must be exactly the 64 hex digits it came from.
			trimmed := strings.ToLower(strings.TrimSpace(s))
			if !strings.HasSuffix(trimmed, hex.EncodeToString(h[:])) {
				t.Fatalf("parse(%q) = %s, not a suffix of the input", s, h)
			}
		}
	})
}
