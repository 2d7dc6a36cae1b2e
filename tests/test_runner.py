import json
import os
import shlex

import numpy as np
import pytest

import reczoo
from reczoo import cli
from reczoo.training import run

ROW_KEYS = {
    "model", "dataset", "protocol", "hyperparameters", "metrics", "valid_metrics",
    "train_samples_per_sec", "infer_samples_per_sec", "epochs", "wall_seconds", "params",
    "device", "seed", "versions", "command", "dataset_sha256", "batch_size", "precision", "jit",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))


def interactions_file(tmp_path, users=30, items=130, per_user=8, seed=0):
    rng = np.random.default_rng(seed)
    lines = ["uid,sku,stars,ts"]
    for u in range(users):
        # Users prefer items near their own index, so a model can learn something.
        chosen = rng.choice(items, size=per_user, replace=False, p=_prefs(u, items))
        for t, i in enumerate(chosen):
            lines.append(f"u{u},i{i},{rng.integers(1, 6)},{1000 + t}")
    path = tmp_path / "clicks.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _tensorboard_tags(folder):
    """`{"train": tags, "validation": tags}` of the event files in `folder`."""
    import tensorflow as tf

    tags = {}
    for part in ("train", "validation"):
        found = set()
        for path in (folder / part).glob("events.out.tfevents.*"):
            for event in tf.compat.v1.train.summary_iterator(str(path)):
                found |= {value.tag for value in event.summary.value}
        tags[part] = found
    return tags


def _prefs(u, items):
    weights = np.exp(-0.3 * np.abs(np.arange(items) - (u % items)))
    return weights / weights.sum()


def test_pop_on_movielens_ncf_protocol(data_dir):
    row = run("pop", "movielens-100k", protocol="ncf", verbose=0)
    assert set(row) >= ROW_KEYS
    assert row["metrics"]["users"] == 943
    # Popularity ranks about 40% of held-out items in the top 10 of 100 here.
    assert 0.3 < row["metrics"]["hr@10"] < 0.5
    assert 0.15 < row["metrics"]["ndcg@10"] < 0.3
    assert (
        row["command"]
        == "reczoo train --model=pop --dataset=movielens-100k --protocol=ncf --seed=0"
    )
    assert row["recipe"] is None and row["settings_from"] == "defaults adapted to the data"


def test_train_command_on_own_file_saves_preset(tmp_path, capsys):
    path = interactions_file(tmp_path)
    out = tmp_path / "preset"
    code = cli.main(
        [
            "reczoo", "train", "--model=mlp", f"--data_file={path}", "--user_col=uid",
            "--item_col=sku", "--time_col=ts", "--protocol=loo_full", "--epochs=2",
            "--set=hidden_units=[16]", "--set=batch_size=64", "--set=train_negatives=2",
            f"--output={out}", "--quiet", f"--tensorboard_dir={tmp_path / 'logs'}",
        ]
    )  # fmt: skip
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    row = json.loads(lines[-1])
    assert set(row) >= ROW_KEYS
    # TensorBoard's logs: the loss and learning rate of each period, and the
    # validation metrics beside them.
    tags = _tensorboard_tags(tmp_path / "logs")
    assert {"epoch_loss", "epoch_learning_rate"} <= tags["train"]
    assert {"epoch_ndcg@10", "epoch_hr@10"} <= tags["validation"]
    assert row["dataset"] == "clicks" and row["epochs"] >= 1
    # Your own file is named by its content in the row, as every cache keys it.
    assert len(row["dataset_sha256"]) == 64
    assert row["dataset_files"]["clicks.csv"]["sha256"] == reczoo.provenance.sha256_of(path)
    assert row["dataset_files"]["clicks.csv"]["lines"] == 241
    assert row["hyperparameters"]["hidden_units"] == [16]
    assert "--set=hidden_units=[16]" in shlex.split(row["command"])
    assert "--data_file=" + str(path) in shlex.split(row["command"])
    model = reczoo.from_preset(out)
    assert model.preset_metadata["dataset"] == "clicks"
    assert model.vocabularies["user"][0] == "[PAD]"


def test_rating_regression_on_random_split(tmp_path):
    data = reczoo.datasets.load_interactions(
        interactions_file(tmp_path), user="uid", item="sku", rating="stars", time="ts"
    )
    row = run("fm", data, protocol="random_split", epochs=2, verbose=0, batch_size=64)
    assert set(row["metrics"]) == {"rmse", "mae"}
    assert row["hyperparameters"]["objective"] == "regression"


