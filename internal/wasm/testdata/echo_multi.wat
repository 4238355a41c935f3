;; The multi-value calling convention: (ptr i32, len i32) -> (i32, i32).
;; No onvm_alloc: the host places the input in pages it grows.
(module
  (memory (export "memory") 1)
  ;; Guest data at address 0, where the original host wrote the input.
  (data (i32.const 0) "guard")
  ;; run echoes its input in place.
  (func (export "run") (param $p i32) (param $n i32) (result i32 i32)
    (local.get $p) (local.get $n))
  ;; guard returns the 5 bytes at address 0, which the input must not clobber.
  (func (export "guard") (param $p i32) (param $n i32) (result i32 i32)
    (i32.const 0) (i32.const 5))
  ;; wrong has no valid calling convention.
  (func (export "wrong") (param i32) (result i32) (local.get 0)))
