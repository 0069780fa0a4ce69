"""Exports read back with PIL and pyarrow: an ImageFolder tree and Hugging Face-layout Parquet, with a card."""

from __future__ import annotations

import io
import json
import sys

from multimnist.data import GeneratorConfig, load_mnist, make_dataset
from multimnist.data.export import export_dataset
from multimnist.errors import UserError

import numpy as np
import pytest
import yaml
from PIL import Image

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def tiny():
    return make_dataset(load_mnist(), GeneratorConfig(train_size=200), seed=0)


def _read_png(data) -> np.ndarray:
    with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as im:
        assert im.mode == "L" and im.size == (39, 28)
        return np.asarray(im)


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_imagefolder_holds_every_image_under_its_class(tmp_path, tiny):
    progress = []
    export_dataset(tiny, tmp_path / "out", "imagefolder", progress=lambda done, total: progress.append((done, total)))
    out = tmp_path / "out"
    for split in ("train", "test"):
        x, y = getattr(tiny, f"x_{split}"), getattr(tiny, f"y_{split}")
        files = sorted((out / split).glob("*/*.png"))
        assert len(files) == len(x)
        for path in files:
            i = int(path.stem)
            assert path.parent.name == f"{y[i]:02d}"
            assert np.array_equal(_read_png(path), x[i])
    # Class folders sort as the class indices of load_data: ImageFolder and Keras number them in this order.
    assert sorted(p.name for p in (out / "train").iterdir()) == [f"{c:02d}" for c in tiny.classes]
    total = len(tiny.x_train) + len(tiny.x_test)
    assert progress[-1] == (total, total) and all(a[0] < b[0] for a, b in zip(progress, progress[1:], strict=False))


def test_parquet_has_the_hugging_face_image_layout(tmp_path, tiny):
    export_dataset(tiny, tmp_path, "parquet")
    for split in ("train", "test"):
        table = pq.read_table(tmp_path / "data" / f"{split}-00000-of-00001.parquet")
        assert table.column_names == ["image", "label"]
        assert table.schema.field("image").type == pa.struct([("bytes", pa.binary()), ("path", pa.string())])
        features = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]
        assert features["image"] == {"_type": "Image"}
        assert features["label"]["_type"] == "ClassLabel" and features["label"]["names"][:2] == ["01", "02"]
        rows = table.to_pylist()
        x, y = getattr(tiny, f"x_{split}"), getattr(tiny, f"y_{split}")
        assert len(rows) == len(x)
        for i, row in enumerate(rows):
            assert np.array_equal(_read_png(row["image"]["bytes"]), x[i])
            assert features["label"]["names"][row["label"]] == f"{y[i]:02d}"


