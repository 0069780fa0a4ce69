"""Export a dataset for other tools: a folder of PNGs per class, or Parquet files in Hugging Face's layout.

- `imagefolder`: OUT/{train,test}/<two-digit number>/<index>.png, read by torchvision's `ImageFolder`,
  Keras' `image_dataset_from_directory` and Hugging Face's `imagefolder` (class folders sort "01".."50",
  so their class indices equal `load_data()`'s labels).
- `parquet`: OUT/data/{train,test}-00000-of-00001.parquet with an `image` column of {bytes, path} PNGs and
  a `label` column of class indices, the Hugging Face `features` in the schema metadata (so `datasets` reads
  the label names); needs pyarrow (the [parquet] extra).

Both end with OUT/README.md, a dataset card (counts, label mapping, how it was made, license, citation), written
last. Every file is written atomically, and the same dataset gives the same bytes, from the CLI or from Python:
the card holds no local path.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from pathlib import Path

from multimnist._version import __version__
from multimnist.data.generate import Dataset
from multimnist.data.prepare import encode_labels
from multimnist.errors import UserError
from multimnist.extras import install_hint
from multimnist.files import atomic_path, write_bytes, write_text

import numpy as np
import yaml

log = logging.getLogger(__name__)

FORMATS = ("imagefolder", "parquet")
SPLITS = ("train", "test")
ROW_GROUP = 5000  # Parquet rows per group: small enough for streaming readers, ~2 MB of PNGs
Progress = Callable[[int, int], None]  # (images done, images in all)


def export_dataset(ds: Dataset, out: str | Path, fmt: str, force: bool = False,
                   progress: Progress | None = None) -> list[Path]:
    """Write `ds` to `out` in format `fmt` and return the files written (README.md last).

    `out` must be empty or absent unless `force` (then files of the same names are replaced, others kept).
    """
    if fmt not in FORMATS:
        raise UserError(f"export format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "parquet":
        _require_pyarrow()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file; give a folder to export into")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise UserError(f"{out} is not empty; choose a new folder or pass --force to replace its files")
    names = [f"{int(c):02d}" for c in ds.classes]
    counter = _Counter(len(ds.x_train) + len(ds.x_test), progress)
    written, sizes = [], {}
    for split in SPLITS:
        x, y = getattr(ds, f"x_{split}"), encode_labels(getattr(ds, f"y_{split}"), ds.classes)
        if fmt == "imagefolder":
            files = _write_imagefolder(x, y, names, out / split, counter)
        else:
            files = [_write_parquet(x, y, names, out / "data" / f"{split}-00000-of-00001.parquet", counter)]
        written += files
        sizes[split] = sum(f.stat().st_size for f in files)
    written.append(out / "README.md")
    write_text(out / "README.md", dataset_card(ds, fmt, sizes))
    log.debug("exported %d images as %s to %s", counter.total, fmt, out)  # the caller reports the result
    return written


def png_bytes(image: np.ndarray) -> bytes:
    """One (28, 39) image as an 8-bit greyscale PNG (float images in [0, 1] are rounded to 0..255)."""
    from PIL import Image

    if image.dtype != np.uint8:
        image = np.rint(np.asarray(image, np.float32) * 255.0).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")  # no timestamps or text chunks: same pixels, same bytes
    return buf.getvalue()


class _Counter:
    def __init__(self, total: int, progress: Progress | None):
        self.total, self.done, self.progress = total, 0, progress

    def add(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)


def _write_imagefolder(x, y, names, folder: Path, counter: _Counter, step: int = 1000) -> list[Path]:
    width = max(5, len(str(len(x) - 1)))  # zero-padded: file order is image order
    paths = []
    for i in range(len(x)):
        path = folder / names[y[i]] / f"{i:0{width}d}.png"
        write_bytes(path, png_bytes(x[i]))
        paths.append(path)
        if (i + 1) % step == 0 or i + 1 == len(x):
            counter.add((i % step) + 1)
    return paths


def _write_parquet(x, y, names, path: Path, counter: _Counter) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    width = max(5, len(str(len(x) - 1)))
    images = []
    for i in range(len(x)):
        images.append({"bytes": png_bytes(x[i]), "path": f"{i:0{width}d}.png"})
        if (i + 1) % ROW_GROUP == 0 or i + 1 == len(x):
            counter.add((i % ROW_GROUP) + 1)
    features = {"image": {"_type": "Image"}, "label": {"names": names, "_type": "ClassLabel"}}
    schema = pa.schema([("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
                        ("label", pa.int64())],
                       metadata={"huggingface": json.dumps({"info": {"features": features}})})
    table = pa.Table.from_pydict({"image": images, "label": np.asarray(y, np.int64)}, schema=schema)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, row_group_size=ROW_GROUP)
    return path


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise UserError(f"--format parquet needs pyarrow: {install_hint('parquet')}") from None


class _QuotingDumper(yaml.SafeDumper):
    """Quotes strings of digits: PyYAML writes "08" bare, which YAML 1.2 readers take for the number 8."""


_QuotingDumper.add_representer(
    str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="'" if s.isdigit() else None))


def _without_paths(generator: dict | None) -> dict | None:
    """The generator settings as a card shows them: a plan read from a file is named by its file name only."""
    if generator is None or str(generator.get("plan")) in ("study", "balanced", "None"):
        return generator
    return {**generator, "plan": Path(str(generator["plan"])).name}


def dataset_card(ds: Dataset, fmt: str, sizes: dict[str, int] | None = None) -> str:
    """README.md for an export: Hugging Face YAML header, then counts, label mapping, how it was made, license,
    citation. A function of the dataset alone (no local path: a card is made to be published).

    `sizes` gives each split's bytes on disk (Hugging Face reads a split's entry only with its size)."""
    names = [f"{int(c):02d}" for c in ds.classes]
    counts = {s: np.bincount(encode_labels(getattr(ds, f"y_{s}"), ds.classes), minlength=len(names)) for s in SPLITS}
    label_names = {str(i): n for i, n in enumerate(names)}  # Hugging Face's YAML spells the indices as strings
    header = {
        "pretty_name": "Multi-MNIST (two overlapping MNIST digits, 28x39)",
        "license": "cc-by-sa-3.0",
        "task_categories": ["image-classification"],
        "dataset_info": {
            "features": [{"name": "image", "dtype": "image"},
                         {"name": "label", "dtype": {"class_label": {"names": label_names}}}],
            "splits": [{"name": s, "num_bytes": int((sizes or {}).get(s, 0)), "num_examples": int(counts[s].sum())}
                       for s in SPLITS],
        },
    }
    if fmt == "parquet":
        header["configs"] = [{"config_name": "default",
                              "data_files": [{"split": s, "path": f"data/{s}-*"} for s in SPLITS]}]
    layout = ("`train/` and `test/`, one folder per class named by its two-digit number, one PNG per image"
              if fmt == "imagefolder" else
              "`data/train-00000-of-00001.parquet` and `data/test-...`: an `image` column ({bytes, path} PNG) "
              "and a `label` column (class index)")
    generator = _without_paths(ds.meta.get("generator"))
    made = (f"Generated by multimnist {ds.meta.get('multimnist_version', __version__)} with seed "
            f"{ds.meta.get('seed')} and settings `{json.dumps(generator, sort_keys=True)}`, from the MNIST digits "
            f"with content SHA-256 `{ds.meta.get('mnist', {}).get('sha256')}`."
            if generator else "Made outside multimnist's generator (no meta.json was found).")
    rows = "\n".join(f"| {i} | {n} | {counts['train'][i]} | {counts['test'][i]} |" for i, n in enumerate(names))
    return f"""---
{yaml.dump(header, Dumper=_QuotingDumper, sort_keys=False).strip()}
---

