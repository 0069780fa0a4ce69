"""The latent explorer's file, explorer.json: what the report's page needs to run the decoder in the browser.

The generation side writes it (experiments/explorer.py), the report reads it (report/explorer.py); this module
is the contract between them: the file's name, its format, the payload builder and the strict reader, and a
numpy reference decoder that computes exactly what the page's JavaScript computes (the tests hold the page to
it, and it to Keras).

Arrays travel as {"dtype", "shape", "data": base64 of little-endian bytes}: float32, float16, or int8 with one
float32 scale per output column ("scale"), so a kernel W (in, out) is q * scale. The decoder's kernels take the
chosen encoding (they are nearly all of the payload), the mixture's Cholesky factors float16 unless float32 is
chosen, everything else float32.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

from multimnist.errors import UserError
from multimnist.latent.mixture import Mixture
from multimnist.layout import read_json

import numpy as np

EXPLORER = "explorer.json"
FORMAT = 1
ENCODINGS = ("float32", "float16", "int8")
ACTIVATIONS = ("linear", "relu", "leaky_relu", "sigmoid", "tanh")  # what the page's decoder can apply
DIRECTIONS = 8  # principal directions given a slider


def pack(a: np.ndarray, dtype: str = "float32") -> dict:
    """An array as the file carries it; int8 quantizes each column (last axis) on its own scale."""
    a = np.asarray(a, dtype=np.float32)
    if dtype not in ENCODINGS:
        raise UserError(f"unknown encoding {dtype!r}; choose from {', '.join(ENCODINGS)}")
    out = {"dtype": dtype, "shape": list(a.shape)}
    if dtype == "int8":
        scale = np.abs(a).reshape(-1, a.shape[-1]).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        q = np.clip(np.rint(a / scale), -127, 127).astype("<i1")
        return {**out, "data": _b64(q), "scale": _b64(scale.astype("<f4"))}
    return {**out, "data": _b64(a.astype("<f2" if dtype == "float16" else "<f4"))}


def unpack(d: dict) -> np.ndarray:
    """A packed array back as float32 (the values the page computes with)."""
    try:
        dtype, shape = d["dtype"], tuple(int(s) for s in d["shape"])
        raw = base64.b64decode(d["data"], validate=True)
        if dtype == "int8":
            scale = np.frombuffer(base64.b64decode(d["scale"], validate=True), "<f4")
            return (np.frombuffer(raw, "<i1").astype(np.float32).reshape(-1, len(scale)) * scale).reshape(shape)
        return np.frombuffer(raw, {"float16": "<f2", "float32": "<f4"}[dtype]).astype(np.float32).reshape(shape)
    except (KeyError, TypeError, ValueError) as e:
        raise UserError(f"a packed array is broken: {e!r}") from None


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def principal_directions(codes: np.ndarray, k: int = DIRECTIONS) -> dict:
    """The top k principal directions of `codes` (N, L): unit vectors (k, L), each signed so its largest entry
    is positive, the codes' std along each and its share of the total variance."""
    codes = np.asarray(codes, dtype=np.float64)
    values, vectors = np.linalg.eigh(np.cov(codes, rowvar=False))
    order = np.argsort(values)[::-1][:k]
    values, vectors = np.clip(values[order], 0, None), vectors[:, order].T  # (k, L)
    vectors *= np.sign(vectors[np.arange(len(vectors)), np.abs(vectors).argmax(axis=1)])[:, None]
    return {"mean": codes.mean(axis=0), "directions": vectors, "std": np.sqrt(values),
            "explained": values / np.trace(np.cov(codes, rowvar=False))}


