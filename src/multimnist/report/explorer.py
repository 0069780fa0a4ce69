"""The report's latent explorer: the autoencoder's decoder running in report.html, on the explorer.json the
study's explorer step wrote (format: multimnist/latent/explorer.py).

The report copies that file beside report.html as explorer-data.js (a script, because a page opened from
file:// may load scripts but not fetch JSON); the page's code is templates/explorer.js, no library, no server.
"""

from __future__ import annotations

import json
from pathlib import Path

from multimnist.files import write_text
from multimnist.report.html import Section, Widget

DATA_SCRIPT = "explorer-data.js"
GLOBAL = "MULTIMNIST_EXPLORER"  # the name explorer.js reads the data from


def data_script(payload: dict) -> str:
    """explorer-data.js: the payload as one JavaScript assignment (JSON is JavaScript)."""
    return f"window.{GLOBAL} = {json.dumps(payload, separators=(',', ':'), sort_keys=True)};\n"


def write_data_script(payload: dict, out_dir: str | Path) -> None:
    write_text(Path(out_dir) / DATA_SCRIPT, data_script(payload))


def explorer_section(payload: dict, page_bytes: int | None = None) -> Section:
    """The section: what the explorer shows, where its numbers come from, and what the page weighs."""
    s = Section("Beyond the study: the latent explorer")
    data_bytes = len(data_script(payload).encode())
    source, sampler = payload.get("source") or {}, payload["sampler"]
    n_weights = sum(_size(layer["kernel"]) + _size(layer["bias"]) for layer in payload["decoder"])
    kernel_bytes = sum(len(layer["kernel"]["data"]) for layer in payload["decoder"])
    widths = " -> ".join([str(payload["latent"])] + [str(layer["kernel"]["shape"][1]) for layer in payload["decoder"]])
    s.paragraphs += [
        f"The decoder of autoencoder seed {source.get('autoencoder_seed', '?')} ({widths}) runs in this page, in "
        "plain JavaScript: pick a number to see the mean of its training codes decoded, move along the top "
        f"{len(payload['pca']['explained'])} principal directions of the training codes (in standard deviations "
        "along each), decode the straight line between two numbers' class means, and draw from the sampler "
        f"{_sampler_text(sampler)}, fitted on the same {_count(source.get('n_codes'))} training "
        "codes, with a seeded generator.",
        f"What it weighs: {_kb(data_bytes)} of data in {DATA_SCRIPT} beside this page, of which {_kb(kernel_bytes)} "
        f"are the decoder's {n_weights:,} parameters as {payload['encoding']} (base64)"
        + (f"; this page itself {_kb(page_bytes)}" if page_bytes is not None else "")
        + ". The encoding moves no pixel of the class means by more than "
        f"{255 * payload.get('max_pixel_error', float('nan')):.2f} of 255 against the trained decoder.",
    ]
    s.widgets.append(Widget("explorer.html.j2", {"data_script": DATA_SCRIPT,
                                                 "sampler": _sampler_text(sampler)}))
    return s


def _sampler_text(sampler: dict) -> str:
    """'gmm, 4 components (by BIC)', or 'NAME (what was fitted)' when the description does not name it."""
    fitted = sampler.get("fitted") or sampler["name"]
    return fitted if fitted.startswith(sampler["name"]) else f"{sampler['name']} ({fitted})"


def _count(n) -> str:
    return f"{n:,}" if isinstance(n, int) else "?"


def _size(packed: dict) -> int:
    n = 1
    for s in packed["shape"]:
        n *= s
    return n


def _kb(n: int) -> str:
    return f"{n / 1024:,.0f} kB"
