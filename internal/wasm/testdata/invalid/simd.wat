;; Uses a SIMD instruction.
(module
  (memory (export "memory") 1)
  (func (export "run") (param i32 i32) (result i32 i32)
    (drop (i32x4.splat (local.get 0)))
    (local.get 0) (local.get 1)))
