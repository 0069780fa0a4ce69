"""The latent explorer: its file (latent/explorer.py), its export from an autoencoder run
(experiments/explorer.py), its section in the report (report/explorer.py), and the page in Chromium (slow)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from multimnist.data import GeneratorConfig, load_mnist, make_dataset, save_dataset
from multimnist.data.config import HEIGHT, WIDTH
from multimnist.data.prepare import to_inputs
from multimnist.errors import UserError
from multimnist.evaluation.generation import read_numbers
from multimnist.experiments.autoencoder import train_autoencoder
from multimnist.experiments.explorer import decoder_layers, export_explorer, ranked_samplers
from multimnist.experiments.generation import load_autoencoder
from multimnist.experiments.reader import load_reader, read_images, train_reader
from multimnist.files import write_json
from multimnist.latent.explorer import (
    EXPLORER,
    class_means,
    decode,
    explorer_payload,
    pack,
    principal_directions,
    read_explorer,
    unpack,
)
from multimnist.latent.mixture import Mixture
from multimnist.models.autoencoder import AutoencoderModelConfig, build_autoencoder
from multimnist.models.reader import reading_model
from multimnist.report.explorer import DATA_SCRIPT, GLOBAL, data_script
from multimnist.report.study import write_report
from multimnist.training.inference import predict

import keras
import numpy as np
import pytest

SHAPE = (4, 5)  # a tiny "image": the decoder's output has 20 values


@pytest.fixture(scope="module")
def tiny():
    """A decoder 3 -> 6 -> 8 -> 20 with random weights, labelled codes and a two-component mixture."""
    keras.utils.set_random_seed(0)
    parts = build_autoencoder(AutoencoderModelConfig(input_dim=20, encoder=(8,), decoder=(6, 8), latent=3))
    rng = np.random.default_rng(0)
    for w in parts.decoder.weights:  # biases too: zeros would hide a bias the page forgets
        w.assign(rng.normal(0, 0.5, w.shape).astype("float32"))
    codes = rng.normal(size=(60, 3)).astype("float32")
    labels = np.repeat([7, 12, 37], 20)
    mixture = Mixture([0.25, 0.75], [[0, 0, 0], [1, 1, 1]], [np.eye(3), np.diag([1.0, 2.0, 3.0])])
    return parts.decoder, codes, labels, mixture


def payload_of(tiny, encoding="float32"):
    decoder, codes, labels, mixture = tiny
    return explorer_payload(decoder_layers(decoder), codes, labels, mixture, {"name": "gmm", "fitted": "2 parts"},
                            SHAPE, encoding, {"autoencoder_seed": 0})


@pytest.mark.parametrize(("dtype", "tolerance"), [("float32", 0.0), ("float16", 1e-3), ("int8", 1 / 254)])
def test_packed_arrays_come_back_within_their_encodings_precision(dtype, tolerance):
    a = np.random.default_rng(0).normal(size=(7, 5)).astype("float32")
    a[:, 2] *= 100  # int8 scales each column on its own: a large column costs the others nothing
    back = unpack(json.loads(json.dumps(pack(a, dtype))))
    assert back.shape == a.shape and back.dtype == np.float32
    scale = np.abs(a).max(axis=0) if dtype == "int8" else np.maximum(np.abs(a), 1)
    assert (np.abs(back - a) <= tolerance * scale + 1e-7).all()
    assert dtype == "float32" or not np.array_equal(back, a)  # the lossy ones are lossy: the test can fail


def test_broken_arrays_and_encodings_are_user_errors():
    with pytest.raises(UserError, match="unknown encoding"):
        pack(np.zeros(3), "bfloat16")
    with pytest.raises(UserError, match="broken"):
        unpack({"dtype": "float32", "shape": [3], "data": "not base64!"})


def test_the_decoders_layers_are_read_as_keras_built_them(tiny):
    layers = decoder_layers(tiny[0])
    assert [(layer["kernel"].shape, layer["activation"]) for layer in layers] == [
        ((3, 6), "leaky_relu"), ((6, 8), "leaky_relu"), ((8, 20), "sigmoid")]
    assert layers[0]["negative_slope"] == pytest.approx(0.01)


def test_the_files_decoder_equals_keras_in_float32_and_stays_close_in_float16(tiny):
    decoder, codes = tiny[0], tiny[1]
    want = np.asarray(decoder.predict(codes, verbose=0))
    np.testing.assert_allclose(decode(payload_of(tiny), codes), want, atol=1e-5)
    half = np.abs(decode(payload_of(tiny, "float16"), codes) - want).max()
    assert 0 < half < 2e-3


def test_other_decoders_are_refused_in_one_line():
    x = keras.Input((3,))
    model = keras.Model(x, keras.layers.Dense(20, activation="softmax")(keras.layers.BatchNormalization()(x)))
    with pytest.raises(UserError, match="BatchNormalization"):
        decoder_layers(model)


def test_class_means_and_principal_directions(tiny):
    codes, labels = tiny[1], tiny[2]
    numbers, means, counts = class_means(codes, labels)
    assert numbers.tolist() == [7, 12, 37] and counts.tolist() == [20, 20, 20]
    np.testing.assert_allclose(means[2], codes[40:].mean(axis=0), rtol=1e-6)
    stretched = np.random.default_rng(1).normal(size=(5000, 3)) * [1.0, 3.0, 0.5]
    pca = principal_directions(stretched, 2)
    np.testing.assert_allclose(np.abs(pca["directions"]), [[0, 1, 0], [1, 0, 0]], atol=0.03)
    assert (pca["directions"][np.arange(2), [1, 0]] > 0).all()  # signed: the largest entry positive
    np.testing.assert_allclose(pca["std"], [3.0, 1.0], rtol=0.05)
    np.testing.assert_allclose(pca["explained"], np.array([9.0, 1.0]) / 10.25, rtol=0.05)


def test_the_payload_refuses_what_the_page_cannot_run(tiny):
    decoder, codes, labels, mixture = tiny
    layers = decoder_layers(decoder)
    with pytest.raises(UserError, match="not an image"):
        explorer_payload(layers, codes, labels, mixture, {}, (4, 4))
    with pytest.raises(UserError, match="size 2"):
        explorer_payload(layers, codes, labels, Mixture([1.0], [[0.0, 0.0]], [np.eye(2)]), {}, SHAPE)
    with pytest.raises(UserError, match="activation 'softplus'"):
        explorer_payload([{**layers[0], "activation": "softplus"}, *layers[1:]], codes, labels, mixture, {}, SHAPE)


def test_the_file_is_read_strictly(tiny, tmp_path):
    assert read_explorer(tmp_path / EXPLORER) is None
    payload = payload_of(tiny)
    write_json(tmp_path / EXPLORER, payload)
    back = read_explorer(tmp_path / EXPLORER)
    assert back["numbers"] == [7, 12, 37] and back["sampler"]["cholesky"]["shape"] == [2, 6]  # 3 * 4 / 2
    np.testing.assert_allclose(unpack(back["sampler"]["cholesky"])[1], [1, 0, 2**0.5, 0, 0, 3**0.5], rtol=1e-6)
    del payload["decoder"][1]
    write_json(tmp_path / EXPLORER, payload)
    with pytest.raises(UserError, match=f"cannot read .*{EXPLORER}.*chain"):
        read_explorer(tmp_path / EXPLORER)
    write_json(tmp_path / EXPLORER, {**payload_of(tiny), "format": 99})
    with pytest.raises(UserError, match="format 99"):
        read_explorer(tmp_path / EXPLORER)


def test_the_samplers_are_ranked_by_readable_share(tmp_path):
    rows = [{"sampler": "uniform", "kind": "sampler", "readable_share": 0.05},
            {"sampler": "gmm", "kind": "sampler", "readable_share": 0.3},
            {"sampler": "real", "kind": "real", "readable_share": 0.8},
            {"sampler": "empirical-box", "kind": "sampler", "readable_share": 0.4}]
    write_json(tmp_path / "scores.json", {"rows": rows})
    assert ranked_samplers(tmp_path / "scores.json") == ["empirical-box", "gmm", "uniform"]


def test_the_report_carries_the_explorer_beside_the_page(tiny, tmp_path):
    """A study folder with explorer/explorer.json: the report writes explorer-data.js and a section stating
    the sizes; without one, neither."""
    write_report(tmp_path)
    assert not (tmp_path / DATA_SCRIPT).exists() and 'id="explorer"' not in (tmp_path / "report.html").read_text()
    write_json(tmp_path / "explorer" / EXPLORER, {**payload_of(tiny, "float16"), "max_pixel_error": 0.001})
    html = write_report(tmp_path).read_text()
    script = (tmp_path / DATA_SCRIPT).read_text()
    assert script == data_script(read_explorer(tmp_path / "explorer" / EXPLORER))
    assert json.loads(script.removeprefix(f"window.{GLOBAL} = ").removesuffix(";\n"))["numbers"] == [7, 12, 37]
    assert f'<script src="{DATA_SCRIPT}"></script>' in html and "window.multimnistExplorer" in html
    assert "&#34;" not in html.split('<div id="explorer">')[1]  # the page's code is not HTML-escaped
    size = len(html.encode())
    assert f"this page itself {size / 1024:,.0f} kB" in html
    assert f"{len(script.encode()) / 1024:,.0f} kB of data in {DATA_SCRIPT}" in html
    assert "as float16" in html and "0.26 of 255" in html
    md = (tmp_path / "report.md").read_text()
    assert "latent explorer" in md and "<script" not in md

# --- the page in a real browser: Debian's Chromium, headless, driven by Playwright for Python on the report.html
# that write_report makes, opened from file://. Skipped, saying why, where Chromium or Playwright is missing
# (.ci/run installs Chromium; Playwright comes with the dev extra). The decoder in the page is held to Keras'
# predict (float32 weights) and to the file's own decoder (float16); the page's controls change what it draws;
# and the class mean of 37, drawn by the page and read back from its canvas, is read as 37 by the digit-pair
# reader. ---

CHROMIUM = os.environ.get("MULTIMNIST_CHROMIUM") or next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (it comes "
                                                                 "with the dev extra: pip install -e '.[dev]')")
    if CHROMIUM is None:
        pytest.skip("no Chromium to run the explorer in: install Debian's (apt-get install chromium) or set "
                    "MULTIMNIST_CHROMIUM to a Chromium binary")
    with sync_api.sync_playwright() as p:
        # --no-sandbox: CI and containers run as root, where Chromium's sandbox refuses to start
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class Page:
    """A report.html opened from file:// in the browser, its script errors collected."""

    def __init__(self, browser, html: Path):
        self.errors = []
        self.page = browser.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.goto(html.as_uri())
        self.page.wait_for_function("window.multimnistExplorer && window.multimnistExplorer.ready")

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def canvas(self, selector: str, shape=(HEIGHT, WIDTH)) -> np.ndarray:
        """A canvas read back: its red channel (the images are gray), (height, width) uint8."""
        rgba = self.js("([s, w, h]) => Array.from(document.querySelector(s).getContext('2d')"
                       ".getImageData(0, 0, w, h).data)", [selector, shape[1], shape[0]])
        return np.asarray(rgba, dtype=np.uint8).reshape(*shape, 4)[..., 0]

    def decode(self, codes: np.ndarray) -> np.ndarray:
        return np.asarray(self.js("codes => codes.map(c => Array.from(window.multimnistExplorer.decode(c)))",
                                  np.asarray(codes, dtype=np.float64).tolist()))


