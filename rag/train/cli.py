"""`rag train verifier --data DIR --out DIR`: the project's own models, trained on the CPU."""

from __future__ import annotations

from pathlib import Path

from rag.errors import BadInput
from rag.train.verifier_data import SNLI, SQUAD11, SQUAD20
from rag.train.verifier_train import train


def add_parsers(sub) -> None:
    p = sub.add_parser("train", help="train the project's own models (see models/*/README.md)")
    tsub = p.add_subparsers(dest="model", required=True)
    v = tsub.add_parser("verifier", help="fine-tune the verifier cross-encoder from the packaged MiniLM")
    v.add_argument("--data", required=True, help="folder of the training sets (../shared/data/training)")
    v.add_argument("--out", default="models/verifier", help="where to write the weights and config")
    v.add_argument("--seed", type=int, default=13)
    v.add_argument("--epochs", type=float, default=1.0)
    v.add_argument("--batch-size", type=int, default=32)
    v.add_argument("--lr", type=float, default=4e-5)
    v.add_argument("--squad11-questions", type=int, default=13000)
    v.add_argument("--limit", type=int, default=None, help="only the first N pairs (a quick check)")
    v.set_defaults(func=cmd_train_verifier)


def cmd_train_verifier(args) -> int:

    data = Path(args.data)
    missing = [n for n in (SQUAD11, SQUAD20, SNLI) if not (data / n).is_file()]
    if missing:
        raise BadInput(f"{data} lacks {', '.join(missing)} (see ../shared/data/training/README.md)")
    train(data, Path(args.out), seed=args.seed, epochs=args.epochs, batch_size=args.batch_size,
          lr=args.lr, squad11_questions=args.squad11_questions, limit=args.limit)
    return 0
