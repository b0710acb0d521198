"""From a daily dose to administrations at clock times, each made of real products.

A daily dose is split as evenly as the products allow; when it cannot be even, the larger part goes at
bedtime (clonazepam label: "largest dose at bedtime if unequal"); at low doses the earlier administrations
may be dropped, never the last one.
"""

from __future__ import annotations

import math

from benzokit.errors import InputError, ModelError
from benzokit.plan.model import Administration
from benzokit.plan.products import UG_PER_MG, ProductSet
from benzokit.units import ClockTime

_SEARCH_LIMIT = 4000


def split_daily(products: ProductSet, daily_mg: float, n_times: int) -> tuple[float, ...] | None:
    """Per-administration doses (mg, in time order) summing exactly to ``daily_mg``, or None."""
    target = round(daily_mg * UG_PER_MG)
    if target == 0:
        return (0.0,) * n_times
    largest = products.largest_dose_ug
    if largest is not None and target > largest * n_times:
        return None  # more than every administration at its largest: no split (and no long search)
    best: tuple[int, ...] | None = None
    grain = _grain(products)
    for n_given in range(n_times, 0, -1):
        share = target // n_given // grain * grain
        for offset in range(0, share + 1, grain):
            early = share - offset
            if early <= 0 and n_given > 1:
                break
            if n_given > 1 and not products.is_feasible(early / UG_PER_MG):
                continue
            last = target - early * (n_given - 1)
            if last >= early and products.is_feasible(last / UG_PER_MG):
                best = (0,) * (n_times - n_given) + (early,) * (n_given - 1) + (last,)
                break
        if best is not None:
            break
    return None if best is None else tuple(ug / UG_PER_MG for ug in best)


def _grain(products: ProductSet) -> int:
    steps = [u.dose_ug for u in products.units]
    if products.liquid is not None:
        steps.append(products.liquid.step_ug)
    return math.gcd(*steps)


def feasible_daily_at_or_above(products: ProductSet, daily_mg: float, n_times: int) -> float | None:
    """The smallest daily dose ≥ ``daily_mg`` that the products can split over ``n_times`` doses."""
    grain = _grain(products)
    start = -(-math.ceil(daily_mg * UG_PER_MG - 1e-6) // grain) * grain
    for k in range(_SEARCH_LIMIT):
        candidate = (start + k * grain) / UG_PER_MG
        if split_daily(products, candidate, n_times) is not None:
            return candidate
    return None


def feasible_daily_below(products: ProductSet, daily_mg: float, n_times: int) -> float:
    """The largest feasible daily dose strictly below ``daily_mg`` (0 if none)."""
    grain = _grain(products)
    ug = round(daily_mg * UG_PER_MG)
    candidate = (ug - 1) // grain * grain
    while candidate > 0:
        if split_daily(products, candidate / UG_PER_MG, n_times) is not None:
            return candidate / UG_PER_MG
        candidate -= grain
    return 0.0


def feasible_daily_at_most(products: ProductSet, daily_mg: float, n_times: int) -> float:
    """The largest feasible daily dose ≤ ``daily_mg`` (0 if none)."""
    if split_daily(products, daily_mg, n_times) is not None:
        return daily_mg
    return feasible_daily_below(products, daily_mg, n_times)


def require_feasible(products: ProductSet, daily_mg: float, n_times: int, field: str) -> None:
    """An :class:`InputError` naming ``field`` unless the products can make ``daily_mg`` (mg/day)."""
    if round(daily_mg * UG_PER_MG) <= 0 or split_daily(products, daily_mg, n_times) is None:
        nearest = feasible_daily_at_or_above(products, daily_mg, n_times)
        hint = f"; the nearest the products make is {nearest:g} mg/day" if nearest else ""
        raise InputError(
            field,
            f"{daily_mg:g} mg/day",
            f"a daily dose the chosen products can make over {n_times} dose(s) a day{hint}",
        )


def administrations(
    products: ProductSet, daily_mg: float, times: tuple[ClockTime, ...]
) -> tuple[Administration, ...]:
    """The administrations of one day; zero doses are left out.

    ``daily_mg`` must be feasible (callers validate user doses with :func:`require_feasible` first, or
    take them from the ``feasible_daily_*`` searches); anything else is a planner defect, a ModelError.
    """
    split = split_daily(products, daily_mg, len(times))
    if split is None:
        raise ModelError(
            f"{daily_mg:g} mg/day cannot be made from the chosen products over {len(times)} dose(s)"
        )
    return tuple(
        Administration(products.drug, time, dose, products.make(dose))
        for time, dose in zip(times, split, strict=True)
        if dose > 0
    )


def simplest_daily(
    products: ProductSet, lowest_mg: float, highest_mg: float, n_times: int
) -> float:
    """The daily dose in ``[lowest_mg, highest_mg]`` a pharmacist prefers: the fewest distinct
    products over the day, then the fewest pieces, then the lowest dose (the larger cut).

    ``lowest_mg`` must be feasible; it is the answer when nothing in the range is simpler. Only
    solid products are compared (a liquid makes any dose from one product).
    """
    if products.liquid is not None:
        return lowest_mg
    grain = _grain(products)
    low, high = round(lowest_mg * UG_PER_MG), round(highest_mg * UG_PER_MG)
    best, best_cost = lowest_mg, _day_cost(products, lowest_mg, n_times)
    for ug in range(low + grain, high + 1, grain):
        cost = _day_cost(products, ug / UG_PER_MG, n_times)
        if cost is not None and (best_cost is None or cost < best_cost):
            best, best_cost = ug / UG_PER_MG, cost
    return best


def _day_cost(products: ProductSet, daily_mg: float, n_times: int) -> tuple[int, int] | None:
    """(distinct products, pieces) of one day at ``daily_mg``, or None when not feasible."""
    split = split_daily(products, daily_mg, n_times)
    if split is None:
        return None
    uses = [use for dose in split if dose > 0 for use in products.make(dose)]
    distinct = len({(u.form, u.strength_mg, u.concentration_mg_ml) for u in uses})
    pieces = sum(math.ceil(u.quantity or 0.0) if (u.quantity or 0.0) >= 1 else 1 for u in uses)
    return distinct, pieces