def test_a_ctr_dataset_by_name_takes_its_own_protocol():
    from reczoo.training import default_protocol

    assert default_protocol("criteo-sample") == "bars_ctr"
    assert default_protocol("clicks.csv", source="click_log") == "random_split"


# Training and scoring a CTR run is checked in the default tier on a click log
# (tests/datasets/test_click_logs.py); on the named Criteo sample here.
@pytest.mark.slow
def test_ctr_run_on_criteo_sample(data_dir):
    row = run("fm", "criteo-sample", epochs=1, verbose=0, batch_size=512, embedding_dim=4)
    assert set(row["metrics"]) == {"auc", "logloss"}
    assert row["protocol"] == "bars_ctr"


def test_bad_override_is_named(data_dir):
    with pytest.raises(TypeError, match="no setting 'hidden'"):
        run("mlp", "movielens-100k", epochs=1, verbose=0, hidden=[8])


def test_train_usage_errors(capsys):
    assert cli.main(["reczoo", "train", "--dataset=movielens-100k"]) == 1
    assert "--model is required" in capsys.readouterr().err
    assert cli.main(["reczoo", "train", "--model=pop"]) == 1
    assert "exactly one of --dataset" in capsys.readouterr().err
    assert cli.main(["reczoo", "train", "--model=pop", "--dataset=x", "--set=oops"]) == 1
    assert "KEY=VALUE" in capsys.readouterr().err


def test_training_stream_keeps_batch_order_without_tf_data_autotuning():
    # Autotuning held `fit` open for seconds after an epoch's last batch.
    from reczoo.datasets import pipelines

    features = {"a": np.arange(10, dtype="int32")}
    targets = np.arange(10, dtype="float32")

    def epoch_batches(epoch):
        return pipelines.shuffled_batches(features, targets, batch_size=4, seed=3 + epoch)

    first = next(iter(epoch_batches(1)))
    data = pipelines.stream(epoch_batches, pipelines.signature_of(*first))
    assert data.options().autotune.enabled is False
    batches = [(x["a"].numpy(), y.numpy()[:, 0]) for x, y in data.take(6)]
    assert [len(y) for _, y in batches] == [4, 4, 2, 4, 4, 2]
    for epoch, part in ((1, batches[:3]), (2, batches[3:])):
        order = np.random.default_rng(3 + epoch).permutation(10)
        np.testing.assert_array_equal(np.concatenate([x for x, _ in part]), order)
        np.testing.assert_array_equal(np.concatenate([y for _, y in part]), order)


def test_stacked_stream_gives_the_same_batches():
    # Each epoch's batches travel as at most two stacks and are sliced in tf.data.
    from reczoo.datasets import pipelines

    features = {"a": np.arange(11, dtype="int32"), "b": np.arange(22, dtype="int64").reshape(11, 2)}
    targets = np.arange(11, dtype="float32")

    def batches(epoch):
        return pipelines.shuffled_batches(features, targets, batch_size=4, seed=epoch)

    def stacks(epoch):
        return pipelines.shuffled_stacks(features, targets, batch_size=4, seed=epoch)

    first = next(iter(stacks(1)))
    data = pipelines.stream(stacks, pipelines.signature_of(*first, open_axes=2), stacked=True)
    got = [(x["a"].numpy(), x["b"].numpy(), y.numpy()) for x, y in data.take(6)]
    want = [(x["a"], x["b"], y) for epoch in (1, 2) for x, y in batches(epoch)]
    assert len(want) == 6
    for (a, b, y), (wa, wb, wy) in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, wa)
        np.testing.assert_array_equal(b, wb)
        np.testing.assert_array_equal(y, wy)


