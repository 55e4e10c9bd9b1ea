"""The DMN memory on tiny hand-checkable cases: 2-4 slots, 2-D keys."""

from __future__ import annotations

import math

import pytest
import torch

from pipeline.nets.memory import INIT_HIST, Memory

E = math.e


def make(keys, values, hist, ages=None, top_k=2, **kw) -> Memory:
    m = Memory(len(keys), 2, top_k, **kw)
    m.keys.copy_(torch.tensor(keys, dtype=torch.float32))
    m.values.copy_(torch.tensor(values, dtype=torch.float32))
    m.hist.copy_(torch.tensor(hist, dtype=torch.float32))
    if ages is not None:
        m.ages.copy_(torch.tensor(ages, dtype=torch.float32))
    return m


def unit(v):
    n = math.hypot(*v)
    return [v[0] / n, v[1] / n]


def test_initial_state_follows_the_code():
    m = Memory(4, 2, 2)
    assert torch.equal(m.keys, torch.zeros(4, 2))
    assert m.values.tolist() == [1, 1, 0, 0]
    assert m.ages.tolist() == [0, 0, 0, 0]
    assert torch.allclose(m.hist, torch.full((4,), INIT_HIST))


def test_posterior_and_output_eq_1_to_4():
    # joint h_i exp(K_i.q) for q = (1, 0): [e, 2, 1/e]
    m = make([[1, 0], [0, 1], [-1, 0]], [1, 0, 1], [1, 2, 1], top_k=2, beta=1e-12)
    q = torch.tensor([[1.0, 0.0]])
    idx, post = m.posterior_topk(q)
    assert idx[0].tolist() == [0, 1]
    assert post[0].tolist() == pytest.approx([E / (E + 2), 2 / (E + 2)], rel=1e-5)
    assert m(q).item() == pytest.approx(E / (E + 2), rel=1e-5)
    # prior (h + beta) / sum
    assert m.prior().tolist() == pytest.approx([0.25, 0.5, 0.25], rel=1e-5)
    # all three slots: D = (e + 1/e) / (e + 2 + 1/e)
    m3 = make([[1, 0], [0, 1], [-1, 0]], [1, 0, 1], [1, 2, 1], top_k=3, beta=1e-12)
    assert m3(q).item() == pytest.approx((E + 1 / E) / (E + 2 + 1 / E), rel=1e-5)


def test_read_all_is_eq_2_and_keeps_a_gradient_where_the_top_k_read_has_none():
    # q = (1, 0): its top-2 slots (0 and 1) are both fake, so Eq. 3 gives D = 0 exactly
    keys, values, hist = [[1, 0], [0.8, 0.6], [-1, 0], [0, -1]], [0, 0, 1, 1], [1, 1, 1, 1]
    q = torch.tensor([[1.0, 0.0]], requires_grad=True)
    top = make(keys, values, hist, top_k=2, beta=1e-12)
    assert top(q).item() == 0.0
    assert torch.autograd.grad(top(q).sum(), q)[0].abs().sum() == 0
    full = make(keys, values, hist, top_k=2, beta=1e-12, read_all=True)
    joint = [E, math.exp(0.8), 1 / E, 1.0]
    assert full(q).item() == pytest.approx((joint[2] + joint[3]) / sum(joint), rel=1e-5)
    assert torch.autograd.grad(full(q).sum(), q)[0].abs().sum() > 0


def test_kappa_scales_the_likelihood():
    m = make([[1, 0], [0, 1]], [1, 0], [1, 1], top_k=2, kappa=3.0, beta=1e-12)
    d = m(torch.tensor([[1.0, 0.0]])).item()
    assert d == pytest.approx(math.exp(3) / (math.exp(3) + 1), rel=1e-5)


def test_output_gradient_flows_into_the_query_only():
    m = make([[1, 0], [0, 1], [-1, 0]], [1, 0, 1], [1, 2, 1], top_k=3, beta=1e-12)
    q = torch.tensor([[0.6, 0.8]], requires_grad=True)
    d = m(q)
    d.backward()
    with torch.no_grad():
        w = m.hist * torch.exp(m.keys @ q[0])
        post = w / w.sum()
        expected = (post[:, None] * (m.values - d)[:, None] * m.keys).sum(
            0
        )  # dD/dq = Σ p_i (v_i - D) K_i
    assert torch.allclose(q.grad[0], expected, atol=1e-6)
    assert not m.keys.requires_grad


