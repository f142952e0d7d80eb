"""The command line: `train` on every built-in data set (quick runs), checkpoints that resume to
the very same weights after Ctrl-C, `evaluate` / `predict` / `explain`, and the short errors."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend
from minigrad.cli import main
from minigrad.cli import train as train_cmd
from minigrad.data import LECTURE_O, LECTURE_X, DataLoader, fashion_mnist

ROOT = Path(__file__).resolve().parent.parent
PICTURES = ("curves.png", "filters.png", "feature_maps.png", "confusion.png")
HAVE_FASHION = any(
    (fashion_mnist.DEFAULT_ROOT / f"{stem}{ext}").is_file()
    for stem in fashion_mnist.FILES[True][:1]
    for ext in (".gz", "")
)
needs_fashion = pytest.mark.skipif(
    not HAVE_FASHION,
    reason=f"Fashion-MNIST files not in {fashion_mnist.DEFAULT_ROOT} "
    "(apt-get install dataset-fashion-mnist; CI's .ci/run installs it)",
)


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def history(out_dir: Path) -> list[dict]:
    return mg.load(out_dir / "checkpoint.mg")["history"]


def assert_png(path: Path) -> None:
    from matplotlib.image import imread

    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")
    img = imread(path)
    assert img.shape[:2] == (height, width) and img.shape[2] in (3, 4)
    assert width >= 300 and height >= 150
    assert img[..., :3].std() > 0.05  # something is drawn


def python_env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("MINIGRAD_FAKE_CUDA", None)
    return env


# ---------------------------------------------------------------- training


# `epoch 3/5  loss 0.0412  train 98.70%  test 99.40% (loss 0.0213)  1520 img/s`
EPOCH_LINE = re.compile(
    r"^epoch (\d+)/(\d+)  loss (\d+\.\d{4})  train (\d+\.\d{2})%  "
    r"test (\d+\.\d{2})% \(loss (\d+\.\d{4})\)  (\d+) img/s$"
)


def test_default_train_learns_x_or_o_and_writes_checkpoint_and_pictures(tmp_path, capsys):
    code, out, err = cli(capsys, "train", "--out", tmp_path)
    assert code == 0, err
    final = re.search(r"final test accuracy ([\d.]+)% \((\d+)/(\d+)\)", out)
    assert final and float(final.group(1)) >= 99.0 and final.group(3) == "1000"
    assert "\n5 epochs, adam lr 0.01 (cosine), batch 50, seed 0, device cpu;" in out
    assert "after 5 epochs; checkpoint:" in out
    h = history(tmp_path)
    assert [e["epoch"] for e in h] == [1, 2, 3, 4, 5]
    assert h[-1]["train_loss"] < h[0]["train_loss"] and h[-1]["test_acc"] >= 0.99
    # one summary line per epoch: every field in its format, and what the checkpoint recorded
    rows = [EPOCH_LINE.match(line) for line in out.splitlines() if line.startswith("epoch ")]
    assert len(rows) == 5 and all(rows), out
    for row, entry in zip(rows, h):
        epoch, epochs, loss, train, test, test_loss, speed = row.groups()
        assert (int(epoch), int(epochs)) == (entry["epoch"], 5)
        assert float(loss) == pytest.approx(entry["train_loss"], abs=5e-5)
        assert float(train) == pytest.approx(100 * entry["train_acc"], abs=5e-3)
        assert float(test) == pytest.approx(100 * entry["test_acc"], abs=5e-3)
        assert float(test_loss) == pytest.approx(entry["test_loss"], abs=5e-5)
        assert int(speed) == round(entry["images_per_s"]) and int(speed) > 0
        assert 0 <= float(train) <= 100 and 0 <= float(test) <= 100
        assert 0 < float(loss) < np.log(2) and 0 < float(test_loss) < np.log(2)  # 2 classes
        # 1000 test samples: an accuracy is a whole number of them
        assert abs(float(test) * 10 - round(float(test) * 10)) < 1e-6
    for name in PICTURES:
        assert_png(tmp_path / name)


@pytest.mark.parametrize(
    "data, limit, epochs, at_least",
    [
        ("digits", 600, 1, 0.35),
        ("mnist1d", 1000, 3, 0.30),
        pytest.param("fashion-mnist", 600, 1, 0.40, marks=needs_fashion),
    ],
)
def test_quick_train_on_each_data_set_beats_chance(tmp_path, capsys, data, limit, epochs, at_least):
    code, out, err = cli(
        capsys, "train", "--data", data, "--limit", limit, "--epochs", epochs,
        "--out", tmp_path, "--no-pictures",
    )  # fmt: skip
    assert code == 0, err
    ckpt = mg.load(tmp_path / "checkpoint.mg")
    h = ckpt["history"]
    assert len(h) == epochs and h[-1]["test_acc"] >= at_least  # 10 classes: chance is 0.1
    assert h[-1]["train_loss"] < ckpt["first_loss"]  # the loss fell
    assert h[-1]["test_loss"] < 0.9 * np.log(10)  # below the loss of a uniform guess
    assert f"first {limit} of each split" in out
    assert not any((tmp_path / p).exists() for p in PICTURES)


def test_models_are_listed_and_a_chosen_model_is_used(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--help"])
    assert exc.value.code == 0
    help_text = capsys.readouterr().out
    for name in ("xonet", "fashion-cnn", "digits-cnn", "mnist1d-cnn", "mlp"):
        assert name in help_text
    code, out, err = cli(
        capsys, "train", "--data", "digits", "--model", "mlp", "--epochs", "2", "--limit", "400",
        "--optimizer", "sgd", "--lr", "0.05", "--out", tmp_path, "--no-pictures",
    )  # fmt: skip
    assert code == 0, err
    ckpt = mg.load(tmp_path / "checkpoint.mg")
    assert ckpt["config"]["model"] == "mlp" and ckpt["config"]["optimizer"] == "sgd"
    assert "classifier.0.weight" in ckpt["model"] and ckpt["history"][-1]["test_acc"] > 0.5


# ---------------------------------------------------------------- Ctrl-C and --resume


def interrupting_loader(at: set[int]):
    """A DataLoader that sends this process SIGINT when it hands out the batches numbered in
    ``at`` (counting from 1 across epochs), as a user pressing Ctrl-C would."""
    count = [0]

    class Loader(DataLoader):
        def __iter__(self):
            for batch in super().__iter__():
                count[0] += 1
                if count[0] in at:
                    os.kill(os.getpid(), signal.SIGINT)
                yield batch

    return Loader


RECIPE = ("--data", "digits", "--limit", "300", "--epochs", "2", "--batch-size", "32",
          "--no-pictures", "--quiet")  # fmt: skip


@pytest.mark.parametrize(
    "stops",
    [[4], [10], [3, 5]],
    ids=["mid-epoch", "last-batch-of-epoch", "twice"],
)
def test_interrupted_and_resumed_run_ends_with_the_same_weights(
    tmp_path, capsys, monkeypatch, stops
):
    # digits' model has dropout: its random masks must resume exactly too; 10 batches per epoch
    straight = tmp_path / "straight"
    assert cli(capsys, "train", *RECIPE, "--out", straight)[0] == 0
    resumed = tmp_path / "resumed"
    monkeypatch.setattr(train_cmd, "DataLoader", interrupting_loader({stops[0]}))
    code, _, err = cli(capsys, "train", *RECIPE, "--out", resumed)
    assert code == 130 and "resume with: python -m minigrad train --resume" in err
    ckpt = resumed / "checkpoint.mg"
    for stop in stops[1:]:  # the next interruption counts batches of the resumed run
        monkeypatch.setattr(train_cmd, "DataLoader", interrupting_loader({stop}))
        assert cli(capsys, "train", "--resume", ckpt)[0] == 130
    monkeypatch.setattr(train_cmd, "DataLoader", DataLoader)
    code, out, err = cli(capsys, "train", "--resume", ckpt)
    assert code == 0, err
    a, b = mg.load(straight / "checkpoint.mg"), mg.load(ckpt)
    assert list(a["model"]) == list(b["model"])
    for name in a["model"]:
        assert np.array_equal(a["model"][name].numpy(), b["model"][name].numpy()), name
    assert [e["test_acc"] for e in a["history"]] == [e["test_acc"] for e in b["history"]]
    assert a["epoch"] == b["epoch"] == 2


def test_ctrl_c_in_a_real_process_saves_a_checkpoint_and_exits_130(tmp_path):
    cmd = [sys.executable, "-m", "minigrad", "train", "--epochs", "1000", "--no-pictures",
           "--out", str(tmp_path)]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=python_env()
    )
    try:
        for line in proc.stdout:  # wait until training is under way
            if line.startswith("epoch"):
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and f"--resume {tmp_path / 'checkpoint.mg'}" in err
    ckpt = mg.load(tmp_path / "checkpoint.mg")
    assert 1 <= ckpt["epoch"] < 1000 and ckpt["config"]["epochs"] == 1000


def test_resume_keeps_the_recipe_and_can_train_longer(tmp_path, capsys):
    code, out, err = cli(capsys, "train", "--epochs", "1", "--limit", "500", "--no-pictures",
                         "--out", tmp_path)  # fmt: skip
    assert code == 0, err
    assert "\n1 epoch, adam lr" in out and "after 1 epoch; checkpoint:" in out
    assert "epochs" not in out  # one epoch, singular everywhere
    ckpt = tmp_path / "checkpoint.mg"
    code, _, err = cli(capsys, "train", "--resume", ckpt, "--model", "mlp")
    assert code == 1 and "--model mlp differs from the checkpoint's xonet" in err
    code, out, err = cli(capsys, "train", "--resume", ckpt, "--epochs", "2", "--no-pictures")
    assert code == 0 and "epoch 2/2" in out and "epoch 1/2" not in out
    assert "\n2 epochs, adam lr" in out and "after 2 epochs;" in out
    assert [e["epoch"] for e in history(tmp_path)] == [1, 2]
    code, out, err = cli(capsys, "train", "--resume", ckpt, "--no-pictures")
    assert code == 0 and "the checkpoint has already trained 2 epochs; pass --epochs N" in out
    code, _, err = cli(capsys, "train", "--resume", ckpt, "--epochs", "1")
    assert_error(code, err, "--epochs 1 is fewer than the 2 epochs the checkpoint has")


# ---------------------------------------------------------------- progress bars, determinism


class FakeTerminal(io.StringIO):
    """A stderr that says it is a terminal, so that `train` draws its progress bars into it."""

    def isatty(self) -> bool:
        return True


def test_progress_bars_are_drawn_on_a_terminal(tmp_path, capsys, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    argv = ("train", "--epochs", "2", "--limit", "200", "--no-pictures", "--out", tmp_path)
    code, out, _ = cli(capsys, *argv)
    assert code == 0
    bars = terminal.getvalue()
    # 200 samples in batches of 50: 4 batches per epoch, one bar per epoch, labelled like it
    for epoch in (1, 2):
        assert re.search(rf"epoch {epoch}/2: +0%\|[^|]*\| 0/4 ", bars), bars
    assert "batch" in bars and "\r" in bars  # tqdm's unit; each redraw returns to the line start
    assert "epoch 2/2  loss" in out and "|" not in out  # the summaries stay on stdout
    # every batch moves the bar and shows the running loss: with tqdm told to redraw on every
    # update (it normally waits 0.1 s between draws), each count 1/4 ... 4/4 appears per epoch
    import tqdm

    class EveryUpdate(tqdm.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **dict(kwargs, mininterval=0, miniters=1))

    monkeypatch.setattr(tqdm, "tqdm", EveryUpdate)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli(capsys, *argv)[0] == 0
    bars = terminal.getvalue()
    for epoch in (1, 2):
        for done in range(1, 5):
            pattern = rf"epoch {epoch}/2: +{25 * done}%\|[^|]*\| {done}/4 [^\r]*loss=\d+\.\d{{4}}"
            assert re.search(pattern, bars), bars
    # no bars when the output is not a terminal, or with --quiet
    for quiet, stream in ((False, io.StringIO()), (True, FakeTerminal())):
        monkeypatch.setattr(sys, "stderr", stream)
        assert cli(capsys, *argv, *(["--quiet"] if quiet else []))[0] == 0
        assert stream.getvalue() == ""


def test_two_processes_with_different_hash_seeds_train_the_same_weights(tmp_path):
    runs = []
    for hash_seed in ("0", "4242"):
        out = tmp_path / f"hashseed{hash_seed}"
        cmd = [sys.executable, "-m", "minigrad", "train", "--limit", "300", "--epochs", "1",
               "--no-pictures", "--quiet", "--out", str(out)]  # fmt: skip
        env = dict(python_env(), PYTHONHASHSEED=hash_seed)
        runs.append((out, subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)))
    for _, proc in runs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    a, b = (mg.load(out / "checkpoint.mg") for out, _ in runs)
    assert list(a["model"]) == list(b["model"]) and a["model"]
    for name in a["model"]:
        x, y = a["model"][name].numpy(), b["model"][name].numpy()
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name  # bit for bit
    assert [e["train_loss"] for e in a["history"]] == [e["train_loss"] for e in b["history"]]


# ---------------------------------------------------------------- evaluate, predict, explain


@pytest.fixture(scope="module")
def xo_checkpoint(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("xo")
    assert main(["train", "--epochs", "3", "--no-pictures", "--quiet", "--out", str(out)]) == 0
    return out / "checkpoint.mg"


def test_evaluate_reports_the_accuracy_train_measured(xo_checkpoint, capsys):
    code, out, err = cli(capsys, "evaluate", "--checkpoint", xo_checkpoint)
    assert code == 0, err
    acc = float(re.search(r"test accuracy ([\d.]+)%", out).group(1))
    assert acc == pytest.approx(100 * history(xo_checkpoint.parent)[-1]["test_acc"], abs=0.005)
    assert re.search(r"^  O +[\d.]+% +\(\d+/500\)$", out, flags=re.M)


def write_lecture_picture(path: Path, picture: np.ndarray, scale: int = 10) -> None:
    """The lecture's 9x9 picture as a user would draw it: black ink on white, scaled up."""
    from matplotlib.image import imsave

    ink = np.kron(picture > 0, np.ones((scale, scale)))
    imsave(path, np.where(ink, 0.0, 1.0), cmap="gray", vmin=0, vmax=1)


