;; The packed calling convention: (ptr i32, len i32) -> i64 (ptr high, len low).
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "guard")
  (func (export "run") (param $p i32) (param $n i32) (result i64)
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32))
      (i64.extend_i32_u (local.get $n))))
  (func (export "guard") (param $p i32) (param $n i32) (result i64)
    (i64.const 5)))
