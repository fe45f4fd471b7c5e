"""`rag train verifier --data DIR --out DIR`: the project's own models, trained on the CPU;
`rag train verifier-eval --data DIR --model DIR`: a saved verifier's held-out figures."""

from __future__ import annotations

import json
from pathlib import Path

from rag.errors import BadInput
from rag.train.verifier_data import SNLI, SQUAD11, SQUAD20


def add_parsers(sub) -> None:
    p = sub.add_parser("train", help="train the project's own models (see models/*/README.md)")
    tsub = p.add_subparsers(dest="model", required=True)
    v = tsub.add_parser("verifier", help="fine-tune the verifier cross-encoder (from the packaged MiniLM or --init)")
    v.add_argument("--data", required=True, help="folder of the training sets (../shared/data/training)")
    v.add_argument("--out", default="models/verifier", help="where to write the weights and config")
    v.add_argument("--init", default=None, help="start from this trained verifier's weights (e.g. models/verifier)")
    v.add_argument("--checkpoint-dir", default=None, help="where to keep checkpoints (outside the repo)")
    v.add_argument("--checkpoint-minutes", type=float, default=15.0)
    v.add_argument("--resume", action="store_true", help="continue from the checkpoint in --checkpoint-dir")
    v.add_argument("--max-minutes", type=float, default=None, help="stop training after this long, then evaluate and save")
    v.add_argument("--seed", type=int, default=13)
    v.add_argument("--epochs", type=float, default=1.0)
    v.add_argument("--start", type=float, default=0.0,
                   help="begin this far (in epochs) into the seeded batch order: --epochs 0.2 --start 0.2 "
                        "trains the second fifth (the same --seed keeps the held-out split)")
    v.add_argument("--batch-size", type=int, default=32)
    v.add_argument("--lr", type=float, default=4e-5)
    v.add_argument("--max-length", type=int, default=160)
    v.add_argument("--limit", type=int, default=None, help="only the first N pairs (a quick check)")
    v.add_argument("--eval-stride", type=int, default=1, help="evaluate on every N-th held-out item (quicker)")
    v.set_defaults(func=cmd_train_verifier)
    e = tsub.add_parser("verifier-eval", help="held-out figures of a saved verifier (same splits as training)")
    e.add_argument("--data", required=True)
    e.add_argument("--model", default="models/verifier")
    e.add_argument("--seed", type=int, default=13)
    e.add_argument("--limit", type=int, default=None)
    e.add_argument("--eval-stride", type=int, default=1, help="every N-th held-out item (quicker)")
    e.add_argument("--record", default=None, help="also write the figures into this config.json ...")
    e.add_argument("--key", default="heldout_compare", help="... under this key")
    e.set_defaults(func=cmd_eval_verifier)


def _check(data: Path) -> None:
    missing = [n for n in (SQUAD11, SQUAD20, SNLI) if not (data / n).is_file()]
    if missing:
        raise BadInput(f"{data} lacks {', '.join(missing)} (see ../shared/data/training/README.md)")


def cmd_train_verifier(args) -> int:
    from rag.train.verifier_train import train

    data = Path(args.data)
    _check(data)
    if args.init and not (Path(args.init) / "model.safetensors").is_file():
        raise BadInput(f"--init {args.init}: no model.safetensors there")
    if args.resume and not args.checkpoint_dir:
        raise BadInput("--resume needs --checkpoint-dir")
    if args.epochs <= 0 or args.start < 0:
        raise BadInput("--epochs must be above 0 and --start at least 0")
    train(data, Path(args.out), seed=args.seed, epochs=args.epochs, start=args.start, batch_size=args.batch_size,
          lr=args.lr, max_length=args.max_length, init=Path(args.init) if args.init else None,
          checkpoint_dir=Path(args.checkpoint_dir) if args.checkpoint_dir else None,
          checkpoint_minutes=args.checkpoint_minutes, resume=args.resume,
          max_minutes=args.max_minutes, limit=args.limit, eval_stride=args.eval_stride)
    return 0


def cmd_eval_verifier(args) -> int:
    from rag.train.verifier_train import evaluate_saved

    data = Path(args.data)
    _check(data)
    if not (Path(args.model) / "config.json").is_file():
        raise BadInput(f"--model {args.model}: no verifier there")
    figures = evaluate_saved(data, Path(args.model), seed=args.seed, limit=args.limit,
                             eval_stride=args.eval_stride)
    print(json.dumps(figures, indent=2))
    if args.record:
        path = Path(args.record)
        cfg = json.loads(path.read_text())
        cfg[args.key] = figures
        path.write_text(json.dumps(cfg, indent=2) + "\n")
    return 0
