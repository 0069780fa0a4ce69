"""`multimnist train classifier|autoencoder|reader`: train one model (or one per seed) into run folders.

The experiments import Keras and JAX, so they are imported inside each command: `multimnist --help` and
`data make` stay fast and work on the core install.
"""

from __future__ import annotations

from multimnist.cli.options import (
    RANGE_HELP,
    add_out,
    add_overrides,
    add_run_options,
    command,
    group,
    offer,
    parse_range,
    run_options,
    training_dataset,
    whole,
)
from multimnist.config import builtin_configs


def add_commands(subparsers) -> None:
    train = group(subparsers, "train", "train a model into a run folder", dest="train_command", metavar="MODEL")

    clf = command(train, "classifier", "train a feed-forward classifier (study sections 3-4)")
    offer(clf.add_argument("--config", default="unregularized",
                           help="built-in config name (e.g. unregularized, regularized, challenger) or a YAML file"),
          [name for name in builtin_configs() if name not in ("autoencoder", "reader")])
    clf.add_argument("--data", type=training_dataset, required=True, help="dataset folder (from `data make`) or .npz")
    add_out(clf, "run folder; with --seeds, the folder that gets NAME/seed-S run folders")
    seeds = clf.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=whole("--seed"), help="seed of this run (default: the config's, 0)")
    seeds.add_argument("--seeds", help=f"several seeds, one run folder each ({RANGE_HELP})")
    clf.add_argument("--epochs", type=whole("--epochs", 1), help="override the config's number of epochs")
    add_overrides(clf, "model.dropout=0.2")
    add_run_options(clf, seeds=None)  # --seeds above, exclusive with --seed
    clf.set_defaults(run=_classifier)

    ae = command(train, "autoencoder", "train the dense autoencoder (study section 5)")
    ae.add_argument("--config", default="autoencoder", help="built-in config name or a YAML file")
    ae.add_argument("--data", type=training_dataset, required=True, help="dataset folder (from `data make`) or .npz")
    add_out(ae, "run folder")
    ae.add_argument("--seed", type=whole("--seed"), default=0, help="seed of the run (default 0)")
    ae.add_argument("--epochs", type=whole("--epochs", 1), help="override the config's number of epochs")
    add_overrides(ae, "model.compression_factor=25")
    ae.set_defaults(run=_autoencoder)

    reader = command(train, "reader", "train the digit-pair reader (00..99) that scores generated images")
    add_out(reader, "run folder (its 00..99 data goes to OUT/data)")
    reader.add_argument("--config", default="reader", help="built-in config name or a YAML file")
    reader.add_argument("--seed", type=whole("--seed"), default=0, help="seed of the run and of its data (default 0)")
    reader.add_argument("--epochs", type=whole("--epochs", 1), help="override the config's number of epochs")
    reader.add_argument("--train-size", type=whole("--train-size", 1),
                        help="00..99 training images to generate (default 60000)")
    add_overrides(reader, "training.batch_size=256")
    reader.set_defaults(run=_reader)


def _classifier(args) -> int:
    from multimnist.experiments.classifier import run_configs, train_classifier  # Keras/JAX: slow to import

    if args.seeds is not None:
        [results] = run_configs([args.config], args.data, args.out, seeds=parse_range(args.seeds, "--seeds", minimum=0),
                                epochs=args.epochs, overrides=args.overrides, **run_options(args)).values()
        for m in results:
            print(f"{m['name']} seed {m['seed']}: test accuracy {m['test_accuracy']:.2%}")
        print(f"wrote {len(results)} run folders under {args.out}")
        return 0
    m = train_classifier(args.config, args.data, args.out, seed=args.seed, epochs=args.epochs,
                         overrides=args.overrides)
    print(f"{m['name']} seed {m['seed']}: test accuracy {m['test_accuracy']:.2%}, best validation accuracy "
          f"{m['best_val_accuracy']:.2%}, {m['epochs_run']} epochs; wrote {args.out}")
    return 0


def _autoencoder(args) -> int:
    from multimnist.experiments.autoencoder import train_autoencoder  # Keras/JAX: slow to import

    m = train_autoencoder(args.config, args.data, args.out, seed=args.seed, epochs=args.epochs,
                          overrides=args.overrides)
    print(f"wrote {args.out}: latent {m['latent_size']}, test MSE {m['test_mse']:.5f}, {m['epochs_run']} epochs")
    return 0


def _reader(args) -> int:
    from multimnist.experiments.reader import train_reader  # Keras/JAX: slow to import

    m = train_reader(args.out, seed=args.seed, epochs=args.epochs, train_size=args.train_size, config=args.config,
                     overrides=args.overrides)
    print(f"wrote {args.out}: test accuracy tens {m['tens_accuracy']:.2%}, units {m['units_accuracy']:.2%}")
    return 0
