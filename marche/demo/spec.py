"""A demo territory described in a TOML file, on top of the real places shipped beside it."""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_SPEC = DATA_DIR / "loos-en-gohelle.toml"


class DemoSpecError(ValueError):
    """The demo description refers to something that does not exist."""


def demo_territories() -> list[str]:
    """The slugs of the demo territories shipped in the data folder (``<slug>.toml``)."""
    return sorted(path.stem for path in DATA_DIR.glob("*.toml"))


def demo_spec_path(slug: str) -> Path:
    """The demo description of a shipped territory, found by its slug."""
    known = demo_territories()
    if slug not in known:
        raise DemoSpecError(
            f"Territoire de démonstration inconnu : « {slug} ». Territoires connus : "
            + ", ".join(known)
        )
    return DATA_DIR / f"{slug}.toml"


@dataclass(frozen=True)
class Location:
    latitude: Decimal
    longitude: Decimal
    address: str = ""
    postcode: str = ""
    city: str = ""
    name: str = ""
    source_ref: str = ""

    def as_fields(self) -> dict[str, Any]:
        """The fields of a LocatedModel."""
        return {
            "latitude": self.latitude,
            "longitude": self.longitude,
            "address": self.address,
            "postcode": self.postcode,
            "city": self.city,
        }


def _title(value: str) -> str:
    """La Poste writes addresses in capitals; show them as people write them."""
    return value.title() if value.isupper() else value


@dataclass
class DemoSpec:
    """The parsed demo description and the place files it refers to."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = DEFAULT_SPEC) -> DemoSpec:
        """Read a demo description; its place files are looked up in the same folder."""
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError as exc:
            raise DemoSpecError(f"Fichier de démonstration introuvable : {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise DemoSpecError(f"Fichier de démonstration illisible ({path}) : {exc}") from exc
        return cls(path=path, data=data)

    def section(self, name: str) -> list[dict[str, Any]]:
        return list(self.data.get(name, []))

    @cached_property
    def places(self) -> dict[str, dict[str, str]]:
        with (self.path.parent / "places-lensois.csv").open(encoding="utf-8") as handle:
            return {row["place_id"]: row for row in csv.DictReader(handle)}

    @cached_property
    def communes(self) -> dict[str, dict[str, str]]:
        with (self.path.parent / "communes-lensois.csv").open(encoding="utf-8") as handle:
            return {row["insee_code"]: row for row in csv.DictReader(handle)}

    def locate(self, item: dict[str, Any]) -> Location:
        """Where an item stands: a real place by id, or the centre of a commune by INSEE code."""
        if "place" in item:
            row = self.places.get(item["place"])
            if row is None:
                raise DemoSpecError(f"Lieu inconnu : {item['place']}")
            commune = self.communes.get(row["insee_code"], {})
            return Location(
                latitude=Decimal(row["lat"]),
                longitude=Decimal(row["lon"]),
                address=item.get("address", _title(row["address"])),
                postcode=item.get("postcode", row["postcode"]),
                city=item.get("city", commune.get("name") or _title(row["commune"])),
                name=row["name"],
                source_ref=row["source_ref"],
            )
        if "commune" in item:
            row = self.communes.get(item["commune"])
            if row is None:
                raise DemoSpecError(f"Commune inconnue : {item['commune']}")
            return Location(
                latitude=Decimal(row["lat"]),
                longitude=Decimal(row["lon"]),
                address=item.get("address", ""),
                postcode=item.get("postcode", row["postcode"]),
                city=item.get("city", row["name"]),
                name=row["name"],
                source_ref=row["insee_code"],
            )
        raise DemoSpecError(f"Ni « place » ni « commune » pour : {item.get('slug', item)}")
