"""Refuse malformed problems early, with an error naming the culprit."""

from __future__ import annotations

from logistics.vrp.errors import InvalidProblem
from logistics.vrp.model import Problem, SolveOptions, TimeWindow


def _fail(code: str, message: str, culprit: str) -> InvalidProblem:
    return InvalidProblem(message, code=code, culprit=culprit)


def _check_window(window: TimeWindow, what: str, culprit: str) -> None:
    if window.end < window.start:
        raise _fail(
            "invalid_window",
            f"{what} « {culprit} » : la fenêtre horaire finit ({window.end}) "
            f"avant de commencer ({window.start}).",
            culprit,
        )
    if window.start < 0:
        raise _fail(
            "invalid_window",
            f"{what} « {culprit} » : fenêtre horaire négative.",
            culprit,
        )


def _check_coords(lat: float | None, lon: float | None, what: str, culprit: str) -> None:
    if lat is None or lon is None:
        raise _fail(
            "missing_coordinates",
            f"{what} « {culprit} » n'a pas de coordonnées.",
            culprit,
        )
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise _fail(
            "invalid_coordinates",
            f"{what} « {culprit} » : coordonnées hors limites ({lat}, {lon}).",
            culprit,
        )


def validate_problem(problem: Problem, *, requires_coordinates: bool) -> None:
    """Raise ``InvalidProblem`` on the first malformed object; return None when all is well."""
    if not problem.vehicles:
        raise _fail(
            "no_vehicle", "Aucun véhicule n'est disponible (liste vehicles vide).", "vehicles"
        )
    depot_ids: set[str] = set()
    for depot in problem.depots:
        if not depot.id:
            raise _fail("empty_id", "Un dépôt n'a pas d'identifiant.", "depots")
        if depot.id in depot_ids:
            raise _fail("duplicate_id", f"Dépôt « {depot.id} » en double.", depot.id)
        depot_ids.add(depot.id)
        if requires_coordinates:
            _check_coords(depot.lat, depot.lon, "Le dépôt", depot.id)
    vehicle_ids: set[str] = set()
    for vehicle in problem.vehicles:
        vid = vehicle.id
        if not vid:
            raise _fail("empty_id", "Un véhicule n'a pas d'identifiant.", "vehicles")
        if vid in vehicle_ids:
            raise _fail("duplicate_id", f"Véhicule « {vid} » en double.", vid)
        vehicle_ids.add(vid)
        for depot_id in (vehicle.start_depot, vehicle.end):
            if depot_id not in depot_ids:
                raise _fail(
                    "unknown_depot",
                    f"Véhicule « {vid} » : dépôt inconnu « {depot_id} ».",
                    vid,
                )
        _check_window(vehicle.shift, "Le véhicule", vid)
        if any(q < 0 for q in vehicle.capacity.values()):
            raise _fail("negative_capacity", f"Véhicule « {vid} » : capacité négative.", vid)
        if not any(q > 0 for q in vehicle.capacity.values()):
            raise _fail("no_capacity", f"Le véhicule « {vid} » n'a aucune capacité.", vid)
        if vehicle.profile.speed_kmh <= 0:
            raise _fail("invalid_speed", f"Véhicule « {vid} » : vitesse nulle ou négative.", vid)
        if min(vehicle.cost_per_km, vehicle.cost_per_hour, vehicle.fixed_cost) < 0:
            raise _fail("negative_cost", f"Véhicule « {vid} » : coût négatif.", vid)
        if vehicle.max_distance_m is not None and vehicle.max_distance_m <= 0:
            raise _fail(
                "invalid_range",
                f"Véhicule « {vid} » : autonomie nulle ou négative.",
                vid,
            )
        if vehicle.copies is not None and vehicle.copies < 1:
            raise _fail("invalid_copies", f"Véhicule « {vid} » : nombre d'exemplaires < 1.", vid)
    stop_ids: set[str] = set()
    for stop in problem.stops:
        sid = stop.id
        if not sid:
            raise _fail("empty_id", "Une étape n'a pas d'identifiant.", "stops")
        if sid in stop_ids or sid in depot_ids:
            raise _fail("duplicate_id", f"Étape « {sid} » en double.", sid)
        stop_ids.add(sid)
        if requires_coordinates:
            _check_coords(stop.lat, stop.lon, "L'étape", sid)
        for dim, q in stop.demand.items():
            if q < 0:
                raise _fail(
                    "negative_demand",
                    f"Étape « {sid} » : quantité négative en « {dim} ».",
                    sid,
                )
        if stop.service_s < 0:
            raise _fail("negative_service_time", f"Étape « {sid} » : durée négative.", sid)
        if stop.kind not in ("delivery", "pickup"):
            raise _fail("invalid_kind", f"Étape « {sid} » : type inconnu « {stop.kind} ».", sid)
        for window in stop.windows:
            _check_window(window, "L'étape", sid)
    by_id = {s.id: s for s in problem.stops}
    paired: set[str] = set()
    for pair in problem.pairs:
        culprit = f"{pair.pickup}->{pair.delivery}"
        for sid, kind in ((pair.pickup, "pickup"), (pair.delivery, "delivery")):
            if sid not in by_id:
                raise _fail("invalid_pair", f"Paire {culprit} : étape inconnue « {sid} ».", sid)
            if by_id[sid].kind != kind:
                raise _fail(
                    "invalid_pair",
                    f"Paire {culprit} : « {sid} » devrait être de type « {kind} ».",
                    sid,
                )
            if sid in paired:
                raise _fail("invalid_pair", f"« {sid} » appartient à plusieurs paires.", sid)
            paired.add(sid)
        if dict(by_id[pair.pickup].demand) != dict(by_id[pair.delivery].demand):
            raise _fail(
                "pair_demand_mismatch",
                f"Paire {culprit} : la quantité enlevée diffère de la quantité livrée.",
                culprit,
            )


def validate_options(options: SolveOptions) -> None:
    """Refuse a meaningless search budget."""
    if not options.time_limit_s > 0:
        raise _fail(
            "invalid_time_limit",
            "La limite de temps doit être positive.",
            "time_limit_s",
        )
    if options.workers < 1:
        raise _fail("invalid_workers", "Il faut au moins un processus de recherche.", "workers")
    if options.max_solutions is not None and options.max_solutions < 1:
        raise _fail("invalid_max_solutions", "max_solutions doit être >= 1.", "max_solutions")
