"""API shapes of relay points and their pickup slots."""

from datetime import date, time

from ninja import Schema


class PickupSlotOut(Schema):
    id: int
    starts_at: time
    ends_at: time
    capacity: int
    booked: int
    remaining: int


class RelaySlotsOut(Schema):
    relay_point_id: int
    date: date
    day_remaining: int
    slots: list[PickupSlotOut]
