;; Small programs whose fuel is computed by hand in fuel_test.go.
(module
  (type $bin (func (param i32 i32) (result i32)))
  (type $pair (func (param i32) (result i32 i32)))
  (memory (export "memory") 1)
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $add $sub $empty)
  (global $g (mut i32) (i32.const 0))

  ;; cost 0: a body of only "end"
  (func $empty (export "empty"))

  ;; 3: get get add
  (func $add (export "add") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add)

  (func $sub (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.sub)

  ;; 9n+5 (see test)
  (func (export "count") (param $n i32) (result i32) (local $i i32)
    block $done
      loop $l
        local.get $i
        local.get $n
        i32.ge_u
        br_if $done
        local.get $i
        i32.const 1
        i32.add
        local.set $i
        br $l
      end
    end
    local.get $i)

  ;; multi-value if/else with a block parameter.
  ;; common: get, const 10, get, if = 4; then: const 1, add, const 100 = 3;
  ;; else: const 2, mul, const 200, drop(0), const 300 = 4; after: add, add = 2.
  ;; x != 0 -> 9, x == 0 -> 10
  (func (export "ifelse") (param $x i32) (result i32)
    local.get $x
    i32.const 10
    local.get $x
    if (param i32) (result i32 i32)
      i32.const 1
      i32.add
      i32.const 100
    else
      i32.const 2
      i32.mul
      i32.const 200
      drop
      i32.const 300
    end
    i32.add
    i32.add)

  ;; if without else: get, if = 2; then: global.get, const, add, global.set = 4; after: get = 1
  ;; x != 0 -> 7, x == 0 -> 3
  (func (export "ifonly") (param $x i32) (result i32)
    local.get $x
    if
      global.get $g
      i32.const 1
      i32.add
      global.set $g
    end
    local.get $x)

  ;; br_table: get, br_table = 2, then the arm: const, return(0) = 1 => 3 for every x
  (func (export "switch") (param $x i32) (result i32)
    block $b2
      block $b1
        block $b0
          local.get $x
          br_table $b0 $b1 $b2
        end
        i32.const 10
        return
      end
      i32.const 11
      return
    end
    i32.const 12)

  ;; calls: get get call(1) + add's 3 = 6; call_indirect: get get const call_indirect(4) + 3 = 7
  (func (export "call") (param i32 i32) (result i32)
    local.get 0 local.get 1 call $add)
  (func (export "call_indirect") (param i32 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 call_indirect (type $bin))

  ;; nested blocks, none targeted: const, const, add, const, add = 5
  (func (export "nested") (result i32)
    block (result i32)
      block (result i32)
        i32.const 1
        i32.const 2
        i32.add
      end
      i32.const 3
      i32.add
    end)

  ;; br out of nested blocks to the function label: const(1) br(1) -> 2
  (func (export "br_func") (result i32)
    block
      block
        i32.const 7
        br 2
      end
    end
    i32.const 8)

  ;; trap mid-segment: const, const, div_u (traps), const, add: the segment costs 5
  (func (export "divtrap") (param i32) (result i32)
    i32.const 1
    local.get 0
    i32.div_u
    i32.const 1
    i32.add)

  ;; nop, drop, unreachable are free: const(1) nop(0) drop(0) unreachable(0) -> 1 then trap
  (func (export "free") 
    i32.const 1 nop drop unreachable)

  ;; infinite loop: each iteration is br = 1
  (func (export "spin")
    loop $l
      br $l
    end)

  ;; memory.grow n: get, grow, drop(0) = 2 + n*4096
  (func (export "grow") (param i32) (result i32)
    local.get 0 memory.grow)

  ;; memory.fill(0, 0, n): const, const, get, fill = 4 + ceil(n/16)
  (func (export "fill") (param i32)
    i32.const 0 i32.const 0 local.get 0 memory.fill)

  ;; memory.copy(0, 100, n): 4 + ceil(n/16)
  (func (export "copy") (param i32)
    i32.const 0 i32.const 100 local.get 0 memory.copy)

  ;; table.grow(null, n): ref.null, get, table.grow = 3 + n; table.fill(0, null, n) = 4 + n
  (func (export "tgrow") (param i32) (result i32)
    ref.null func local.get 0 table.grow $t)
  (func (export "tfill") (param i32)
    i32.const 0 ref.null func local.get 0 table.fill $t)
  ;; table.copy(1, 0, n) = 4 + n
  (func (export "tcopy") (param i32)
    i32.const 1 i32.const 0 local.get 0 table.copy $t $t)
  ;; table.init(0, 0, n) from the passive segment = 4 + n
  (elem $pe func $add $sub $empty)
  (func (export "tinit") (param i32)
    i32.const 0 i32.const 0 local.get 0 table.init $t $pe)
  ;; memory.init(0, 0, n) from the passive data = 4 + ceil(n/16)
  (data $pd "0123456789abcdefghijklmnopqrstuvwxyz")
  (func (export "minit") (param i32)
    i32.const 0 i32.const 0 local.get 0 memory.init $pd)

  ;; recursion: fib via calls
  (func $fib (export "fib") (param i32) (result i32)
    local.get 0
    i32.const 2
    i32.lt_u
    if (result i32)
      local.get 0
    else
      local.get 0
      i32.const 1
      i32.sub
      call $fib
      local.get 0
      i32.const 2
      i32.sub
      call $fib
      i32.add
    end)
)