def test_predict_recognises_the_lecture_x_and_o(xo_checkpoint, tmp_path, capsys):
    write_lecture_picture(tmp_path / "x.png", LECTURE_X)
    write_lecture_picture(tmp_path / "o.png", LECTURE_O)
    code, out, err = cli(
        capsys, "predict", "--checkpoint", xo_checkpoint, tmp_path / "x.png", tmp_path / "o.png"
    )
    assert code == 0, err
    blocks = out.split(str(tmp_path / "o.png"))
    assert "90x90 -> (1, 9, 9), light background inverted" in blocks[0]
    first = [re.findall(r"^  ([XO]) +([\d.]+)%$", b, flags=re.M) for b in blocks]
    assert first[0][0][0] == "X" and first[1][0][0] == "O"  # most likely class first
    for rows in first:
        assert sum(float(p) for _, p in rows) == pytest.approx(100, abs=0.02)
        assert float(rows[0][1]) > 90


def test_explain_draws_one_test_sample(xo_checkpoint, tmp_path, capsys):
    out_png = tmp_path / "why.png"
    code, out, err = cli(
        capsys, "explain", "--checkpoint", xo_checkpoint, "--index", "7", "--out", out_png
    )
    assert code == 0, err
    assert re.search(r"xo test sample 7 \(class [XO]\): predicted [XO] with probability", out)
    assert_png(out_png)


