"""Screen the defence and back effects (docs/hierarchical.md) with bench.select, keeping each fitted model
so that the two ways of predicting an unseen level (``unseen_effects: sample`` and ``zero``) are scored
on the same posterior draws, without a second fit.

    # fits (under the CPU lock): bench.select's rolling origins, plus OUT/models/*.npz
    flock /work/wt/_cpu.lock .venv/bin/python -m bench.effects_compare fit --out /tmp/hier/sel \\
        --origins 2021 2022 --set opp_effects=ar1 --set back_effects=true \\
        --base-set draws=150 --base-set tune=150 --base-set keep_draws=400
    # the same models scored with the other unseen mode, as methods "model:<choice>|unseen=zero"
    .venv/bin/python -m bench.effects_compare rescore --out /tmp/hier/sel
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import select as SEL  # noqa: E402
from nfl_bnn import validate as V  # noqa: E402

log = logging.getLogger("bench.effects_compare")


def model_name(p) -> str:
    """The choice a params object is, in bench.select's naming (the overrides that differ from default)."""
    if p.opp_effects != "none" and p.back_effects:
        return "both"
    if p.opp_effects != "none":
        return f"opp_effects={json.dumps(p.opp_effects)}"
    return "back_effects=true" if p.back_effects else SEL.DEFAULT


def saving_fitter(out: Path):
    """bench.select's fitter, saving every model with effects to OUT/models/<choice>__<origin>.npz."""
    from nfl_bnn.train import fit

    def fitter(train, p, first, last):
        model, diag = fit(train, p, first, last)
        if "effects" in model.meta:
            path = out / "models" / f"{model_name(p)}__{last + 1}.npz"
            path.parent.mkdir(parents=True, exist_ok=True)
            model.save(path)
            diag = {**diag, "artifact_bytes": path.stat().st_size}
            SEL._append_fitlog(out, {"method": f"model:{model_name(p)}", "origin": last + 1,
                                     **{k: v for k, v in diag.items() if k.startswith(("opp_", "back_", "artifact"))}})
        return model, diag

    return fitter


def rescore(out: Path, first_season: int, cache: Path, unseen: str = "zero") -> None:
    """Score every saved model again with ``unseen`` for the levels its training did not see."""
    from nfl_bnn.model import MixtureExpertsBNN

    frame = SEL._frames(cache, first_season, max(SEL.FINAL_ORIGINS))[0]
    for path in sorted((out / "models").glob("*.npz")):
        name, origin = path.stem.rsplit("__", 1)
        dest = out / "rows" / f"model__{name}|unseen={unseen}__{origin}.parquet"
        if dest.is_file():
            continue
        model = MixtureExpertsBNN.load(path)
        model.unseen_effects = unseen
        _, test = SEL.origin_split(frame, int(origin), first_season)
        rs = SEL.row_scores(f"model:{name}|unseen={unseen}", int(origin), test,
                            V.from_cdf("moe_bnn", model.cdf(test, V.GRID)))
        rs.to_parquet(dest)
        log.info("%s %s unseen=%s: CRPS %.3f", name, origin, unseen, rs["crps"].mean())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.effects_compare")
    ap.add_argument("what", choices=["fit", "rescore"])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--first-season", type=int, default=2012)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/hier/cache"))
    args, rest = ap.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.what == "fit":
        return SEL.main(["--out", str(args.out), "--cache", str(args.cache), "--what", "model",
                         "--first-season", str(args.first_season), *rest], fitter=saving_fitter(args.out))
    rescore(args.out, args.first_season, args.cache)
    print(SEL.report(args.out, f"model:{SEL.DEFAULT}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