def test_stacks_of_any_size_give_the_same_batches_in_the_same_order():
    # Stacks are gathered one at a time, so the stream can draw the next one
    # (and the next epoch's negatives) while the current one trains; their
    # size must not change a batch.
    from reczoo.datasets import pipelines

    features = {"a": np.arange(46, dtype="int32"), "b": np.arange(92).reshape(46, 2)}
    targets = np.arange(46, dtype="float32")

    def flat(chunk):
        got = []
        for x, y in pipelines.shuffled_stacks(features, targets, 3, seed=7, group=2,
                                              chunk_batches=chunk):  # fmt: skip
            assert y.shape[1:] == (y.shape[1], 1) and x["b"].shape[2:] == (2,)
            got += [(x["a"][i], x["b"][i], y[i]) for i in range(len(y))]
        return got

    one, big = flat(1), flat(1000)
    assert [len(y) for _, _, y in one] == [6] * 7 + [4]
    for (a, b, y), (wa, wb, wy) in zip(one, big, strict=True):
        np.testing.assert_array_equal(a, wa)
        np.testing.assert_array_equal(b, wb)
        np.testing.assert_array_equal(y, wy)
        np.testing.assert_array_equal(y[:, 0], wa.astype("float32"))
    rows = np.concatenate([a for a, _, _ in one])
    assert sorted(rows.tolist()) == list(range(46))
    assert (rows[0::2] % 2 == 0).all() and (rows[1::2] == rows[0::2] + 1).all()


def test_an_error_out_of_fit_on_a_stream_ends_the_process(tmp_path, data_dir):
    # The error's traceback held the stream's tf.data iterator until the
    # interpreter was finalised, and freeing it then (its generator closed
    # by a tf.data thread waiting for the GIL) hung the process after the
    # error, in about half the runs of this script before the fix.
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "crash.py"
    script.write_text(
        textwrap.dedent("""
        import keras
        from reczoo import datasets
        from reczoo.training.runner import build_task
        from reczoo.training.settings import RunSettings

        data = datasets.load("movielens-100k")
        split = datasets.split(data, "ncf", seed=0)
        settings = RunSettings.build("fm", data.name, "ncf", {})
        task, plan = build_task(settings.complete(data, split), data, split)

        class Stop(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                raise ValueError("stopped on purpose")

        # Two steps an epoch: the stream's generator is still open when the
        # error is raised, as it is mid-run (a whole epoch took seconds more).
        task.fit(plan.stream(1), steps_per_epoch=2, epochs=3, verbose=0, callbacks=[Stop()])
    """)
    )
    env = {**os.environ, "RECZOO_DATA_DIR": str(data_dir)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                          timeout=90)  # fmt: skip
    assert done.returncode == 1 and "stopped on purpose" in done.stderr