def _em_step(keys, hist, q, sel, alpha, iters, form):
    """Eq. 5 written out for one query on slots ``sel``."""
    keys = [list(k) for k in keys]
    h_hat = {i: alpha * hist[i] for i in sel}
    prev = {i: 0.0 for i in sel}
    for _ in range(iters):
        w = {i: h_hat[i] * math.exp(keys[i][0] * q[0] + keys[i][1] * q[1]) for i in sel}
        gamma = {i: w[i] / sum(w.values()) for i in sel}
        total = sum(gamma[i] - prev[i] for i in sel)
        for i in sel:
            delta = gamma[i] - prev[i]
            h_hat[i] += delta if form == "paper" else total
            r = delta / h_hat[i]
            keys[i] = unit(
                [keys[i][0] + r * (q[0] - keys[i][0]), keys[i][1] + r * (q[1] - keys[i][1])]
            )
        prev = gamma
    return keys, h_hat


@pytest.mark.parametrize("form", ["paper", "code"])
@pytest.mark.parametrize("iters", [1, 2])
def test_one_em_step_eq_5(form, iters):
    keys = [[1, 0], [0, 1], [-1, 0]]
    m = make(
        keys,
        [1, 1, 0],
        [1, 3, 2],
        ages=[4, 2, 7],
        top_k=2,
        alpha=0.5,
        beta=1e-12,
        em_iters=iters,
        em_form=form,
    )
    q = [0.6, 0.8]
    rate = m.update(torch.tensor([q]), torch.tensor([1.0]))
    assert rate.item() == 0.0
    exp_keys, exp_h = _em_step(keys, [1, 3, 2], q, [0, 1], 0.5, iters, form)
    assert m.keys[:2].tolist() == [pytest.approx(k, abs=1e-6) for k in exp_keys[:2]]
    assert m.keys[2].tolist() == [-1, 0]  # the fake slot is not in the same-label top-k
    assert m.hist.tolist() == pytest.approx([exp_h[0], exp_h[1], 2.0], rel=1e-5)
    assert m.ages.tolist() == [0, 0, 8]  # touched slots reset, the other ages
    assert torch.allclose(m.keys[:2].norm(dim=1), torch.ones(2))


def test_paper_form_keeps_the_histogram_per_slot():
    # T = 1: h_i = alpha h_i + gamma_i, so the two updated slots add up to alpha (h_0 + h_1) + 1
    m = make([[1, 0], [0, 1], [-1, 0]], [1, 1, 0], [1, 3, 2], top_k=2, alpha=0.5)
    m.update(torch.tensor([[0.6, 0.8]]), torch.tensor([1.0]))
    assert m.hist[:2].sum().item() == pytest.approx(0.5 * 4 + 1, rel=1e-6)


def test_replacement_writes_the_oldest_slot():
    # q's nearest slot (slot 1: log 4 + 0.1 > 0 + 0.995) is real but q is fake:
    # replace the oldest slot (slot 1, age 5)
    m = make([[1, 0], [0, 1], [-1, 0]], [1, 1, 0], [1, 4, 1], ages=[3, 5, 1], top_k=2)
    q = unit([1, 0.1])
    rate = m.update(torch.tensor([q]), torch.tensor([0.0]))
    assert rate.item() == 1.0
    assert m.keys[1].tolist() == pytest.approx(q, abs=1e-7)
    assert m.values.tolist() == [1, 0, 0]
    assert m.hist.tolist() == pytest.approx([1, 2, 1], rel=1e-6)  # mean(h) = 2 written into slot 1
    assert m.ages.tolist() == [4, 0, 2]
    assert m.keys[0].tolist() == [1, 0] and m.keys[2].tolist() == [-1, 0]


def test_correct_in_top_widens_the_check():
    # nearest slot is real, second nearest fake: a fake query is kept with correct_in_top = 2
    keys, values, hist = [[1, 0], [0.8, 0.6], [-1, 0]], [1, 0, 1], [1, 1, 1]
    q = torch.tensor([[1.0, 0.0]])
    strict = make(keys, values, hist, top_k=2, correct_in_top=1)
    loose = make(keys, values, hist, top_k=2, correct_in_top=2)
    assert strict.update(q, torch.tensor([0.0])).item() == 1.0
    assert loose.update(q, torch.tensor([0.0])).item() == 0.0
    assert loose.values.tolist() == [1, 0, 1]


def test_ageing_counts_batches():
    m = make([[1, 0], [0, 1], [-1, 0], [0, -1]], [1, 1, 0, 0], [1, 1, 1, 1], top_k=2)
    q = torch.tensor([[0.6, 0.8]])
    m.update(q, torch.tensor([1.0]))
    m.update(q, torch.tensor([1.0]))
    assert m.ages.tolist() == [0, 0, 2, 2]


