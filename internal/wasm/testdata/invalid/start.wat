;; Has a start function.
(module
  (memory (export "memory") 1)
  (func $init)
  (start $init)
  (func (export "run") (param i32 i32) (result i32 i32) (local.get 0) (local.get 1)))
