"""lib.bngd and lib.torch_models.deep, the tools of chapter 5."""

import numpy as np
import pytest
import torch

import lib
from lib.instances import random_least_squares
from lib.torch_models.deep import mlp, scale_invariant_parameters, smoothness_along_gradient, train_classifier


def test_bngd_converges_where_gd_diverges(rng):
    problem = random_least_squares(10, 30.0, seed=rng)
    w0 = rng.standard_normal(10)
    with pytest.raises(lib.DivergenceError):
        lib.gd(problem, w0, iterations=2000, step=10.0 / problem.L)
    result = lib.bngd(problem, w0, iterations=3000, direction_step=1e3 / problem.L)
    assert result.trace["loss_gap"][-1] <= 1e-8 * result.trace["loss_gap"][0]
    norms = result.trace["direction_norm_sq"]
    assert np.all(np.diff(norms) >= -1e-12 * norms[:-1])  # ||w|| never falls (lemma lem-orthogonal)
    np.testing.assert_allclose(result.trace["effective_step"], 1e3 / problem.L / norms, rtol=1e-12)


def test_bngd_refuses_bad_input(least_squares):
    with pytest.raises(ValueError, match="nonzero"):
        lib.bngd(least_squares, np.zeros(least_squares.dim))
    with pytest.raises(ValueError, match="positive"):
        lib.bngd(least_squares, np.ones(least_squares.dim), direction_step=0.0)
    with pytest.raises(ValueError, match="finite"):
        lib.bngd(least_squares, np.ones(least_squares.dim), g0=np.inf)


@pytest.fixture
def digits_like(rng):
    X = rng.standard_normal((120, 8))
    y = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 0).astype(int)
    return X, y


def test_mlp_layers_and_scale_invariance(digits_like):
    X, y = digits_like
    with_bn = mlp(8, [6, 6], 4, batch_norm=True, seed=1, eps=1e-300)  # eps negligible: exact invariance
    without_bn = mlp(8, [6, 6], 4, batch_norm=False, seed=1)
    assert len(scale_invariant_parameters(with_bn)) == 2 and scale_invariant_parameters(without_bn) == []
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    before = torch.nn.functional.cross_entropy(with_bn(X_t), y_t).item()
    with torch.no_grad():
        with_bn[0].weight[2] *= 7.5  # scale one hidden unit's weights
    assert abs(torch.nn.functional.cross_entropy(with_bn(X_t), y_t).item() - before) <= 1e-12


def test_train_classifier_records_and_reports_divergence(digits_like):
    X, y = digits_like
    run = train_classifier(mlp(8, [6, 6], 4, batch_norm=True), X, y, lr=0.1, invariant_lr=10.0, iterations=20, progress=False)
    assert run.diverged_at is None and run.trace["loss"].shape == (21,)
    assert run.trace["layer_grad_norms"].shape == (21, 3) and run.trace["loss"][-1] < run.trace["loss"][0]
    blown = train_classifier(mlp(8, [6, 6], 4, batch_norm=False, activation="relu"), X, y, lr=1e200, iterations=20,
                             progress=False)
    assert blown.diverged_at is not None and np.all(np.isfinite(blown.trace["loss"]))
    assert len(blown.trace["loss"]) == blown.diverged_at


def test_smoothness_probe_restores_the_parameters(digits_like):
    X, y = digits_like
    model = mlp(8, [6], 4, batch_norm=True)
    before = [p.detach().clone() for p in model.parameters()]
    probe = smoothness_along_gradient(model, X, y, [1e-3, 1e-1])
    assert probe["gradient_change"].shape == (2,) and probe["gradient_norm"] > 0
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    # for a tiny step the curvature estimate is finite and positive
    assert 0 < probe["gradient_change"][0] / (1e-3 * probe["gradient_norm"]) < 1e3