def test_batch_of_identical_queries_equals_one_query():
    args = ([[1, 0], [0, 1], [-1, 0], [0, -1]], [1, 1, 0, 0], [1, 3, 2, 1])
    one, two = make(*args, top_k=2), make(*args, top_k=2)
    q = torch.tensor([[0.6, 0.8]])
    one.update(q, torch.tensor([1.0]))
    two.update(q.repeat(2, 1), torch.tensor([1.0, 1.0]))
    assert torch.allclose(one.keys, two.keys) and torch.allclose(one.hist, two.hist)


def test_shared_slot_takes_the_mean_of_the_single_query_results():
    args = ([[1, 0], [0, 1], [-1, 0], [0, -1]], [1, 1, 0, 0], [1, 1, 1, 1])
    qa, qb = torch.tensor([unit([0.9, 0.3])]), torch.tensor([unit([0.3, 0.9])])
    a, b, both = make(*args), make(*args), make(*args)
    a.update(qa, torch.tensor([1.0]))
    b.update(qb, torch.tensor([1.0]))
    both.update(torch.cat([qa, qb]), torch.tensor([1.0, 1.0]))
    for i in (0, 1):  # both queries select the two real slots
        assert both.hist[i].item() == pytest.approx((a.hist[i] + b.hist[i]).item() / 2, rel=1e-6)
        mean_key = torch.nn.functional.normalize(a.keys[i] + b.keys[i], dim=0)
        assert torch.allclose(both.keys[i], mean_key, atol=1e-6)


def test_replacements_in_one_batch_take_distinct_untouched_oldest_slots():
    # slot 0 (real, oldest) is updated by the real query, so the two fake queries that land
    # on real slots go to the next oldest slots 2 and 3, in batch order
    m = make(
        [[1, 0], [0, 1], [-1, 0], [0, -1]],
        [1, 1, 0, 0],
        [1, 1, 1e-3, 1e-3],
        ages=[9, 1, 5, 7],
        top_k=1,
    )
    q = torch.tensor([[1.0, 0.0], unit([0.2, 1.0]), unit([1.0, 0.2])])
    rate = m.update(q, torch.tensor([1.0, 0.0, 0.0]))
    assert rate.item() == pytest.approx(2 / 3)
    assert m.keys[3].tolist() == pytest.approx(q[1].tolist(), abs=1e-7)
    assert m.keys[2].tolist() == pytest.approx(q[2].tolist(), abs=1e-7)
    assert m.values.tolist() == [1, 1, 0, 0]
    assert m.ages.tolist() == [0, 2, 0, 0]


def test_lifelong_update_of_the_minus_em_ablation():
    m = make(
        [[1, 0], [0, 1], [-1, 0]], [1, 1, 0], [1, 3, 2], ages=[1, 1, 1], top_k=2, rule="lifelong"
    )
    q = [0.6, 0.8]
    m.update(torch.tensor([q]), torch.tensor([1.0]))
    # nearest same-label slot by h exp(K.q): slot 1 (3 e^0.8 > e^0.6); K_1 <- normalise(K_1 + q)
    assert m.keys[1].tolist() == pytest.approx(unit([0.6, 1.8]), abs=1e-6)
    assert m.keys[0].tolist() == [1, 0]
    assert m.hist.tolist() == pytest.approx([1, 3, 2])
    assert m.ages.tolist() == [2, 0, 2]


def test_unwritten_zero_keys_take_the_first_query():
    m = Memory(4, 2, 2)
    m.hist[0] = 2 * INIT_HIST  # break the tie: the nearest slot is real
    q = torch.tensor([[0.6, 0.8]])
    m.update(q, torch.tensor([1.0]))
    written = m.ages == 0
    assert written.sum() == 2
    assert torch.allclose(m.keys[written], q.expand(2, 2))


def test_sampling_follows_h_times_v():
    m = make([[1, 0], [0, 1], [-1, 0], [0, -1]], [1, 1, 0, 1], [1, 3, 5, 0], top_k=2)
    c = m.sample(20000, torch.Generator().manual_seed(0))
    counts = torch.bincount(c, minlength=4).float() / len(c)
    assert counts[2] == 0 and counts[3] == 0  # fake slot, empty slot
    assert counts[0].item() == pytest.approx(0.25, abs=0.015)


def test_rejects_inconsistent_sizes():
    with pytest.raises(ValueError):
        Memory(4, 2, 8)
    with pytest.raises(ValueError):
        Memory(4, 2, 2, correct_in_top=3)
