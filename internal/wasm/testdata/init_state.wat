;; A reactor whose _initialize reads state, which belongs to calls: every
;; call fails with a trap naming the host function.
(module
  (import "env" "onvm_state_get" (func $get (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_initialize")
    (drop (call $get (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 8))))
  (func (export "run") (param $p i32) (param $n i32) (result i32 i32)
    (local.get $p) (local.get $n))
)