def test_classifier_refuses_bad_labels_and_activation(digits_like):
    X, _ = digits_like
    with pytest.raises(ValueError, match="class indices"):
        train_classifier(mlp(8, [6], 4, batch_norm=False), X, np.full(len(X), -1.0), lr=0.1, iterations=2)
    with pytest.raises(ValueError, match="activation"):
        mlp(8, [6], 4, batch_norm=False, activation="sine")


def test_xavier_initialization_and_hidden_weights():
    from lib.torch_models.deep import hidden_weights

    wide = mlp(200, [300, 300], 4, batch_norm=False, seed=0, init="xavier")
    first = wide[0].weight.detach().numpy()
    # Glorot's uniform rule with tanh's gain 5/3: variance gain^2 * 2 / (fan_in + fan_out); 60 000 entries estimate
    # it to a relative standard error of about sqrt(0.8 / 60 000) ~ 0.004 (uniform: var of x^2 is 0.8 var^2)
    assert abs(first.var() / ((5 / 3) ** 2 * 2 / 500) - 1) < 0.02
    assert not wide[0].bias.detach().numpy().any()
    default = mlp(200, [300, 300], 4, batch_norm=False, seed=0)
    assert abs(default[0].weight.detach().numpy().var() * 3 * 200 - 1) < 0.02  # torch: uniform on +-1/sqrt(fan-in)
    with_bn = mlp(8, [6, 6], 4, batch_norm=True)
    assert [id(p) for p in hidden_weights(with_bn)] == [id(p) for p in scale_invariant_parameters(with_bn)]
    without_bn = mlp(8, [6, 6], 4, batch_norm=False)
    assert [id(p) for p in hidden_weights(without_bn)] == [id(without_bn[0].weight), id(without_bn[2].weight)]
    with pytest.raises(ValueError, match="init"):
        mlp(8, [6], 4, batch_norm=False, init="he")


def test_hidden_lr_steps_only_the_hidden_weights(digits_like):
    X, y = digits_like
    model = mlp(8, [6, 6], 4, batch_norm=False, seed=2)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y))
    grads = dict(zip(before, torch.autograd.grad(loss, list(model.parameters()))))
    train_classifier(model, X, y, lr=0.1, hidden_lr=5.0, iterations=1, progress=False)
    for name, p in model.named_parameters():
        step = 5.0 if name in ("0.weight", "2.weight") else 0.1  # the hidden weights, and everything else
        # one SGD step: exact up to the rounding of p - step * grad (a few ulps of p)
        torch.testing.assert_close(p.detach(), before[name] - step * grads[name], rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="not both"):
        train_classifier(model, X, y, lr=0.1, hidden_lr=1.0, invariant_lr=1.0, iterations=1, progress=False)


def test_evaluate_classifier_with_population_statistics(digits_like):
    from lib.torch_models.deep import evaluate_classifier

    X, y = digits_like
    model = mlp(8, [6], 4, batch_norm=True, seed=3)
    train_classifier(model, X, y, lr=0.1, iterations=5, progress=False)
    running = model[1].running_mean.clone()
    loss, accuracy = evaluate_classifier(model, X, y, statistics_from=X)
    assert torch.equal(model[1].running_mean, running) and model.training  # the model is not changed
    with torch.no_grad():
        logits = model(torch.from_numpy(X))  # training mode: the statistics of X itself
    batch_loss = float(torch.nn.functional.cross_entropy(logits, torch.from_numpy(y)))
    # the evaluation uses the unbiased variance, n/(n-1) times the batch's: each normalized input moves by a
    # relative 1/(2(n-1)) ~ 0.004 for n = 120, so the loss by about that much times its logit sensitivity (< 10)
    assert abs(loss - batch_loss) < 10 / (2 * (len(X) - 1))
    assert 0.0 <= accuracy <= 1.0
    stale = evaluate_classifier(model, X, y)  # the running statistics, averaged over old weights
    assert abs(stale[0] - loss) > 1e-6