def report_with(folder: Path, payload: dict) -> Path:
    write_json(folder / "explorer" / EXPLORER, payload)
    return write_report(folder)


@pytest.mark.slow  # a browser
def test_the_pages_decoder_and_sampler_on_a_tiny_decoder(browser, tiny, tmp_path):
    """float32 weights: the page decodes as Keras predicts; its mixture draws are seeded and have the mixture's
    moments; the canvas shows what the page decodes."""
    page = Page(browser, report_with(tmp_path, payload_of(tiny, "float32")))
    decoder, codes, _, mixture = tiny
    np.testing.assert_allclose(page.decode(codes[:8]), np.asarray(decoder.predict(codes[:8], verbose=0)), atol=1e-5)
    draws = np.asarray(page.js("() => window.multimnistExplorer.sample(20000, 5).map(c => Array.from(c))"))
    again = np.asarray(page.js("() => window.multimnistExplorer.sample(3, 5).map(c => Array.from(c))"))
    other = np.asarray(page.js("() => window.multimnistExplorer.sample(3, 6).map(c => Array.from(c))"))
    np.testing.assert_array_equal(again, draws[:3])
    assert not np.allclose(other, again)
    mean = mixture.weights @ mixture.means
    cov = sum(w * (c + np.outer(m - mean, m - mean))
              for w, m, c in zip(mixture.weights, mixture.means, mixture.covariances, strict=True))
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.04)
    np.testing.assert_allclose(np.cov(draws, rowvar=False), cov, atol=0.08)
    mean_12 = page.js("() => Array.from(window.multimnistExplorer.classMean(12))")
    np.testing.assert_allclose(mean_12, tiny[1][20:40].mean(axis=0), rtol=1e-5)
    shown = page.canvas("#ex-main", SHAPE)  # number 37 first, when there is one
    want = np.rint(np.clip(decoder.predict(codes[40:].mean(axis=0, keepdims=True), verbose=0), 0, 1) * 255)
    assert np.abs(shown.astype(int) - want.reshape(SHAPE)).max() <= 1
    assert page.errors == []