# ---------------------------------------------------------------- errors: short, no traceback


def assert_error(code: int, err: str, *pieces: str) -> None:
    assert code == 1 and "Traceback" not in err
    assert err.startswith("minigrad ") and ": error: " in err
    for piece in pieces:
        assert piece in err, err


def test_missing_fashion_mnist_says_what_to_install_and_which_path_to_pass(
    tmp_path, capsys, monkeypatch
):
    how = (
        "apt-get install dataset-fashion-mnist, or pass --root DIR, a directory with "
        "train-images-idx3-ubyte.gz and the other IDX files"
    )
    code, _, err = cli(capsys, "train", "--data", "fashion-mnist", "--root", tmp_path)
    assert_error(code, err)
    assert (
        err
        == f"minigrad train: error: Fashion-MNIST's training files are not in {tmp_path}: {how}\n"
    )
    # without --root: where the loader looked, $MINIGRAD_DATA first
    monkeypatch.setattr(fashion_mnist, "DEFAULT_ROOT", tmp_path / "debian")
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "mine"))
    code, _, err = cli(capsys, "train", "--data", "fashion-mnist", "--out", tmp_path)
    assert_error(code, err)
    where = f"$MINIGRAD_DATA ({tmp_path / 'mine'}) or {tmp_path / 'debian'}"
    assert (
        err == f"minigrad train: error: Fashion-MNIST's training files are not in {where}: {how}\n"
    )


