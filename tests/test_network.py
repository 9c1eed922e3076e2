"""The hidden layer of chapter 4: numpy network, unit view, training, torch twin, quantities on the line."""

import numpy as np
import pytest
import torch

import lib
from lib.checks.networks import unit_loss
from lib.instances import random_halfspace
from lib.network_line import NetworkOnLine
from lib.torch_models import BNHiddenLayer, PlainHiddenLayer, pick_device, train

THETA = np.array([1.0, 0.6, -0.4])  # the output weights of conftest.hidden_layer too


@pytest.fixture
def network(hidden_layer):
    """conftest's three units on a sample; their output weights are THETA."""
    return hidden_layer


def _assert_gradient_matches_finite_differences(network, W, h=1e-6):
    grad = network.grad(W)
    for i, j in [(0, 0), (1, 3), (network.units - 1, 4)]:
        E = np.zeros_like(W)
        E[i, j] = h
        assert abs((network.loss(W + E) - network.loss(W - E)) / (2 * h) - grad[i, j]) <= 1e-8


def test_gradient_matches_finite_differences(network, rng):
    _assert_gradient_matches_finite_differences(network, rng.standard_normal((3, network.dim)))


def test_unit_view_is_the_network_with_the_others_fixed(network, rng):
    W = rng.standard_normal((3, network.dim))
    unit = network.unit(1, W)
    evaluation = unit.evaluate(W[1])
    assert np.isclose(evaluation.loss, network.loss(W), rtol=1e-13)
    np.testing.assert_allclose(evaluation.grad, network.grad(W)[1], rtol=1e-12, atol=1e-15)
    ray, h = unit.ray(rng.standard_normal(network.dim)), 1e-6
    for g in (-2.0, 0.3, 1.5):
        assert abs(ray.derivative(g) - (ray.value(g + h) - ray.value(g - h)) / (2 * h)) <= 1e-8
        assert abs(ray.derivative(g) - ray.evaluate(g).grad @ ray.w_hat) <= 1e-13


def test_a_unit_with_the_others_off_is_the_halfspace_problem(network, rng):
    unit = network.unit(0, np.zeros((3, network.dim)))
    halfspace = lib.Halfspace.from_data(network.X, network.y, unit_loss(THETA[0]))
    w_tilde = rng.standard_normal(network.dim)
    ours, theirs = unit.evaluate(w_tilde), halfspace.evaluate(w_tilde)
    assert np.isclose(ours.loss, theirs.loss, rtol=1e-13)
    np.testing.assert_allclose(ours.grad, theirs.grad, rtol=1e-11, atol=1e-15)
    assert np.isclose(ours.c1, theirs.c1, rtol=1e-10) and np.isclose(ours.c2, theirs.c2, rtol=1e-10)
    assert np.isclose(unit.length_curvature_bound, halfspace.length_curvature_bound, rtol=1e-12)


def test_unitwise_gdnp_first_turn_is_gdnp_on_the_first_unit(network, rng):
    W0 = rng.standard_normal((3, network.dim))
    result = lib.unitwise_gdnp(network, W0, steps_per_unit=20)
    alone = lib.gdnp(network.unit(0, np.zeros((3, network.dim))), W0[0], iterations=20)
    np.testing.assert_allclose(result.trace["loss"][1:22], alone.trace["loss"], rtol=1e-12)
    assert result.trace["unit"].tolist() == [-1] + [0] * 21 + [1] * 21 + [2] * 21
    assert result.trace["unit_rho_gap"].shape == (64, 3)
    assert "time" in result.trace  # recorded for the reader's plots; its values are the machine's, never asserted


def test_network_gd_descends_with_its_default_step(network, rng):
    result = lib.network_gd(network, rng.standard_normal((3, network.dim)), iterations=200)
    assert np.all(np.diff(result.trace["loss"]) <= 1e-15)  # a step of 1/zeta never increases f
    assert result.trace["grad_norm_sq"][-1] < result.trace["grad_norm_sq"][0]


def test_torch_network_equals_numpy_to_1e_10(network, rng):
    directions, lengths = rng.standard_normal((3, network.dim)), rng.uniform(-2, 2, 3)
    model = BNHiddenLayer(directions, lengths, THETA)
    objective = torch.nn.functional.softplus(-torch.from_numpy(network.y) * model(torch.from_numpy(network.X))).mean()
    objective.backward()
    W_tilde = model.effective_weights(network.S)
    evaluation = network.evaluate(W_tilde)
    assert abs(objective.item() - evaluation.loss) <= 1e-10
    for i in range(3):
        dg, dw = lib.split_gradient(evaluation.grad[i], lengths[i], directions[i], network.S)
        assert abs(model.bn.weight.grad[i].item() - dg) <= 1e-10
        assert np.max(np.abs(model.linear.weight.grad[i].numpy() - dw)) <= 1e-10
    plain = PlainHiddenLayer(W_tilde, THETA)
    torch.nn.functional.softplus(-torch.from_numpy(network.y) * plain(torch.from_numpy(network.X))).mean().backward()
    assert np.max(np.abs(plain.W_tilde.grad.numpy() - evaluation.grad)) <= 1e-10


