"""scores.md: one autoencoder seed's table of generated-image scores, in words and Markdown (written by the
generation step beside scores.json, which is what the report reads).

Rendering only. The verdicts on the samplers come from the claims table (report/claims.py), which compares the
samplers across autoencoder seeds with the same criteria as every other claim; one seed's table states no verdict.
"""

from __future__ import annotations

from multimnist.formatting import MISSING, pct

VERDICTS = ("Verdicts: the report's claims table compares the samplers across autoencoder seeds (`multimnist "
            "report RUN`); the tests above are one seed's, pooled over its images, and ignore the variance between "
            "autoencoders.")


def _share(v, ci) -> str:
    """'23.4% [20.9–26.1]': a share and its interval in percent."""
    return pct(v) if ci is None else f"{pct(v)} [{100 * ci[0]:.1f}–{100 * ci[1]:.1f}]"


def _figure(v, ci, digits: int) -> str:
    """'31.2 [28.0–34.0]': a subsampled figure and its interval."""
    return MISSING if v is None else f"{v:.{digits}f} [{ci[0]:.{digits}f}–{ci[1]:.{digits}f}]"


def _memorized(r: dict) -> str:
    """'0.98 (p 0.41); 1.02 (p 0.7); 1.01 (p 0.62)': median nearest-training distance over the held-out images'
    (image), over the reconstructions' (image) and over the held-out codes' (code), each with the p-value of
    "closer"."""
    parts = [MISSING if r.get(k) is None else f"{r[k]:.2f} (p {r[p]:.2g})"
             for k, p in (("nn_ratio", "nn_closer_p"), ("nn_vs_reconstruction", "nn_vs_reconstruction_p"),
                          ("code_nn_ratio", "code_closer_p"))]
    return "; ".join(parts)


def _asked(r: dict) -> str:
    if r.get("as_requested_share") is None:
        return MISSING
    below = r.get("numbers_below_half")
    return (f"{pct(r['as_requested_share'])} over {r['as_requested_numbers']} numbers"
            + (f", {below} below half the reconstructions'" if below is not None else ""))


def scores_markdown(table: dict) -> str:
    """scores.md: what counts as readable and the equal footing, the table, then the verdict."""
    rows, m = table["rows"], table["equal_n"]
    t = table["readable_threshold"]
    head = [f"Readable threshold: {t} (an image is readable when the reader is at least {t:.0%} sure of both "
            "digits).",
            f"equal_n: {m} readable images per row for distinct numbers and entropy (fixed for every row, seed "
            f"and run; a row with fewer has none), mean over {table['draws']} random subsets; a row with just {m} "
            "has a zero-width interval, so rows are compared by the tests the verdict names, not by interval "
            "overlap."
            if m is not None else
            f"equal_n: none; no row has the {table['min_readable']} readable images distinct numbers and entropy "
            "need.",
            f"Intervals: {table['interval']}.", ""]
    md = [f"| sampler | fitted | readable | outside 1..50 (of readable) | distinct numbers (of {m}) | "
          f"entropy (bits, of {m}) | Frechet distance | nearest-train RMS | near copies | nearest train / held-out "
          "image's; / reconstruction's; code / held-out code's | read as asked | most read |",
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        readable = f"{r['readable']}: {_share(r['readable_share'], r['readable_share_ci'])}"
        outside = f"{r['outside_1_50']}: {_share(r['outside_1_50_share'], r['outside_1_50_ci'])}"
        md.append(f"| {r['sampler']} | {r['fitted']} | {readable} | {outside} "
                  f"| {_figure(r['distinct_numbers'], r['distinct_numbers_ci'], 1)} "
                  f"| {_figure(r['entropy_bits'], r['entropy_bits_ci'], 2)} | {r['frechet_distance']:.2f} "
                  f"| {r['nn_distance_mean']:.3f} | {pct(r['near_copy_share'])} | {_memorized(r)} "
                  f"| {_asked(r)} | {r['top_numbers']} |")
    return "\n".join(head + md) + "\n\n" + VERDICTS + "\n"
