"""API shapes of relay points and their pickup slots."""

from datetime import date

from ninja import Schema

from marche.core.schemas import LocalTime


class PickupSlotOut(Schema):
    id: int
    starts_at: LocalTime
    ends_at: LocalTime
    capacity: int
    booked: int
    remaining: int


class RelaySlotsOut(Schema):
    relay_point_id: int
    date: date
    day_remaining: int
    slots: list[PickupSlotOut]