def test_missing_package_says_what_to_pip_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    code, _, err = cli(capsys, "train", "--data", "digits", "--out", tmp_path)
    assert_error(code, err, "pip install scikit-learn")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
        (["train", "--data", "cifar"], "invalid choice: 'cifar'"),
        (["train", "--epochs", "0"], "expected an integer >= 1, got 0"),
        (["train", "--lr", "fast"], "expected a number, got 'fast'"),
        (["predict", "x.png"], "the following arguments are required: --checkpoint"),
    ],
)
def test_bad_options_are_argparse_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("usage: minigrad")


def test_cuda_without_cuda_says_why(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MINIGRAD_FAKE_CUDA", raising=False)
    monkeypatch.setattr(backend, "_cuda_module", None)
    if backend.cuda_is_available():
        pytest.skip("a CUDA device is present: the error can't be provoked")
    monkeypatch.setattr(backend, "_cuda_module", None)
    code, _, err = cli(capsys, "train", "--device", "cuda", "--out", tmp_path)
    assert_error(code, err, "device 'cuda'")
    assert not (tmp_path / "checkpoint.mg").exists()


def test_corrupt_checkpoint(xo_checkpoint, tmp_path, capsys):
    raw = bytearray(xo_checkpoint.read_bytes())
    raw[-5] ^= 0xFF
    bad = tmp_path / "bad.mg"
    bad.write_bytes(bytes(raw))
    code, _, err = cli(capsys, "evaluate", "--checkpoint", bad)
    assert_error(code, err, "can't read checkpoint", "checksum")
    code, _, err = cli(capsys, "evaluate", "--checkpoint", tmp_path / "nothing.mg")
    assert_error(code, err, "no checkpoint at")


def test_checkpoint_that_does_not_match(xo_checkpoint, tmp_path, capsys):
    code, _, err = cli(capsys, "evaluate", "--checkpoint", xo_checkpoint, "--data", "digits")
    assert_error(code, err, "was trained on xo (inputs (1, 9, 9), 2 classes)", "(1, 8, 8)")
    ckpt = mg.load(xo_checkpoint)
    ckpt["config"] = dict(ckpt["config"], model="mlp")  # weights of one model, name of another
    mg.save(ckpt, tmp_path / "renamed.mg")
    code, _, err = cli(capsys, "evaluate", "--checkpoint", tmp_path / "renamed.mg")
    assert_error(code, err, "does not match the model 'mlp'", "Missing key(s)")
    mg.save({"weight": mg.ones(3)}, tmp_path / "weights.mg")
    code, _, err = cli(capsys, "train", "--resume", tmp_path / "weights.mg")
    assert_error(code, err, "not a checkpoint written by `minigrad train`", "'weight'")


def test_predict_on_a_file_that_is_not_a_png(xo_checkpoint, tmp_path, capsys):
    fake = tmp_path / "picture.png"
    fake.write_bytes(b"\xff\xd8\xff\xe0 a JPEG, really")
    code, _, err = cli(capsys, "predict", "--checkpoint", xo_checkpoint, fake)
    assert_error(code, err, "is not a PNG file")
    code, _, err = cli(capsys, "predict", "--checkpoint", xo_checkpoint, tmp_path / "none.png")
    assert_error(code, err, "can't read", "none.png")


def test_predict_refuses_a_model_of_signals(tmp_path, capsys):
    assert cli(capsys, "train", "--data", "mnist1d", "--epochs", "1", "--limit", "200",
               "--no-pictures", "--out", tmp_path)[0] == 0  # fmt: skip
    write_lecture_picture(tmp_path / "x.png", LECTURE_X)
    code, _, err = cli(capsys, "predict", "--checkpoint", tmp_path / "checkpoint.mg",
                       tmp_path / "x.png")  # fmt: skip
    assert_error(code, err, "not pictures", "(1, 40)")


def test_explain_index_out_of_range(xo_checkpoint, capsys):
    code, _, err = cli(capsys, "explain", "--checkpoint", xo_checkpoint, "--index", "1000")
    assert_error(code, err, "--index 1000 is out of range", "1000 samples (0 to 999)")


def test_a_model_that_does_not_fit_the_data(tmp_path, capsys):
    code, _, err = cli(capsys, "train", "--data", "mnist1d", "--model", "xonet", "--out", tmp_path)
    assert_error(code, err, "--model xonet does not fit mnist1d", "takes images (C, H, W)")


# ---------------------------------------------------------------- the README's first command


def test_the_readme_first_command_in_a_quick_variant(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    first = re.findall(r"```bash\n(.+?)\n```", section)[0]
    install, run = first.split(" && ")
    assert install == 'pip install -e ".[viz]"' and run == "python -m minigrad train"
    argv = run.split()[1:] + ["--epochs", "1", "--limit", "200", "--out", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=python_env(), timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "final test accuracy" in done.stdout
    for name in ("checkpoint.mg", *PICTURES):
        assert (tmp_path / name).is_file()
