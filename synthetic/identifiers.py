"""Belgian identifiers with valid check digits, vectorised over numpy arrays.

INSZ: YYMMDD + day counter (odd for men, even for women) + 97 - (n mod 97), where n is the first
nine digits, prefixed by a 2 for births from 2000; `DayCounters` hands out the day counters
across the blocks of a generation, so numbers are unique in the whole store. RSZ employer
number: 7-digit sequence + 96 - (seq x 100 mod 97), 97 when that is 0. KBO enterprise and
local-unit numbers: 8 digits + 97 - (n mod 97).
"""

from __future__ import annotations

import numpy as np

# The counter has 499 values per sex and day (001-997 odd for men, 002-998 even for women).
COUNTERS_PER_SEX_AND_DAY = 499
# Birth days the counters cover: 1900-01-01 up to 2099-12-31 (days since 1970-01-01).
FIRST_BIRTH_DAY = int(np.datetime64("1900-01-01", "D").astype(np.int64))
LAST_BIRTH_DAY = int(np.datetime64("2099-12-31", "D").astype(np.int64))


def _zero_pad(values: np.ndarray, width: int) -> np.ndarray:
    return np.char.zfill(values.astype(np.int64).astype(str), width)


def insz(birth: np.ndarray, is_man: np.ndarray, rank_in_day: np.ndarray) -> np.ndarray:
    """INSZ numbers from birth dates (datetime64[D]), sex and the rank within (day, sex)."""
    if rank_in_day.size and rank_in_day.max() >= COUNTERS_PER_SEX_AND_DAY:
        raise ValueError("more than 499 persons of one sex born on one day: counters run out")
    years = birth.astype("datetime64[Y]").astype(int) + 1970
    months = birth.astype("datetime64[M]").astype(int) % 12 + 1
    days = (birth - birth.astype("datetime64[M]")).astype(int) + 1
    counter = np.where(is_man, 2 * rank_in_day + 1, 2 * rank_in_day + 2)
    first_nine = ((years % 100) * 10_000 + months * 100 + days) * 1000 + counter
    checked = first_nine + np.where(years >= 2000, 2_000_000_000, 0)
    check = 97 - checked % 97
    return np.char.add(_zero_pad(first_nine, 9), _zero_pad(check, 2))


class DayCounters:
    """How many persons of each sex born on each day have an INSZ so far.

    Persons get the next counters of their (birth day, sex) in the order they are given, so a
    person's number depends on the persons generated before it, never on how they were batched.
    """

    def __init__(self) -> None:
        # one slot per (day, sex): 2 * day + is_man
        self._used = np.zeros(2 * (LAST_BIRTH_DAY - FIRST_BIRTH_DAY + 1), dtype=np.int64)

    def take(self, birth: np.ndarray, is_man: np.ndarray) -> np.ndarray:
        """The rank within (birth day, sex) of each person, continuing earlier calls."""
        day = birth.astype("datetime64[D]").astype(np.int64)
        if not day.size:
            return np.zeros(0, dtype=np.int64)
        if day.min() < FIRST_BIRTH_DAY or day.max() > LAST_BIRTH_DAY:
            raise ValueError("birth date outside 1900-2099: no INSZ day counter for it")
        slot = (day - FIRST_BIRTH_DAY) * 2 + is_man.astype(np.int64)
        # rank of each person among the earlier persons of its slot in this call: a stable
        # sort groups the slots and keeps the persons' order inside each.
        order = np.argsort(slot, kind="stable")
        sorted_slots = slot[order]
        first_of_slot = np.r_[True, sorted_slots[1:] != sorted_slots[:-1]]
        group_start = np.maximum.accumulate(np.where(first_of_slot, np.arange(slot.size), 0))
        rank = np.empty(slot.size, dtype=np.int64)
        rank[order] = np.arange(slot.size) - group_start
        rank += self._used[slot]
        np.add.at(self._used, slot, 1)
        return rank


def rsz(sequence: np.ndarray) -> np.ndarray:
    """RSZ employer registration numbers from 7-digit sequences (first digit 0 or 1)."""
    check = 96 - (sequence.astype(np.int64) * 100) % 97
    check = np.where(check == 0, 97, check)
    return np.char.add(_zero_pad(sequence, 7), _zero_pad(check, 2))


def mod97_ten_digits(first_eight: np.ndarray) -> np.ndarray:
    """10-digit numbers (KBO enterprises, local units) from their first eight digits."""
    check = 97 - first_eight.astype(np.int64) % 97
    return np.char.add(_zero_pad(first_eight, 8), _zero_pad(check, 2))
