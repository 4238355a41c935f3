;; Imports onvm_log and a WASI function with the wrong types.
(module
  (import "env" "onvm_log" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (param i32 i32) (result i32 i32) (local.get 0) (local.get 1)))
