"""Choose the generation claims' sampler and class-diffusion's guidance on an autoencoder used for nothing else.

The rule, fixed before scoring: among every sampler, and class-diffusion at each guidance w in (0, 0.5, 1, 2, 3),
the highest readable share whose Frechet distance is at most twice the reconstructions' (the two unconditional
targets set for the samplers). Run on 2026-12-07 (docs/generation.md gives the table):

    multimnist train autoencoder --data runs/paper-study/data --out runs/ae-100 --seed 100
    multimnist train reader --out runs/reader --seed 0
    python docs/notes/scripts/select_sampler.py runs/ae-100 runs/reader runs/paper-study/data runs/select

(runs/paper-study/data: the study preset's data, as the paper run made it; the script as run then named its
folders score/ for w = 1 and score-wW for the others.)

Seed 100 is outside every profile's seeds and the sequential design's added seeds (3 to 9), so no run the claims
judge trains this autoencoder. 313 s for every sampler at w = 1, then about 25 s for each other w (the fit is
reused: guidance only changes the sampling) on the 2 cores shared with a paper run.
"""

import shutil
import sys
from pathlib import Path

from multimnist.experiments.generation import score_samplers

GUIDANCE = (0.0, 0.5, 2.0, 3.0)  # besides 1, the default when this was run

ae, reader, data, out = map(Path, sys.argv[1:5])
score_samplers(ae, reader, data, out / "w1", n=1000, seed=0, options={"class-diffusion": {"guidance": 1.0}})
for w in GUIDANCE:
    folder = out / f"w{w:g}"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(out / "w1" / "fit-class-diffusion.npz", folder / "fit-class-diffusion.npz")
    score_samplers(ae, reader, data, folder, n=1000, seed=0, samplers=["class-diffusion"],
                   options={"class-diffusion": {"guidance": w}})
