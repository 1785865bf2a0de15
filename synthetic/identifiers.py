"""Belgian identifiers with valid check digits, vectorised over numpy arrays.

INSZ: YYMMDD + day counter (odd for men, even for women) + 97 - (n mod 97), where n is the first
nine digits, prefixed by a 2 for births from 2000. RSZ employer number: 7-digit sequence +
96 - (seq x 100 mod 97), 97 when that is 0. KBO enterprise and local-unit numbers: 8 digits +
97 - (n mod 97).
"""

from __future__ import annotations

import numpy as np


def _zero_pad(values: np.ndarray, width: int) -> np.ndarray:
    return np.char.zfill(values.astype(np.int64).astype(str), width)


def insz(birth: np.ndarray, is_man: np.ndarray, rank_in_day: np.ndarray) -> np.ndarray:
    """INSZ numbers from birth dates (datetime64[D]), sex and the rank within (day, sex)."""
    if rank_in_day.size and rank_in_day.max() >= 499:
        raise ValueError("more than 499 persons of one sex born on one day: counters run out")
    years = birth.astype("datetime64[Y]").astype(int) + 1970
    months = birth.astype("datetime64[M]").astype(int) % 12 + 1
    days = (birth - birth.astype("datetime64[M]")).astype(int) + 1
    counter = np.where(is_man, 2 * rank_in_day + 1, 2 * rank_in_day + 2)
    first_nine = ((years % 100) * 10_000 + months * 100 + days) * 1000 + counter
    checked = first_nine + np.where(years >= 2000, 2_000_000_000, 0)
    check = 97 - checked % 97
    return np.char.add(_zero_pad(first_nine, 9), _zero_pad(check, 2))


def rsz(sequence: np.ndarray) -> np.ndarray:
    """RSZ employer registration numbers from 7-digit sequences (first digit 0 or 1)."""
    check = 96 - (sequence.astype(np.int64) * 100) % 97
    check = np.where(check == 0, 97, check)
    return np.char.add(_zero_pad(sequence, 7), _zero_pad(check, 2))


def mod97_ten_digits(first_eight: np.ndarray) -> np.ndarray:
    """10-digit numbers (KBO enterprises, local units) from their first eight digits."""
    check = 97 - first_eight.astype(np.int64) % 97
    return np.char.add(_zero_pad(first_eight, 8), _zero_pad(check, 2))
