"""The study's published numbers and the sets of experiments it ran, in one place (D. Bertoldi, "Regularization
techniques and Autoencoder on Multi-MNIST"; section numbers in the comments).

Every layer that quotes the study reads it from here: the pipeline (which configurations to run), the claims
(what the study says of them) and the report (the study's column beside ours). Fractions, not percent.
"""

from __future__ import annotations

# Sections 3.3 and 4.4: the two networks' accuracies (best validation, test, training at the end).
ACCURACY = {
    "unregularized": {"val": 0.915, "test": 0.89, "train": 1.0},
    "regularized": {"val": 0.93, "test": 0.92, "train": 0.94},
}
# Section 1, figure 2: training samples per class.
CLASS_COUNTS = {"mean": 1671, "std": 1045, 43: 117, 17: 130, 11: 3112, 19: 2890}
RAREST, COMMONEST = (43, 117), (11, 3112)
# Section 3.3: the pairs (true -> predicted) the unregularized network confuses; the confusion matrix's colormap
# hides fewer than VISIBLE_CONFUSIONS mismatches, so a pair the study names has at least that many.
CONFUSED_PAIRS = ((50, 30), (19, 17), (34, 39))
VISIBLE_CONFUSIONS = 10
# Section 4.4: how much regularization cut two of them (relative change of the test count).
CUT_PAIRS = {(50, 30): -0.28, (19, 17): -0.70}
# Section 3.3: validation accuracy "reached 91.5% after 14 epochs and remained stable till the end".
PLATEAU_EPOCH = 14
OPTIMAL_EPOCH = 10  # 3.2: "the model reached an optimal state after 10 epochs"
# Section 4.2.4: early stopping (patience 10, min_delta 0.05) "converged after 15-20 epochs" and restored the 20th.
CONVERGED_EPOCHS = (15, 20)
# Section 4.2.1: augmentation "dropped to 86%"; with noise "the loss was very high (>= 0.6)".
AUGMENTED_ACCURACY = 0.86
NOISE_LOSS = 0.6
# Section 3.2: "even using mini-batches of 8 the validation accuracy reached 89%".
BATCH_8_VAL = 0.89
# Section 3.1: LeakyReLU's validation loss "kept to slightly grow after 15 epochs".
LEAKY_RISE_EPOCH = 15
# Section 5.1: the compression factors swept (figure 13), the best one and its latent size.
COMPRESSION_FACTORS = tuple(range(20, 31))
BEST_FACTOR = 20
LATENT_SIZE = 54

# The experiments, as this project's configs name them (src/multimnist/configs/, experiments/classifier.py).
HEADLINE = ("unregularized", "regularized", "challenger")  # the study's two networks, then ours under 100k
ABLATIONS = (  # section 4.2, one technique at a time
    "aug_noise", "aug_shift", "aug_rotation",
    "l1_1e-3", "l1_1e-4", "l1_1e-5", "l2_1e-5", "l2_1e-4_lr1e-2",
    "dropout_0.1", "dropout_0.2", "dropout_0.3", "early_stopping",
)
SIDE_SWEEPS = {  # sections 3.1-3.2: kind -> what it varies
    "depth": "hidden layers",
    "optimizer": "optimizer x initializer",
    "batch": "batch size",
    "activation": "activation",
}
