;; Exports no memory; exports a reserved name; _initialize and onvm_alloc with wrong types.
(module
  (global (export "onvm_fuel") (mut i64) (i64.const 0))
  (func (export "_initialize") (param i32))
  (func (export "onvm_alloc") (param i64) (result i64) (local.get 0))
  (func (export "run") (param i32 i32) (result i32 i32) (local.get 0) (local.get 1)))
