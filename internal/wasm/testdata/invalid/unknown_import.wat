;; Imports a function that is not part of the host ABI.
(module
  (import "env" "onvm_shell" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "run") (param i32 i32) (result i32 i32) (local.get 0) (local.get 1)))
