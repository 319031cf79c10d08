"""Write routing instances by family, for the benchmark.

    python -m logistics.generate --out DIR [--seed N] [--repeat K]
        [--sizes 50,100,200,400,1000] [--placements random,clustered,mixed]
        [--capacities tight,loose] [--windows none,narrow,wide]

One file per family, size and seed (seeds N to N + K - 1), named after them, e.g.
``G-clu-tight-narrow-n200-s1.txt``: Solomon ``.txt`` with windows, CVRPLIB ``.vrp``
without. The same arguments always write the same bytes. See logistics/vrp/families.py
and logistics/README.md ("Instance families").
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from logistics.vrp.families import (
    CAPACITIES,
    MAX_SIZE,
    MIN_SIZE,
    PLACEMENTS,
    WINDOWS,
    Family,
    generate,
)


def _size(raw: str) -> int:
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if not MIN_SIZE <= n <= MAX_SIZE:
        raise argparse.ArgumentTypeError(
            f"taille invalide : {raw!r} (un nombre de clients de {MIN_SIZE} à {MAX_SIZE})"
        )
    return n


def _list_of[T](parse: Callable[[str], T]) -> Callable[[str], list[T]]:
    def parse_list(raw: str) -> list[T]:
        items = [parse(part.strip()) for part in raw.split(",") if part.strip()]
        if not items:
            raise argparse.ArgumentTypeError("liste vide")
        return list(dict.fromkeys(items))

    return parse_list


def _choice(allowed: Sequence[str]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in allowed:
            raise argparse.ArgumentTypeError(
                f"valeur inconnue : {raw!r} (au choix : {', '.join(allowed)})"
            )
        return raw

    return parse


def _natural(least: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            value = least - 1
        if value < least:
            raise argparse.ArgumentTypeError(f"entier d'au moins {least} attendu : {raw!r}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m logistics.generate``."""
    parser = argparse.ArgumentParser(prog="python -m logistics.generate", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--seed", type=_natural(0), default=1, metavar="N")
    parser.add_argument("--repeat", type=_natural(1), default=1, metavar="K")
    parser.add_argument("--sizes", type=_list_of(_size), default=[50, 100, 200, 400, 1000])
    parser.add_argument(
        "--placements", type=_list_of(_choice(PLACEMENTS)), default=list(PLACEMENTS)
    )
    parser.add_argument(
        "--capacities", type=_list_of(_choice(CAPACITIES)), default=list(CAPACITIES)
    )
    parser.add_argument("--windows", type=_list_of(_choice(WINDOWS)), default=list(WINDOWS))
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out : {args.out} n'est pas un dossier")
    args.out.mkdir(parents=True, exist_ok=True)

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(
        [
            "instance",
            "n",
            "capacity",
            "fill_fewest",
            "route_size",
            "fill_drawn",
            "demand",
            "depot",
            "horizon",
        ]
    )
    for seed in range(args.seed, args.seed + args.repeat):
        for placement in args.placements:
            for capacity in args.capacities:
                for windows in args.windows:
                    for n in args.sizes:
                        inst = generate(Family(placement, capacity, windows), n, seed)
                        path = args.out / f"{inst.name}{inst.suffix}"
                        path.write_text(inst.text(), encoding="utf-8", newline="\n")
                        out.writerow(
                            [
                                *(path.name, n, inst.capacity, f"{inst.fill_fewest:.3f}"),
                                *(inst.route_size, f"{inst.fill_drawn:.3f}", inst.demand_rule),
                                *(inst.depot_position, inst.horizon),
                            ]
                        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