@pytest.mark.slow  # a browser
@pytest.mark.parametrize("encoding", ["float16", "int8"])
def test_the_page_unpacks_every_encoding_as_the_file_reader_does(browser, tiny, tmp_path, encoding):
    payload = payload_of(tiny, encoding)
    page = Page(browser, report_with(tmp_path, payload))
    np.testing.assert_allclose(page.decode(tiny[1][:8]), decode(payload, tiny[1][:8]), atol=1e-6)
    assert page.errors == []


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An autoencoder and a reader good enough that a class mean decodes into a readable number: 6,000 training
    images, 30 epochs (test MSE ~0.013); the reader on 10,000 00..99 images, 6 epochs (~92% per digit).
    About 1.5 minutes on 2 cores. On these, the class mean of 37 reads as 37 (tens ~0.98, units ~0.77 sure)."""
    root = tmp_path_factory.mktemp("explorer")
    data = save_dataset(make_dataset(load_mnist(), GeneratorConfig(train_size=6000), seed=0), root / "data")
    train_autoencoder("autoencoder", data, root / "ae", epochs=30)
    train_reader(root / "reader", epochs=6, train_size=10000)
    return data, root / "ae", root / "reader"


def _study(trained, folder: Path, encoding: str) -> Path:
    data, ae, _ = trained
    export_explorer(ae, data, folder / "explorer", "full-gaussian", encoding, {"model_run": "ae"})
    return write_report(folder)


@pytest.mark.slow  # a browser, and an autoencoder and reader trained for it
def test_the_pages_decoder_equals_keras_on_the_trained_autoencoder(browser, trained, tmp_path):
    data, ae, _ = trained
    page = Page(browser, _study(trained, tmp_path, "float32"))
    with np.load(ae / "encodings.npz", allow_pickle=False) as f:
        codes = f["test"][:6]
    want = np.asarray(predict(load_autoencoder(ae).decoder, codes))
    assert np.abs(page.decode(codes) - want).max() < 1e-4
    assert page.errors == []


@pytest.mark.slow  # a browser, and an autoencoder and reader trained for it
def test_the_explorer_draws_37_and_the_reader_reads_it(browser, trained, tmp_path):
    """float16 weights, as the study writes them: the canvas is the file's decoder rounded to bytes; a slider
    changes it; the class mean of 37, read back from the canvas, reads 37."""
    data, _, reader_run = trained
    html = _study(trained, tmp_path, "float16")
    payload = read_explorer(tmp_path / "explorer" / EXPLORER)
    page = Page(browser, html)
    page.page.select_option("#ex-number", "37")
    shown = page.canvas("#ex-main")
    mean_37 = unpack(payload["class_means"])[payload["numbers"].index(37)]
    expected = np.rint(np.clip(decode(payload, mean_37[None])[0], 0, 1) * 255).reshape(HEIGHT, WIDTH)
    assert np.abs(shown.astype(int) - expected).max() <= 1  # rounding at .5 may differ by one level

    reader = reading_model(load_reader(reader_run))
    r = read_images(reader, to_inputs(shown[None]))
    numbers, _ = read_numbers(r["tens"], r["units"])
    assert numbers[0] == 37, (numbers[0], r["tens"].max(), r["units"].max())

    page.page.focus("#ex-dir-1")
    for _ in range(15):  # the keyboard, as a person moves a slider: 1.5 standard deviations
        page.page.keyboard.press("ArrowRight")
    assert page.js("() => document.querySelector('#ex-dir-1').value") == "1.5"
    moved = page.canvas("#ex-main")
    assert np.abs(moved.astype(int) - shown).max() > 50
    page.page.click("#ex-reset")
    np.testing.assert_array_equal(page.canvas("#ex-main"), shown)

    strip = [page.canvas(f"#ex-strip canvas:nth-child({i})") for i in (1, 9)]
    page.page.select_option("#ex-to", "37")
    assert np.abs(page.canvas("#ex-strip canvas:nth-child(9)").astype(int) - shown).max() <= 1
    assert np.abs(page.canvas("#ex-strip canvas:nth-child(1)").astype(int) - strip[0]).max() == 0

    samples = page.canvas("#ex-samples canvas:nth-child(1)")
    page.page.click("#ex-draw")
    assert page.js("() => document.querySelector('#ex-seed').value") == "1"
    assert np.abs(page.canvas("#ex-samples canvas:nth-child(1)").astype(int) - samples).max() > 50
    assert page.errors == []
