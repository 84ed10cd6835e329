;; Symmetric FIR along contiguous float32 rows, f32x4 SIMD: the hot loop of the separable
;; Gaussian (packages/ops/src/filters/gaussian-simd.ts drives it). Compiled at build time by
;; scripts/build-wasm.mjs into gaussian-simd.generated.ts; edit this file, then rebuild.
;;
;; fir(tab, r, out, n): for i in [0, n) rounded up to a multiple of 16 (callers leave 16 floats of
;; slack after every row read and after out),
;;   out[i] = w0 * c[i] + sum_{t=1..r} wt * (lo_t[i] + hi_t[i])
;; in that order, float32 multiply then add (no fused multiply-add, so every engine gives the
;; same bits). The tap table at byte offset tab holds r+1 records of 32 bytes:
;;   +0  v128  the weight of tap t in all four lanes
;;   +16 i32   byte address of row lo_t (for t = 0: of the centre row c)
;;   +20 i32   byte address of row hi_t (unused for t = 0)
(module
  (memory (export "memory") 1)
  (func (export "fir") (param $tab i32) (param $r i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32) (local $p i32) (local $pend i32) (local $s i32)
    (local $c v128) (local $w v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $lo i32) (local $hi i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $c (v128.load (local.get $tab)))
    (local.set $s (i32.load offset=16 (local.get $tab)))
    (local.set $pend (i32.add (local.get $tab) (i32.shl (i32.add (local.get $r) (i32.const 1)) (i32.const 5))))
    (local.set $i (i32.const 0))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_s (local.get $i) (local.get $end)))
        ;; four vectors (16 floats) per step
        (local.set $a0 (f32x4.mul (local.get $c) (v128.load (i32.add (local.get $s) (local.get $i)))))
        (local.set $a1 (f32x4.mul (local.get $c) (v128.load offset=16 (i32.add (local.get $s) (local.get $i)))))
        (local.set $a2 (f32x4.mul (local.get $c) (v128.load offset=32 (i32.add (local.get $s) (local.get $i)))))
        (local.set $a3 (f32x4.mul (local.get $c) (v128.load offset=48 (i32.add (local.get $s) (local.get $i)))))
        (local.set $p (i32.add (local.get $tab) (i32.const 32)))
        (block $tapsdone
          (loop $taps
            (br_if $tapsdone (i32.ge_u (local.get $p) (local.get $pend)))
            (local.set $w (v128.load (local.get $p)))
            (local.set $lo (i32.add (i32.load offset=16 (local.get $p)) (local.get $i)))
            (local.set $hi (i32.add (i32.load offset=20 (local.get $p)) (local.get $i)))
            (local.set $a0
              (f32x4.add (local.get $a0)
                (f32x4.mul (local.get $w)
                  (f32x4.add (v128.load (local.get $lo)) (v128.load (local.get $hi))))))
            (local.set $a1
              (f32x4.add (local.get $a1)
                (f32x4.mul (local.get $w)
                  (f32x4.add (v128.load offset=16 (local.get $lo)) (v128.load offset=16 (local.get $hi))))))
            (local.set $a2
              (f32x4.add (local.get $a2)
                (f32x4.mul (local.get $w)
                  (f32x4.add (v128.load offset=32 (local.get $lo)) (v128.load offset=32 (local.get $hi))))))
            (local.set $a3
              (f32x4.add (local.get $a3)
                (f32x4.mul (local.get $w)
                  (f32x4.add (v128.load offset=48 (local.get $lo)) (v128.load offset=48 (local.get $hi))))))
            (local.set $p (i32.add (local.get $p) (i32.const 32)))
            (br $taps)))
        (v128.store (i32.add (local.get $out) (local.get $i)) (local.get $a0))
        (v128.store offset=16 (i32.add (local.get $out) (local.get $i)) (local.get $a1))
        (v128.store offset=32 (i32.add (local.get $out) (local.get $i)) (local.get $a2))
        (v128.store offset=48 (i32.add (local.get $out) (local.get $i)) (local.get $a3))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $rows)))))
