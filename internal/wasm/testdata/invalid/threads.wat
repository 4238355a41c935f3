;; Declares a shared memory (threads).
(module
  (memory (export "memory") 1 1 shared)
  (func (export "run") (param i32 i32) (result i32 i32) (local.get 0) (local.get 1)))
