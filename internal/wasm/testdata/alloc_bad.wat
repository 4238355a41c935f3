;; onvm_alloc returns a pointer outside memory.
(module
  (memory (export "memory") 1)
  (func (export "onvm_alloc") (param $n i32) (result i32) (i32.const 0x7ffffff0))
  (func (export "run") (param $p i32) (param $n i32) (result i32 i32)
    (local.get $p) (local.get $n)))
