//go:build wasip1

package guest

import "unsafe"

var (
	// pinned holds the buffers handed out by onvm_alloc, keyed by address,
	// until the call that reads them ends, so the collector keeps them.
	pinned = map[uint32][]byte{}
	// output keeps the last call's output alive after onvm_main returns,
	// while the node copies it out of linear memory.
	output []byte
)

// onvmAlloc returns a buffer of size bytes for the node to write the input
// into. The buffer stays valid until the next call of an entrypoint ends.
//
//go:wasmexport onvm_alloc
func onvmAlloc(size uint32) uint32 {
	b := make([]byte, size)
	p := addr(b)
	pinned[p] = b
	return p
}

// onvmMain is the module's entrypoint: it runs the handler registered
// with Handle.
//
//go:wasmexport onvm_main
func onvmMain(ptr, size uint32) uint64 { return Invoke(registered, ptr, size) }

// Invoke runs h on the input at (ptr, size), which must lie in a buffer
// returned by onvm_alloc, and returns the packed output (pointer in the high
// 32 bits, length in the low 32). It lets a program export more
// entrypoints than onvm_main:
//
//	//go:wasmexport transfer
//	func transfer(ptr, size uint32) uint64 { return guest.Invoke(handleTransfer, ptr, size) }
//
// If h returns an error, Invoke writes it to stderr and exits with code 1
// (a trap for the node); it does not return.
func Invoke(h Handler, ptr, size uint32) uint64 {
	defer clear(pinned)
	if h == nil {
		fail(ErrNoHandler)
	}
	input, err := takeInput(ptr, size)
	if err != nil {
		fail(err)
	}
	out, err := h(NewContext(wasmHost{}), input)
	if err != nil {
		fail(err)
	}
	output = out
	if len(out) == 0 {
		return 0
	}
	return uint64(addr(out))<<32 | uint64(uint32(len(out)))
}

// takeInput returns the input slice at (ptr, size) if it lies within a
// buffer from onvm_alloc.
func takeInput(ptr, size uint32) ([]byte, error) {
	if size == 0 {
		return nil, nil
	}
	if b, ok := pinned[ptr]; ok && int(size) <= len(b) {
		return b[:size:size], nil
	}
	for p, b := range pinned { // an offset inside a buffer: rare, allowed
		if ptr > p && uint64(ptr)+uint64(size) <= uint64(p)+uint64(len(b)) {
			return b[ptr-p : ptr-p+size : ptr-p+size], nil
		}
	}
	return nil, ErrInput
}

// fail aborts the call: the message goes to stderr (the call's log) and
// the module exits with status 1, which the node reports as a trap. It calls
// WASI directly rather than through package syscall, whose initialisation
// (preopened-directory discovery) would cost every program ~300 KB.
func fail(err error) {
	msg := []byte("onvm: " + err.Error() + "\n")
	iov := [2]uint32{addr(msg), uint32(len(msg))}
	var written uint32
	fdWrite(2, unsafe.Pointer(&iov), 1, unsafe.Pointer(&written))
	procExit(1)
}

//go:wasmimport wasi_snapshot_preview1 fd_write
func fdWrite(fd int32, iovs unsafe.Pointer, iovsLen int32, nwritten unsafe.Pointer) int32

//go:wasmimport wasi_snapshot_preview1 proc_exit
func procExit(code int32)

func addr(b []byte) uint32 { return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }
