package kv

import (
	"bytes"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct{ in, want []byte }{
		{[]byte("a/"), []byte("a0")},
		{[]byte{1, 0xff}, []byte{2}},
		{[]byte{0xff, 0xff}, nil},
		{nil, nil},
	} {
		if got := PrefixEnd(tc.in); !bytes.Equal(got, tc.want) {
			t.Errorf("PrefixEnd(%x) = %x, want %x", tc.in, got, tc.want)
		}
	}
}

func TestGetAndScan(t *testing.T) {
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, k := range []string{"a/1", "a/2", "a/3", "a0", "b/1"} {
		if err := db.Set([]byte(k), []byte("v"+k), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	v, ok, err := Get(db, []byte("a/2"))
	if err != nil || !ok || string(v) != "va/2" {
		t.Fatalf("Get a/2: %q %v %v", v, ok, err)
	}
	if _, ok, err := Get(db, []byte("a/9")); ok || err != nil {
		t.Fatalf("Get a/9: %v %v", ok, err)
	}
	var keys []string
	if err := Scan(db, []byte("a/"), func(k, _ []byte) error {
		keys = append(keys, string(k))
		if len(keys) == 2 {
			return ErrStop
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != "a/1" || keys[1] != "a/2" {
		t.Fatalf("scan a/ stopped after two: %v", keys)
	}
}