@pytest.mark.parametrize("fmt", ["imagefolder", "parquet"])
def test_exports_are_deterministic_and_carry_a_card(tmp_path, tiny, fmt):
    export_dataset(tiny, tmp_path / "a", fmt)
    export_dataset(tiny, tmp_path / "b", fmt)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    card = (tmp_path / "a" / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    assert header["license"] == "cc-by-sa-3.0"
    assert header["dataset_info"]["features"][1]["dtype"]["class_label"]["names"]["7"] == "08"
    assert [s["num_examples"] for s in header["dataset_info"]["splits"]] == [len(tiny.x_train), len(tiny.x_test)]
    assert "| 42 | 43 |" in card and "Bertoldi" in card and "seed 0" in card
    assert not list((tmp_path / "a").rglob(".*tmp*"))


def test_export_refuses_a_folder_in_use_unless_forced(tmp_path, tiny):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty; .*--force"):
        export_dataset(tiny, tmp_path, "imagefolder")
    export_dataset(tiny, tmp_path, "imagefolder", force=True)
    assert (tmp_path / "keep.txt").read_text() == "mine" and (tmp_path / "README.md").is_file()


def test_parquet_without_pyarrow_is_one_line(tmp_path, tiny, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(UserError, match=r"^--format parquet needs pyarrow: pip install -e '\.\[parquet\]' in the "
                                        r"multimnist clone$"):
        export_dataset(tiny, tmp_path, "parquet")
    assert not any(tmp_path.iterdir())


def test_unknown_format_is_a_user_error(tmp_path, tiny):
    with pytest.raises(UserError, match="imagefolder, parquet"):
        export_dataset(tiny, tmp_path, "tfrecord")


@pytest.mark.slow
def test_data_export_command(tmp_path, small_dataset_dir, capsys, monkeypatch):
    from multimnist.cli import main

    assert main(["data", "export", "--data", str(small_dataset_dir), "--format", "imagefolder",
                 "--out", str(tmp_path / "png")]) == 0
    assert "wrote 1200 PNG files and README.md" in capsys.readouterr().out  # 1000 train, 200 test
    assert len(list((tmp_path / "png").rglob("*.png"))) == 1200
    assert main(["data", "export", "--data", str(small_dataset_dir), "--format", "parquet",
                 "--out", str(tmp_path / "png")]) == 2
    assert capsys.readouterr().err.strip().endswith("is not empty; choose a new folder or pass --force to replace "
                                                    "its files")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert main(["data", "export", "--data", str(small_dataset_dir), "--format", "parquet",
                 "--out", str(tmp_path / "pq")]) == 2
    err = capsys.readouterr().err
    assert err == ("multimnist: error: --format parquet needs pyarrow: pip install -e '.[parquet]' in the multimnist "
                   "clone\n")


def test_export_progress_ends_at_all_images_and_says_the_result_once(tmp_path, small_dataset_dir, capsys):
    from multimnist.cli import main

    assert main(["data", "export", "--data", str(small_dataset_dir), "--format", "parquet",
                 "--out", str(tmp_path / "pq")]) == 0
    out, err = capsys.readouterr()
    assert out == f"wrote 2 Parquet files and README.md to {tmp_path / 'pq'}\n"
    assert err.splitlines() == [f"exporting: {n} of 1200 images" for n in (1000, 1200)]  # a line per tenth reached


def test_the_card_is_the_same_from_the_cli_and_python_and_names_no_local_path(tmp_path, capsys):
    from multimnist.cli import main
    from multimnist.data import read_dataset

    (tmp_path / "plan.yaml").write_text("counts: {12: 30, 34: 20}\n")
    data = tmp_path / "data"
    assert main(["data", "make", "--out", str(data), "--plan", str(tmp_path / "plan.yaml")]) == 0
    assert main(["data", "export", "--data", str(data), "--format", "imagefolder", "--out", str(tmp_path / "cli")]) == 0
    export_dataset(read_dataset(data), tmp_path / "py", "imagefolder")
    card = (tmp_path / "cli" / "README.md").read_text()
    assert card == (tmp_path / "py" / "README.md").read_text()
    assert str(tmp_path) not in card and "/tmp" not in card
    assert '"plan": "plan.yaml"' in card and "Generated by multimnist" in card


def test_labels_saved_as_class_indices_are_refused_not_shifted(tmp_path, capsys):
    import multimnist
    from multimnist.cli import main

    (x, y), (xt, yt) = multimnist.load_data(train_size=200, cache_dir=tmp_path / "cache")  # indices 0..49
    own = tmp_path / "own"
    own.mkdir()
    np.savez(own / "train.npz", x=x, y=y)
    np.savez(own / "test.npz", x=xt, y=yt)
    export = ["data", "export", "--data", str(own), "--format", "imagefolder", "--out", str(tmp_path / "png")]
    assert main(export) == 2
    assert capsys.readouterr().err == (
        f"multimnist: error: {own}: labels 0..49 look like class indices (load_data()'s); files hold the class "
        "numbers 1..50: save y + 1 (or load_data(labels='number')), or, if 0.. are the numbers you mean, add "
        'meta.json with {"labels": "number"} beside train.npz\n')
    assert not (tmp_path / "png").exists()
    np.savez(own / "train.npz", x=x, y=y + 1)  # the numbers: exported under their own names
    np.savez(own / "test.npz", x=xt, y=yt + 1)
    assert main(export) == 0
    first = next(i for i in range(len(y)) if y[i] == 6)
    assert (tmp_path / "png" / "train" / "07" / f"{first:05d}.png").is_file()  # index 6 is class "07"


def test_the_files_record_their_label_convention_and_it_is_checked(tmp_path, capsys):
    import json

    from multimnist.cli import main
    from multimnist.data import read_dataset

    data = tmp_path / "d"
    assert main(["data", "make", "--out", str(data), "--train-size", "200"]) == 0
    meta = json.loads((data / "meta.json").read_text())
    assert meta["labels"] == "number" and meta["classes"] == list(range(1, 51))
    assert set(read_dataset(data).y_train.tolist()) == set(range(1, 51))
    (data / "meta.json").write_text(json.dumps({**meta, "labels": "index"}))
    with pytest.raises(ValueError, match="meta.json: labels 'index'; dataset files hold the class numbers"):
        read_dataset(data)
    own = tmp_path / "zero-based"  # the numbers 00..49, said so: read as they are
    own.mkdir()
    for split in ("train", "test"):
        np.savez(own / f"{split}.npz", x=np.zeros((100, 28, 39), np.uint8), y=np.arange(100) % 50)
    (own / "meta.json").write_text('{"labels": "number"}')
    assert read_dataset(own).classes == tuple(range(50))