@pytest.mark.parametrize("optimizer, model_type", [("sgd", "bn"), ("adam", "plain")])
def test_train_records_a_trace_on_the_cpu(network, rng, optimizer, model_type):
    W = rng.standard_normal((3, network.dim))
    model = BNHiddenLayer(W, np.ones(3), THETA) if model_type == "bn" else PlainHiddenLayer(W, THETA)
    result = train(model, network, optimizer=optimizer, lr=0.05, iterations=30, device="cpu", progress=False)
    assert result.info["device"] == "cpu" and result.iterations == 30
    assert result.trace["loss"][-1] < result.trace["loss"][0]
    assert result.trace["unit_rho_gap"].shape == (31, 3)
    assert np.isclose(result.trace["loss"][-1], network.loss(result.w_tilde), rtol=1e-12)



@pytest.mark.parametrize("optimizer, lr", [("adam", 0.01), ("adam", 0.1), ("sgd", 0.3), ("sgd", 3.0)])
def test_numpy_adam_and_bn_gd_are_torchs_optimizers(network, rng, optimizer, lr):
    # torch.optim.Adam on PlainHiddenLayer and torch.optim.SGD on BNHiddenLayer (full batch) are the
    # reference, computed by another library. Both sides sum the same 3000 terms in a different
    # order (relative rounding ~1e-13 a step), and 40 steps of a map with Lipschitz constant of
    # order 1 (Adam's steps are bounded by lr entry by entry) keep that far below 1e-9.
    W = rng.standard_normal((3, network.dim))
    if optimizer == "adam":
        reference = train(PlainHiddenLayer(W, THETA), network, "adam", lr, 40, device="cpu", progress=False)
        ours = lib.network_training.network_adam(network, W, iterations=40, step=lr)
    else:
        reference = train(BNHiddenLayer(W, np.ones(3), THETA), network, "sgd", lr, 40, device="cpu", progress=False)
        ours = lib.network_training.network_bn_gd(network, W, iterations=40, step=lr)
    assert np.max(np.abs(ours.w_tilde - reference.w_tilde)) <= 1e-9 * max(1.0, np.max(np.abs(reference.w_tilde)))
    np.testing.assert_allclose(ours.trace["loss"], reference.trace["loss"], rtol=1e-9)


@pytest.mark.parametrize("name", ["network_gd", "network_adam", "network_bn_gd"])
def test_first_order_trainers_call_back_at_every_iterate(network, rng, name):
    W, seen = rng.standard_normal((3, network.dim)), []
    result = getattr(lib.network_training, name)(network, W, iterations=7, step=0.05,
                                                 callback=lambda t, W_tilde: seen.append((t, W_tilde)))
    assert [t for t, _ in seen] == list(range(8))
    assert np.array_equal(seen[-1][1], result.w_tilde)  # exact: the callback's copy of the last state is the state returned
    assert np.isclose(result.trace["loss"][3], network.loss(seen[3][1]), rtol=1e-12)
    with pytest.raises(ValueError, match="step"):
        getattr(lib.network_training, name)(network, W, iterations=7, step=-0.1)
    with pytest.raises(ValueError, match="nonzero"):
        getattr(lib.network_training, name)(network, np.zeros((3, network.dim)), iterations=7, step=0.1)

def test_pick_device_and_bad_training_arguments(network):
    assert pick_device("cpu").type == "cpu"
    assert pick_device().type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="device"):
        pick_device("quantum")
    model = PlainHiddenLayer(np.ones((3, network.dim)), THETA)
    with pytest.raises(ValueError, match="optimizer"):
        train(model, network, optimizer="lbfgs")
    with pytest.raises(TypeError, match="HiddenLayerNetwork"):
        train(model, "data")
    with pytest.raises(TypeError, match="BNHiddenLayer"):
        train(torch.nn.Linear(2, 1), network)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(theta=[1.0, 0.0]), "nonzero"),
        (dict(y=np.zeros(4)), "labels"),
        (dict(y=np.ones(3)), "one label per row"),
    ],
)
def test_network_refuses_bad_input(kwargs, words):
    arguments = dict(X=np.arange(8.0).reshape(4, 2) - 3.5, y=np.array([1.0, -1.0, 1.0, -1.0]), theta=[1.0, 0.5])
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=words):
        lib.HiddenLayerNetwork(**arguments)


def test_weights_of_the_wrong_shape_are_refused(network):
    with pytest.raises(ValueError, match="rows"):
        network.loss(np.ones((2, network.dim)))
    with pytest.raises(ValueError, match="unit index"):
        network.unit(5, np.ones((3, network.dim)))
    with pytest.raises(ValueError, match="nonzero"):
        lib.network_gd(network, np.zeros((3, network.dim)))