# Multi-MNIST

Greyscale images of 28x39 pixels, each showing a two-digit number drawn as two overlapping real MNIST digits
(the tens digit on the left; 1..9 are drawn with a leading 0). Exported by multimnist as {fmt}: {layout}.

- train: {int(counts['train'].sum()):,} images; test: {int(counts['test'].sum()):,} images; {len(names)} classes
- {made}
- train images use only MNIST training digits, test images only MNIST test digits.

## Labels

The label is the class index; its name is the two-digit number.

| label | number | train | test |
|---|---|---|---|
{rows}

## License

The images are derived from MNIST (Yann LeCun, Corinna Cortes, Christopher J. C. Burges), available under
the Creative Commons Attribution-Share Alike 3.0 license; this export is shared under the same terms.
The multimnist software is MIT-licensed.

## Citation

```bibtex
@software{{multimnist,
  title = {{multimnist: a reproduction of 'Regularization techniques and Autoencoder on Multi-MNIST dataset'}},
  author = {{{{multimnist contributors}}}},
  version = {{{ds.meta.get('multimnist_version', __version__)}}},
  license = {{MIT}}
}}
@techreport{{bertoldi_multimnist,
  title = {{Regularization techniques and Autoencoder on Multi-MNIST dataset}},
  author = {{Bertoldi, David}},
  institution = {{University of Milano-Bicocca}}
}}
@article{{lecun1998mnist,
  title = {{Gradient-based learning applied to document recognition}},
  author = {{LeCun, Yann and Bottou, L{{\\'e}}on and Bengio, Yoshua and Haffner, Patrick}},
  journal = {{Proceedings of the IEEE}}, volume = {{86}}, number = {{11}}, pages = {{2278--2324}}, year = {{1998}}
}}
```
"""
