;; Imports shift the function index space; the start function, ref.func, element segments,
;; exports and the name section must follow the injected import.
(module
  (import "env" "add" (func $hostadd (param i32 i32) (result i32)))
  (global $g (mut i32) (i32.const 0))
  (global $fref funcref (ref.func $get))
  (table $t 2 funcref)
  (elem (i32.const 0) funcref (ref.func $get) (ref.null func))
  (elem declare func $start)
  (func $start
    i32.const 40 i32.const 2 call $hostadd global.set $g)
  (start $start)
  (func $get (export "get") (result i32) global.get $g)
  (func (export "via_table") (result i32) i32.const 0 call_indirect (result i32))
  (func (export "via_global") (result i32)
    i32.const 1 global.get $fref table.set $t
    i32.const 1 call_indirect (result i32))
  (func (export "ref_is_start") (result i32) ref.func $start ref.is_null)
)