def test_line_quantities(rng):
    model = random_halfspace(6, 10.0, rng.uniform(0.2, 0.8), "logistic", seed=rng)
    line = NetworkOnLine(model, THETA)
    lengths = line.critical_lengths(-2.0 * np.sign(THETA))
    assert np.max(np.abs(line.length_gradient(lengths))) <= 1e-12
    assert np.min(np.linalg.eigvalsh(line.length_hessian(lengths))) > 0  # a minimum
    h = 1e-6
    fd = [(line.loss_value(lengths + h * e) - line.loss_value(lengths - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(fd, line.length_gradient(lengths), atol=1e-9)
    with pytest.raises(ArithmeticError, match="ran away"):
        line.critical_lengths(2.0 * np.sign(THETA))


# ---- the hidden layer in the Gaussian model (two-dimensional quadrature)

from lib.network_gaussian import GaussianHiddenLayer  # noqa: E402


@pytest.fixture
def population(rng):
    model = random_halfspace(5, 8.0, rng.uniform(0.2, 0.8), "logistic", seed=rng)
    return GaussianHiddenLayer(model.S, model.u, THETA[:2]), model


def test_gaussian_network_on_the_line_equals_the_one_dimensional_integrals(rng):
    model = random_halfspace(6, 10.0, rng.uniform(0.2, 0.8), "logistic", seed=rng)
    network, line = GaussianHiddenLayer(model.S, model.u, THETA), NetworkOnLine(model, THETA)
    lengths = rng.uniform(-2.5, 2.5, 3)
    W = np.outer(lengths, line.direction)
    assert abs(network.loss(W) - line.loss_value(lengths)) <= 1e-12
    np.testing.assert_allclose(network.grad(W), line.full_gradient(lengths), atol=1e-11)
    np.testing.assert_allclose(network.coupling_matrix(W), line.coupling_matrix(lengths), atol=1e-11)


def test_gaussian_network_gradient_matches_finite_differences(population, rng):
    network, _ = population
    _assert_gradient_matches_finite_differences(network, rng.standard_normal((2, network.dim)))


def test_gaussian_unit_is_the_network_with_the_partner_fixed(population, rng):
    network, _ = population
    W = rng.standard_normal((2, network.dim))
    unit = network.unit(1, W)
    evaluation = unit.evaluate(W[1])
    assert abs(evaluation.loss - network.loss(W)) <= 1e-12
    np.testing.assert_allclose(evaluation.grad, network.grad(W)[1], atol=1e-12)
    ray, h = unit.ray(rng.standard_normal(network.dim)), 1e-6
    for g in (-2.0, 0.3, 3.5):
        assert abs(ray.derivative(g) - (ray.value(g + h) - ray.value(g - h)) / (2 * h)) <= 1e-8
        assert abs(ray.derivative(g) - ray.evaluate(g).grad @ ray.w_hat) <= 1e-12
        np.testing.assert_allclose(ray.evaluate(g).grad, unit.evaluate(g * ray.w_hat).grad, atol=1e-12)


def test_gaussian_unit_with_the_partner_off_is_the_halfspace_problem(population, rng):
    network, model = population
    unit = network.unit(0, np.zeros((2, network.dim)))
    halfspace = lib.Halfspace(model.S, model.u, unit_loss(THETA[0]))
    w_tilde = rng.standard_normal(network.dim)
    ours, theirs = unit.evaluate(w_tilde), halfspace.evaluate(w_tilde)
    assert abs(ours.loss - theirs.loss) <= 1e-12
    np.testing.assert_allclose(ours.grad, theirs.grad, atol=1e-12)
    assert abs(ours.c1 - theirs.c1) <= 1e-11 and abs(ours.c2 - theirs.c2) <= 1e-11


def test_unitwise_gdnp_in_the_gaussian_model_writes_each_unit_back(population, rng):
    network, _ = population
    states = []
    result = lib.unitwise_gdnp(network, rng.standard_normal((2, network.dim)), sweeps=2, steps_per_unit=5,
                               callback=lambda unit, W: states.append((unit, W)))
    assert [unit for unit, _ in states] == [-1] + [0] * 6 + [1] * 6 + [0] * 6 + [1] * 6
    assert not np.any(states[0][1])  # every unit starts off
    np.testing.assert_array_equal(states[7][1][0], states[6][1][0])  # exact: unit 1's turn sees unit 0 as written back
    np.testing.assert_array_equal(result.w_tilde, states[-1][1])  # exact: copies of one array


def test_gaussian_network_refuses_what_it_cannot_integrate(rng):
    model = random_halfspace(5, 8.0, 0.5, "logistic", seed=rng)
    network = GaussianHiddenLayer(model.S, model.u, THETA)
    with pytest.raises(ValueError, match="at most two lines"):
        network.loss(rng.standard_normal((3, 5)))
    with pytest.raises(ValueError, match="one line"):
        network.unit(0, rng.standard_normal((3, 5)))
    with pytest.raises(ValueError, match="u\\^T S\\^-1 u < 1"):
        GaussianHiddenLayer(model.S, 0 * model.u, THETA)