def test_a_time_budget_stops_at_the_end_of_a_period_and_says_so(tmp_path, capsys):
    path = interactions_file(tmp_path)
    flags = ["reczoo", "train", "--model=mlp", f"--data_file={path}", "--user_col=uid",
             "--item_col=sku", "--time_col=ts", "--protocol=loo_full", "--epochs=200",
             "--set=hidden_units=[8]",
             "--set=batch_size=64", "--quiet"]  # fmt: skip
    # A budget shorter than one period: the run stops after its first.
    assert cli.main([*flags, "--max_minutes=0.0001"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["epochs"] == 1 and row["max_epochs"] == 200
    assert row["stopped_by"] == "time budget"
    assert row["hyperparameters"]["max_minutes"] == 0.0001
    assert "--set=max_minutes=0.0001" in shlex.split(row["command"])
    # A run that trains every epoch asked for was stopped by nothing.
    full = run("mlp", reczoo.datasets.load_interactions(path, user="uid", item="sku", time="ts"),
               "loo_full", epochs=2, verbose=0, batch_size=64, hidden_units=[8], max_minutes=60)  # fmt: skip
    assert full["epochs"] == 2 and full["stopped_by"] is None
    # Nor is a run whose budget runs out with its last epoch.
    last = run("mlp", full.data, "loo_full", epochs=1, verbose=0, batch_size=64, max_minutes=1e-4)
    assert last["epochs"] == 1 and last["stopped_by"] is None
    with pytest.raises(ValueError, match="max_minutes` must be a positive number"):
        run("mlp", "movielens-100k", max_minutes=0)
    assert cli.main([*flags, "--max_minutes=1", "--set=max_minutes=2"]) == 1
    assert "Give --max_minutes or --set=max_minutes=N, not both" in capsys.readouterr().err


def test_short_runs_train_op_by_op_and_long_or_asked_ones_compile(tmp_path, monkeypatch):
    # GMF compiles with XLA by default; a run too short for the compilation
    # to pay off trains op by op, and its row says so.
    from reczoo.training import loop

    data = reczoo.datasets.load_interactions(interactions_file(tmp_path), user="uid", item="sku",
                                             time="ts")  # fmt: skip
    settings = {"epochs": 2, "verbose": 0, "batch_size": 64}
    short = run("gmf", data, "loo_full", **settings)
    assert short["steps"] < loop.XLA_MIN_STEPS
    assert short["jit"] is False and short.model.jit_compile is False
    # A `jit_compile` the user sets is kept, and recorded in the command.
    asked = run("gmf", data, "loo_full", jit_compile=True, **settings)
    assert asked["jit"] is True and "--set=jit_compile=true" in shlex.split(asked["command"])
    # A run of XLA_MIN_STEPS steps or more keeps the model's default.
    monkeypatch.setattr(loop, "XLA_MIN_STEPS", short["steps"])
    long = run("gmf", data, "loo_full", **settings)
    assert long["jit"] is True and "jit_compile" not in long["command"]
    # How the steps run, not what they compute.
    for name, value in short["metrics"].items():
        assert long["metrics"][name] == pytest.approx(value, abs=1e-5), name


def test_dense_rankers_compile_on_a_cpu_with_avx2_and_without_avx512(tmp_path, monkeypatch):
    # DeepFM trains op by op by default; on an AVX2 CPU without AVX-512 a
    # run long enough compiles with XLA (loop.XLA_ON_AVX2), and its row says so.
    from reczoo import provenance
    from reczoo.training import loop

    data = reczoo.datasets.load_interactions(interactions_file(tmp_path), user="uid", item="sku",
                                             time="ts")  # fmt: skip
    settings = {"epochs": 1, "verbose": 0, "batch_size": 64, "hidden_units": [8]}
    cpus = {"avx512": {"avx2", "avx512f"}, "avx2": {"avx2"}, "arm": {"asimd"}}
    monkeypatch.setattr(provenance, "cpu_flags", lambda: cpus["avx2"])
    short = run("deepfm", data, "loo_full", **settings)
    assert short["jit"] is False  # fewer than XLA_MIN_STEPS steps
    monkeypatch.setattr(loop, "XLA_MIN_STEPS", short["steps"])
    assert loop.compiles_by_default("deepfm", short["steps"])
    assert not loop.compiles_by_default("sasrec", short["steps"])  # not measured
    assert not loop.compiles_by_default("fm", short["steps"])  # measured: compiling costs more
    assert all(reczoo.model_info(n).kind == "ranking" for n in loop.XLA_ON_AVX2)
    for cpu in ("avx512", "arm"):
        monkeypatch.setattr(provenance, "cpu_flags", lambda cpu=cpu: cpus[cpu])
        assert not loop.compiles_by_default("deepfm", short["steps"]), cpu
    monkeypatch.setattr(provenance, "cpu_flags", lambda: cpus["avx2"])
    long = run("deepfm", data, "loo_full", **settings)
    assert long["jit"] is True and "jit_compile" not in long["command"]
    # A `jit_compile` the user sets is kept.
    off = run("deepfm", data, "loo_full", jit_compile=False, **settings)
    assert off["jit"] is False
    for name, value in short["metrics"].items():
        assert long["metrics"][name] == pytest.approx(value, abs=1e-4), name


def test_several_steps_per_call_train_exactly_as_one_at_a_time(tmp_path):
    from reczoo.training.loop import execution_steps

    # The largest divisor up to 32: a call never crosses a period's end.
    assert [execution_steps(n) for n in (1, 7, 64, 1534, 1917, 97)] == [1, 7, 32, 26, 27, 1]
    data = reczoo.datasets.load_interactions(
        interactions_file(tmp_path, users=60, per_user=12), user="uid", item="sku", time="ts"
    )
    rows = [
        run(
            "mlp",
            data,
            "loo_full",
            epochs=2,
            verbose=0,
            batch_size=16,
            hidden_units=[8],
            dropout=0.2,
            **extra,
        )
        for extra in ({"steps_per_execution": 1}, {})
    ]
    assert rows[0]["steps"] == rows[1]["steps"] == rows[1].model.optimizer.iterations.numpy()
    untimed = [[{k: v for k, v in h.items() if k != "train_seconds"} for h in r["history"]]
               for r in rows]  # fmt: skip
    assert untimed[0] == untimed[1] and rows[0]["metrics"] == rows[1]["metrics"]
    # Each evaluation records the training time so far (time to accuracy).
    seconds = [h["train_seconds"] for h in rows[1]["history"]]
    assert 0 < seconds[0] < seconds[1]
    assert rows[1].model.steps_per_execution == 1  # the preset keeps Keras' default


def test_adaptive_defaults_budget_their_time_by_the_data(tmp_path, capsys):
    from reczoo.training.settings import default_max_minutes

    assert [default_max_minutes(n) for n in (1_000, 100_000, 1_000_000)] == [4.0, 4.0, 20.0]
    data = reczoo.datasets.load_interactions(
        interactions_file(tmp_path), user="uid", item="sku", time="ts"
    )
    row = run("mlp", data, "loo_full", verbose=0, hidden_units=[8], max_evaluations=2)
    assert row["recipe"] is None and row["hyperparameters"]["max_minutes"] == 4.0
    # Epochs asked for, or a budget given: that, and no other.
    assert "max_minutes" not in run("mlp", data, "loo_full", epochs=1, verbose=0)["hyperparameters"]
    given = run("mlp", data, "loo_full", verbose=0, max_evaluations=1, max_minutes=0.5)
    assert given["hyperparameters"]["max_minutes"] == 0.5
    path = interactions_file(tmp_path)
    flags = ["reczoo", "train", "--model=pop", f"--data_file={path}", "--user_col=uid",
             "--item_col=sku", "--protocol=loo_full"]  # fmt: skip
    assert cli.main(flags) == 0
    assert "Training stops after 4 minutes, or a minute per 50,000 rows" in capsys.readouterr().out


def test_evaluation_keeps_to_its_share_of_the_time(tmp_path):
    from reczoo.training.loop import Evaluation, Timer

    timer = Timer()
    evaluation = Evaluation(plan=None, steps_per_period=10, timer=timer, share=0.25)
    evaluation.params = {"epochs": 10}
    assert evaluation.due(0)  # the first period: nothing measured yet
    # 2 s per evaluation, 1 s of training per period: evaluate when the
    # evaluations so far and this one stay within a quarter of the time.
    evaluation._last, evaluation.seconds = 2.0, 2.0
    timer.seconds = 5.0  # (2 + 2) * 0.75 = 3 > 0.25 * 5
    assert not evaluation.due(4)
    timer.seconds = 12.0  # 3 <= 3
    assert evaluation.due(4)
    timer.seconds = 1.0
    assert evaluation.due(9)  # the last period always
    assert Evaluation(None, 10, timer=timer).due(4)  # no share: every period
    # A default run records its share; epochs asked for evaluate every one.
    data = reczoo.datasets.load_interactions(
        interactions_file(tmp_path), user="uid", item="sku", time="ts"
    )
    with pytest.raises(ValueError, match=r"`eval_share` must be a number in \(0, 1\]"):
        run("mlp", data, "loo_full", eval_share=0)
    row = run("mlp", data, "loo_full", verbose=0, hidden_units=[8], max_evaluations=2)
    assert row["hyperparameters"]["eval_share"] == 0.25
    assert "eval_share" not in run("mlp", data, "loo_full", epochs=1, verbose=0)["hyperparameters"]


def test_weight_averages_are_what_is_scored_and_kept(tmp_path):
    # With `use_ema` the optimizer's moving averages are swapped in before
    # each evaluation: at momentum 0 the averages are the weights themselves
    # (the run is the plain one, exactly), at 0.9 they are not.
    data = reczoo.datasets.load_interactions(
        interactions_file(tmp_path, users=60, per_user=12), user="uid", item="sku", time="ts"
    )

    def adam(**config):
        return {"class_name": "Adam", "config": {"learning_rate": 0.01, **config}}

    rows = [
        run("gmf", data, "loo_full", epochs=3, verbose=0, batch_size=16, optimizer=optimizer)
        for optimizer in (adam(), adam(use_ema=True, ema_momentum=0.0),
                          adam(use_ema=True, ema_momentum=0.9))
    ]  # fmt: skip
    metrics = [[h["ndcg@10"] for h in r["history"]] for r in rows]
    assert metrics[0] == metrics[1] and rows[0]["metrics"] == rows[1]["metrics"]
    assert metrics[2] != metrics[0]
    weights = [r.model.get_weights() for r in rows]
    assert all(np.array_equal(a, b) for a, b in zip(weights[0], weights[1], strict=True))
    assert not all(np.allclose(a, b) for a, b in zip(weights[0], weights[2], strict=True))