def class_means(codes: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(numbers present, their mean code (K, L), their counts)."""
    numbers, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    sums = np.zeros((len(numbers), codes.shape[1]))
    np.add.at(sums, inverse, codes)
    return numbers, sums / counts[:, None], counts


def explorer_payload(layers: Sequence[dict], codes: np.ndarray, labels: np.ndarray, mixture: Mixture,
                     sampler: dict, image_shape: tuple[int, int], encoding: str = "float16",
                     source: dict | None = None) -> dict:
    """explorer.json's content.

    layers: the decoder's dense layers in order, each {"kernel": (in, out), "bias": (out,), "activation": one
    of ACTIVATIONS, "negative_slope": for leaky_relu}; codes (N, L) and labels (N,): the codes the class means
    and principal directions come from (the autoencoder's training codes); mixture: the sampler's distribution;
    sampler: what to say about it (name, fitted); source: provenance.
    """
    dim = codes.shape[1]
    if len(codes) != len(labels) or len(codes) < 2:
        raise UserError(f"the explorer needs at least 2 codes with one label each, got {codes.shape} and "
                        f"{np.shape(labels)}")
    if mixture.dim != dim:
        raise UserError(f"the sampler draws codes of size {mixture.dim}, the decoder takes {dim}")
    decoder, width = [], dim
    for i, layer in enumerate(layers):
        kernel, bias, act = np.asarray(layer["kernel"]), np.asarray(layer["bias"]), layer["activation"]
        if act not in ACTIVATIONS or kernel.shape != (width, len(bias)):
            raise UserError(f"decoder layer {i}: the explorer runs dense layers with {', '.join(ACTIVATIONS)}; got "
                            f"a kernel {kernel.shape} after width {width}, activation {act!r}")
        decoder.append({"activation": act, "negative_slope": float(layer.get("negative_slope", 0.0)),
                        "kernel": pack(kernel, encoding), "bias": pack(bias)})
        width = len(bias)
    if width != image_shape[0] * image_shape[1]:
        raise UserError(f"the decoder's output has {width} values, not an image of {image_shape}")
    numbers, means, counts = class_means(codes, labels)
    pca = principal_directions(codes, min(DIRECTIONS, dim))
    rows, cols = np.tril_indices(dim)
    chol = mixture.cholesky()[:, rows, cols]  # (K, L, L) -> (K, L(L+1)/2): the lower triangles, row by row
    return {
        "format": FORMAT, "height": int(image_shape[0]), "width": int(image_shape[1]), "latent": int(dim),
        "encoding": encoding, "decoder": decoder,
        "numbers": [int(n) for n in numbers], "counts": [int(c) for c in counts], "class_means": pack(means),
        "pca": {"mean": pack(pca["mean"]), "directions": pack(pca["directions"]), "std": pack(pca["std"]),
                "explained": [round(float(e), 6) for e in pca["explained"]]},
        "sampler": {**sampler, "weights": pack(mixture.weights), "means": pack(mixture.means),
                    "cholesky": pack(chol, "float32" if encoding == "float32" else "float16")},
        "source": source or {},
    }


def read_explorer(path) -> dict | None:
    """explorer.json checked against its format, or None when there is none; a UserError naming a broken one."""
    path = Path(path)
    if not path.is_file():
        return None
    payload = read_json(path)
    try:
        if payload["format"] != FORMAT:
            raise UserError(f"{path}: explorer format {payload['format']}, this version reads {FORMAT}")
        dim, width = payload["latent"], payload["latent"]
        for layer in payload["decoder"]:
            kernel = unpack(layer["kernel"])
            if kernel.shape[0] != width or layer["activation"] not in ACTIVATIONS:
                raise ValueError("decoder layers do not chain")
            width = kernel.shape[1]
        if width != payload["height"] * payload["width"]:
            raise ValueError("the decoder's output is not an image")
        if unpack(payload["class_means"]).shape != (len(payload["numbers"]), dim):
            raise ValueError("one class mean per number")
        if unpack(payload["pca"]["directions"]).shape[1] != dim or unpack(payload["sampler"]["means"]).shape[1] != dim:
            raise ValueError("directions and mixture means must have the latent size")
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise UserError(f"cannot read {path}: {e!r}") from None
    return payload


def decode(payload: dict, codes: np.ndarray) -> np.ndarray:
    """The page's decoder in numpy: codes (N, L) -> images (N, height * width) in [0, 1], from the file's weights."""
    h = np.asarray(codes, dtype=np.float64)
    for layer in payload["decoder"]:
        h = h @ unpack(layer["kernel"]).astype(np.float64) + unpack(layer["bias"])
        h = _activate(h, layer["activation"], layer["negative_slope"])
    return h


def _activate(h: np.ndarray, name: str, slope: float) -> np.ndarray:
    if name == "relu":
        return np.maximum(h, 0)
    if name == "leaky_relu":
        return np.where(h >= 0, h, slope * h)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-h))
    if name == "tanh":
        return np.tanh(h)
    return h
