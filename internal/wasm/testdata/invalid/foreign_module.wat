;; Imports from a module the host does not provide, and a global.
(module
  (import "os" "exec" (func (param i32)))
  (import "env" "counter" (global i32))
  (memory (export "memory") 1)
  (func (export "run") (param i32 i32) (result i32 i32) (local.get 0) (local.get 1)))
