;; Compute kernels for the differential tests and the metered/unmetered benchmarks.
(module
  (memory (export "memory") 16)

  ;; xorshift-fill n i32 words at 0, then bottom-up merge sort them using [n*4, n*8) as scratch;
  ;; returns a checksum of the sorted array.
  (func $fill (param $n i32) (local $i i32) (local $x i32)
    i32.const 2463534242
    local.set $x
    block $done
      loop $l
        local.get $i local.get $n i32.ge_u br_if $done
        local.get $x local.get $x i32.const 13 i32.shl i32.xor local.set $x
        local.get $x local.get $x i32.const 17 i32.shr_u i32.xor local.set $x
        local.get $x local.get $x i32.const 5 i32.shl i32.xor local.set $x
        local.get $i i32.const 2 i32.shl local.get $x i32.store
        local.get $i i32.const 1 i32.add local.set $i
        br $l
      end
    end)

  (func $merge (param $src i32) (param $dst i32) (param $lo i32) (param $mid i32) (param $hi i32)
    (local $i i32) (local $j i32) (local $k i32) (local $a i32) (local $b i32)
    local.get $lo local.set $i
    local.get $mid local.set $j
    local.get $lo local.set $k
    block $done
      loop $l
        local.get $k local.get $hi i32.ge_u br_if $done
        block $takeb
          block $takea
            local.get $i local.get $mid i32.ge_u br_if $takeb
            local.get $j local.get $hi i32.ge_u br_if $takea
            local.get $src local.get $i i32.const 2 i32.shl i32.add i32.load local.set $a
            local.get $src local.get $j i32.const 2 i32.shl i32.add i32.load local.set $b
            local.get $a local.get $b i32.le_s br_if $takea
            br $takeb
          end
          local.get $dst local.get $k i32.const 2 i32.shl i32.add
          local.get $src local.get $i i32.const 2 i32.shl i32.add i32.load
          i32.store
          local.get $i i32.const 1 i32.add local.set $i
          local.get $k i32.const 1 i32.add local.set $k
          br $l
        end
        local.get $dst local.get $k i32.const 2 i32.shl i32.add
        local.get $src local.get $j i32.const 2 i32.shl i32.add i32.load
        i32.store
        local.get $j i32.const 1 i32.add local.set $j
        local.get $k i32.const 1 i32.add local.set $k
        br $l
      end
    end)

  (func (export "mergesort") (param $n i32) (result i32)
    (local $w i32) (local $lo i32) (local $src i32) (local $dst i32) (local $t i32)
    (local $mid i32) (local $hi i32) (local $sum i32) (local $i i32)
    local.get $n call $fill
    i32.const 0 local.set $src
    local.get $n i32.const 2 i32.shl local.set $dst
    i32.const 1 local.set $w
    block $wdone
      loop $wl
        local.get $w local.get $n i32.ge_u br_if $wdone
        i32.const 0 local.set $lo
        block $ldone
          loop $ll
            local.get $lo local.get $n i32.ge_u br_if $ldone
            local.get $lo local.get $w i32.add local.tee $mid
            local.get $n i32.gt_u if local.get $n local.set $mid end
            local.get $lo local.get $w i32.const 1 i32.shl i32.add local.tee $hi
            local.get $n i32.gt_u if local.get $n local.set $hi end
            local.get $src local.get $dst local.get $lo local.get $mid local.get $hi call $merge
            local.get $hi local.set $lo
            br $ll
          end
        end
        local.get $src local.set $t
        local.get $dst local.set $src
        local.get $t local.set $dst
        local.get $w i32.const 1 i32.shl local.set $w
        br $wl
      end
    end
    ;; checksum: sum of a[i]*(i+1), and verify order (returns -1 if unsorted)
    i32.const 1 local.set $i
    block $cdone
      loop $cl
        local.get $i local.get $n i32.ge_u br_if $cdone
        local.get $src local.get $i i32.const 2 i32.shl i32.add i32.load
        local.get $src local.get $i i32.const 1 i32.sub i32.const 2 i32.shl i32.add i32.load
        i32.lt_s if i32.const -1 return end
        local.get $sum
        local.get $src local.get $i i32.const 2 i32.shl i32.add i32.load
        local.get $i i32.mul i32.add local.set $sum
        local.get $i i32.const 1 i32.add local.set $i
        br $cl
      end
    end
    local.get $sum)

  ;; tight integer loop: collatz-ish mixing n times
  (func (export "intloop") (param $n i32) (result i32) (local $x i32)
    i32.const 7 local.set $x
    block $done
      loop $l
        local.get $n i32.eqz br_if $done
        local.get $x i32.const 1103515245 i32.mul i32.const 12345 i32.add local.set $x
        local.get $n i32.const 1 i32.sub local.set $n
        br $l
      end
    end
    local.get $x)

  ;; float loop: numerical integration of sqrt(x)*sin-ish polynomial, f64 + f32 mixes
  (func (export "floatloop") (param $n i32) (result f64) (local $i i32) (local $x f64) (local $acc f64) (local $f f32)
    f32.const 1.5 local.set $f
    block $done
      loop $l
        local.get $i local.get $n i32.ge_u br_if $done
        local.get $i f64.convert_i32_u f64.const 0.001 f64.mul local.set $x
        local.get $acc
        local.get $x f64.sqrt
        local.get $x local.get $x f64.mul f64.const 0.5 f64.mul f64.const 1 f64.add
        f64.div
        f64.add local.set $acc
        local.get $f f32.const 1.0001 f32.mul f32.const 0.25 f32.sub f32.const 3 f32.min local.set $f
        local.get $i i32.const 1 i32.add local.set $i
        br $l
      end
    end
    local.get $acc local.get $f f64.promote_f32 f64.add)

  ;; NaN producers. A NaN with a non-canonical payload and sign goes in; the result of an
  ;; arithmetic op on it is CPU-dependent unless canonicalised.
  (func (export "nan_add32") (param i32) (result i32)
    local.get 0 f32.reinterpret_i32 f32.const 1 f32.add i32.reinterpret_f32)
  (func (export "nan_div32") (result i32)
    f32.const 0 f32.const 0 f32.div i32.reinterpret_f32)
  (func (export "nan_sqrt64") (result i64)
    f64.const -1 f64.sqrt i64.reinterpret_f64)
  (func (export "nan_mul64") (param i64) (result i64)
    local.get 0 f64.reinterpret_i64 f64.const 2 f64.mul i64.reinterpret_f64)
  (func (export "nan_promote") (param i32) (result i64)
    local.get 0 f32.reinterpret_i32 f64.promote_f32 i64.reinterpret_f64)
  (func (export "nan_demote") (param i64) (result i32)
    local.get 0 f64.reinterpret_i64 f32.demote_f64 i32.reinterpret_f32)
  ;; bit-exact ops are left alone: neg of a NaN flips only the sign
  (func (export "nan_neg32") (param i32) (result i32)
    local.get 0 f32.reinterpret_i32 f32.neg i32.reinterpret_f32)
  (func (export "min_zero") (result i64)
    f64.const -0 f64.const 0 f64.min i64.reinterpret_f64)
)
