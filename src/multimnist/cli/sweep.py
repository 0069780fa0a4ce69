"""`multimnist sweep depth|optimizer|batch|activation|compression`: one model per setting of a knob, and the table.

The experiments import Keras and JAX, so they are imported inside each command (startup time, lean install).
"""

from __future__ import annotations

from multimnist.cli.options import (
    RANGE_HELP,
    add_out,
    add_run_options,
    command,
    group,
    parse_range,
    run_options,
    training_dataset,
    whole,
)

CLASSIFIER_KNOBS = {
    "depth": "2 to 5 hidden layers within 100k parameters",
    "optimizer": "SGD, RMSprop, Adam x GlorotNormal, HeNormal",
    "batch": "batch size 8, 32, 128, 256, 512",
    "activation": "sigmoid vs LeakyReLU(0.01)",
}


def add_commands(subparsers) -> None:
    sweep = group(subparsers, "sweep", "train one model per setting of a knob", dest="sweep_command",
                  metavar="KNOB")
    for kind, what in CLASSIFIER_KNOBS.items():
        knob = command(sweep, kind, f"the classifier over {what} (study section 3)")
        knob.add_argument("--data", type=training_dataset, required=True, help="dataset folder or .npz")
        add_out(knob, "folder for SETTING/seed-S runs and compare.*")
        knob.add_argument("--epochs", type=whole("--epochs", 1), help="override the 50 epochs")
        add_run_options(knob)
        knob.set_defaults(run=_classifier_sweep, kind=kind)

    comp = command(sweep, "compression", "one autoencoder per compression factor (study figures 12-13)")
    comp.add_argument("--factors", required=True, help=f"compression factors ({RANGE_HELP}, e.g. 20..30)")
    comp.add_argument("--data", type=training_dataset, required=True, help="dataset folder or .npz")
    add_out(comp, "folder for cf-F/seed-S runs, sweep.* and figures")
    comp.add_argument("--epochs", type=whole("--epochs", 1), help="override the config's number of epochs")
    comp.add_argument("--config", default="autoencoder", help="the autoencoder config every factor starts from")
    add_run_options(comp)
    comp.set_defaults(run=_compression)


def _classifier_sweep(args) -> int:
    from multimnist.experiments.classifier import run_sweep  # Keras/JAX: slow to import

    result = run_sweep(args.kind, args.data, args.out, seeds=parse_range(args.seeds, "--seeds", minimum=0),
                       epochs=args.epochs,
                       **run_options(args))
    for row in result["table"]:
        print(f"{row['name']}: test accuracy {100 * row['test_accuracy_mean']:.1f}% over {row['n_seeds']} seed(s)")
    print(f"wrote {args.out}/compare.csv and compare.md")
    return 0


def _compression(args) -> int:
    from multimnist.experiments.autoencoder import sweep_compression  # Keras/JAX: slow to import

    rows = sweep_compression(parse_range(args.factors, "--factors"), args.data, args.out,
                             seeds=parse_range(args.seeds, "--seeds", minimum=0),
                                               epochs=args.epochs, config=args.config,
                             **run_options(args))
    print((args.out / "sweep.md").read_text(), end="")
    print(f"wrote {args.out}/sweep.csv, sweep.md, verdict.txt, mse_epochs.png, mse_factor.png ({len(rows)} factors)")
    return 0
