(* A small curriculum written for this project: competition-style algebra and arithmetic
   lemmas proved with the tactics the search can issue (no bullets). `prover trace` turns
   it into (goal, tactic) pairs; the tiny preset trains on it, the default preset mixes it
   with the traced Coq standard library. None of these is a miniF2F statement. *)
Require Import Reals ZArith Arith Lia Lra Psatz.
Open Scope R_scope.

Lemma c_lin1 (x : R) (h : 2 * x + 3 = 7) : x = 2.
Proof. lra. Qed.
Lemma c_lin2 : forall x y : R, x + y = 5 -> x - y = 1 -> x = 3.
Proof. intros x y h0 h1. lra. Qed.
Lemma c_lin3 : forall a b : R, a = 2 * b -> b = 4 -> a = 8.
Proof. intros a b h0 h1. subst. lra. Qed.
Lemma c_lin4 : forall x : R, 3 * x - 2 = x + 6 -> x = 4.
Proof. intros; lra. Qed.
Lemma c_lin5 : forall x y z : R, x + y + z = 6 -> x = 1 -> y = 2 -> z = 3.
Proof. intros; lra. Qed.
Lemma c_ineq1 : forall x : R, 0 < x -> x < 2 * x.
Proof. intros; lra. Qed.
Lemma c_ineq2 : forall x y : R, x <= y -> y <= x -> x = y.
Proof. intros; lra. Qed.
Lemma c_sq1 : forall x : R, 0 <= x * x.
Proof. intros; nra. Qed.
Lemma c_sq2 : forall x y : R, 2 * x * y <= x ^ 2 + y ^ 2.
Proof. intros x y. assert (h : 0 <= (x - y) ^ 2) by apply pow2_ge_0. nra. Qed.
Lemma c_sq3 (a b : R) (h0 : 0 < a) (h1 : 0 < b) : 0 < a * b.
Proof. nra. Qed.
Lemma c_field1 : forall x : R, x <> 0 -> x / x = 1.
Proof. intros; field; assumption. Qed.
Lemma c_field2 : forall x : R, x <> 0 -> 2 * x / x = 2.
Proof. intros x h. field. exact h. Qed.
Lemma c_ring1 : forall a b : R, (a + b) ^ 2 = a ^ 2 + 2 * a * b + b ^ 2.
Proof. intros; ring. Qed.
Lemma c_ring2 : forall a b : R, (a - b) * (a + b) = a ^ 2 - b ^ 2.
Proof. intros. ring. Qed.
Lemma c_conj1 : forall x y : R, x + y = 4 -> x - y = 2 -> x = 3 /\ y = 1.
Proof. intros; split; lra. Qed.
Lemma c_conj2 (x : R) (n : nat) : x + 0 = x /\ (n + 0 = n)%nat.
Proof. split. lra. lia. Qed.
Lemma c_conj3 : forall a : R, a = 1 -> a * a = 1 /\ a + a = 2.
Proof. intros a h. subst. split. ring. ring. Qed.
Lemma c_num1 : 2 + 3 = 5.
Proof. lra. Qed.
Lemma c_num2 : 12 / 4 = 3.
Proof. field. Qed.
Lemma c_num3 : (2 ^ 10 = 1024)%nat.
Proof. reflexivity. Qed.
Lemma c_num4 : (17 mod 5 = 2)%nat.
Proof. reflexivity. Qed.
Lemma c_num5 : (Z.gcd 12 18 = 6)%Z.
Proof. reflexivity. Qed.
Lemma c_num6 : (7 * 8 = 56)%Z.
Proof. compute. reflexivity. Qed.
Lemma c_nat1 : forall n : nat, (n + 0 = n)%nat.
Proof. intros; lia. Qed.
Lemma c_nat2 : forall n m : nat, (n <= m -> n < m + 1)%nat.
Proof. intros; lia. Qed.
Lemma c_nat3 : forall n : nat, (2 * n = n + n)%nat.
Proof. intros n. lia. Qed.
Lemma c_nat4 : forall n : nat, (n * n >= 0)%nat.
Proof. intros; nia. Qed.
Lemma c_nat5 : forall a b : nat, (a = 3 -> b = a + 2 -> b = 5)%nat.
Proof. intros a b h0 h1. subst. reflexivity. Qed.
Lemma c_z1 : forall x : Z, (x + 1 > x)%Z.
Proof. intros; lia. Qed.
Lemma c_z2 : forall x y : Z, (x = 2 * y -> y = 3 -> x = 6)%Z.
Proof. intros x y h0 h1. subst. reflexivity. Qed.
Lemma c_z3 : forall x : Z, (x * x >= 0)%Z.
Proof. intros; nia. Qed.
Lemma c_z4 : forall a b : Z, (a - b = 0 -> a = b)%Z.
Proof. intros; lia. Qed.
Lemma c_or1 : forall x : R, x = 1 \/ x = 2 -> x <= 2.
Proof. intros x h. destruct h as [h | h]. lra. lra. Qed.
Lemma c_or2 : forall n : nat, (n = 0 \/ n > 0)%nat.
Proof. intros; lia. Qed.
Lemma c_ex1 : exists x : R, 2 * x = 6.
Proof. exists 3. lra. Qed.
Lemma c_ex2 : exists n : nat, (n * 2 = 10)%nat.
Proof. exists 5%nat. reflexivity. Qed.
Lemma c_imp1 : forall x : R, x > 3 -> x > 1.
Proof. intros. lra. Qed.
Lemma c_abs1 : forall x : R, 0 <= x -> Rabs x = x.
Proof. intros; apply Rabs_right; lra. Qed.
Lemma c_abs2 : forall x : R, x < 0 -> Rabs x = - x.
Proof. intros; apply Rabs_left; lra. Qed.
Lemma c_sqrt1 : sqrt 4 = 2.
Proof. replace 4 with (2 * 2) by lra. apply sqrt_square. lra. Qed.
Lemma c_quad1 : forall x : R, x ^ 2 - 5 * x + 6 = 0 -> x = 2 \/ x = 3.
Proof.
  intros x h.
  assert (h2 : (x - 2) * (x - 3) = 0) by nra.
  destruct (Rmult_integral _ _ h2) as [h3 | h3].
  left. lra.
  right. lra.
Qed.
Lemma c_quad2 : forall x : R, x ^ 2 = 9 -> 0 < x -> x = 3.
Proof. intros x h0 h1. nra. Qed.
Lemma c_sys1 : forall a b : R, 3 * a + 2 * b = 12 -> a = 2 -> b = 3.
Proof. intros a b h0 h1. rewrite h1 in h0. lra. Qed.
Lemma c_unfold1 (f : R -> R) (hf : forall x, f x = 2 * x + 1) : f 3 = 7.
Proof. rewrite hf. lra. Qed.
Lemma c_unfold2 (f : R -> R) (hf : forall x, f x = x ^ 2) : f 2 + f 3 = 13.
Proof. rewrite !hf. lra. Qed.
Lemma c_unfold3 (f : nat -> nat) (hf : forall n, f n = (n + 1)%nat) : (f (f 1) = 3)%nat.
Proof. rewrite !hf. reflexivity. Qed.
