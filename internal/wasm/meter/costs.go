package meter

// Costs is the fuel cost model. It follows wasmtime's: every operator costs Op except the
// free ones (nop, drop, block, loop, end, else, unreachable, return), plus charges
// proportional to the size operand of bulk memory, table and grow operations, computed at run
// time from the operand and charged just before the operation executes (even if it then
// traps or, for grow, fails). Zero fields mean the default.
type Costs struct {
	// Op is the cost of every non-free operator. Default 1.
	Op uint32
	// MemoryBytesPerFuel: memory.fill, memory.copy and memory.init of n bytes additionally
	// cost ceil(n / MemoryBytesPerFuel). Default 16.
	MemoryBytesPerFuel uint32
	// MemoryGrowPerPage: memory.grow by n pages additionally costs n*MemoryGrowPerPage.
	// Default 4096 (65536/16: growing a page costs the same as filling it).
	MemoryGrowPerPage uint32
	// TablePerElement: table.grow, table.fill, table.copy and table.init of n elements
	// additionally cost n*TablePerElement. Default 1.
	TablePerElement uint32
	// HostCall is what the runtime charges (by decrementing onvm_fuel inside the host
	// function) for every host call, on top of the Op the call instruction already cost.
	// Instrument does not use it. Default 100.
	HostCall uint32
	// HostBytesPerFuel: the runtime additionally charges ceil(n / HostBytesPerFuel) for the n
	// bytes a host call reads or writes in guest memory (or hashes). Default 16.
	HostBytesPerFuel uint32
}

// DefaultCosts is the cost model used for consensus executions.
func DefaultCosts() Costs {
	return Costs{
		Op:                 1,
		MemoryBytesPerFuel: 16,
		MemoryGrowPerPage:  4096,
		TablePerElement:    1,
		HostCall:           100,
		HostBytesPerFuel:   16,
	}
}

func (c Costs) withDefaults() Costs {
	d := DefaultCosts()
	def := func(v *uint32, dv uint32) {
		if *v == 0 {
			*v = dv
		}
	}
	def(&c.Op, d.Op)
	def(&c.MemoryBytesPerFuel, d.MemoryBytesPerFuel)
	def(&c.MemoryGrowPerPage, d.MemoryGrowPerPage)
	def(&c.TablePerElement, d.TablePerElement)
	def(&c.HostCall, d.HostCall)
	def(&c.HostBytesPerFuel, d.HostBytesPerFuel)
	return c
}

// HostCharge is the fuel a host function should subtract from onvm_fuel for one call that
// moves n bytes across the guest boundary: HostCall + ceil(n / HostBytesPerFuel).
func (c Costs) HostCharge(n uint64) int64 {
	c = c.withDefaults()
	per := uint64(c.HostBytesPerFuel)
	f := uint64(c.HostCall) + n/per
	if n%per != 0 {
		f++
	}
	if f > 1<<62 {
		return 1 << 62
	}
	return int64(f)
}
