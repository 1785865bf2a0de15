"""Code lists of the sources, declared once.

The synthetic generator draws from them, the validation suite checks against them and the
codebook prints their labels. Values marked "own code" are ours where no official code list was
found (see domain.md); they are labelled so that nobody mistakes them for official ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


def _frozen(items: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(items)


SEX = _frozen({"M": "man", "F": "woman"})

# LIPRO household position (KSZ DWH variable LIPRO, from the National Register).
LIPRO = _frozen(
    {
        "SING": "single",
        "MAR0": "married, no child",
        "MAR+": "married with child",
        "CMAR": "child of a married couple",
        "UNM0": "unmarried cohabitant, no child",
        "UNM+": "unmarried cohabitant with child(ren)",
        "CUNM": "child of an unmarried couple",
        "H1PA": "head of a one-parent family",
        "C1PA": "child in a one-parent family",
        "NFRP": "other household member",
        "OTHR": "other person",
        "COLL": "collective household",
    }
)

# Statbel / NIS country codes (3 digits) for the nationalities the synthetic population holds.
COUNTRY = _frozen(
    {
        "150": "Belgium",
        "111": "France",
        "129": "Netherlands",
        "124": "Romania",
        "128": "Italy",
        "354": "Morocco",
        "109": "Spain",
        "139": "Poland",
        "123": "Portugal",
        "262": "Turkey",
        "306": "DR Congo",
        "103": "Germany",
        "145": "Bulgaria",
    }
)
BELGIUM = "150"

# RVA family category of the unemployed (DWH variable `categorie`, full unemployment).
UNEMPLOYMENT_CATEGORY = _frozen(
    {
        "WA": "head of household",
        "WN": "living alone",
        "WP": "cohabitant with increased allowance",
        "W": "cohabitant",
    }
)

# NIC/RIZIV incapacity phase: primary incapacity lasts at most a year, then invalidity.
INCAPACITY_PHASE = _frozen({"primary": "primary incapacity", "invalidity": "invalidity"})

# Nature of the incapacity benefit (A052 day block; own code, no official values found).
INCAPACITY_NATURE = _frozen(
    {"FULL": "full incapacity", "LIMITED": "limited (authorised part-time resumption)"}
)

# DMFA worker codes (annex 2): ordinary blue- and white-collar workers.
WORKER_CODE = _frozen({"015": "ordinary blue-collar worker", "495": "ordinary white-collar worker"})

# DMFA ContractType.
CONTRACT_TYPE = _frozen({"0": "full-time", "1": "part-time"})

# Joint committees (paritair comité) that employers of the synthetic population belong to.
JOINT_COMMITTEE = _frozen(
    {
        "200": "supplementary joint committee for white-collar workers",
        "100": "supplementary joint committee for blue-collar workers",
        "124": "construction",
        "302": "hotels and catering",
        "322.01": "service-voucher companies",
        "330": "health services",
        "140": "transport and logistics",
        "111": "metal, machine and electrical construction",
        "209": "metal manufacturing (white-collar)",
    }
)

# Socio-economic position on the last day of the month (KSZ nomenclature: the first digit is
# 1 working, 2 job-seeking, 3 not active, 4 unknown). Leaf codes under 2 and 3 are own codes.
SOCIO_ECONOMIC_POSITION = _frozen(
    {
        "111": "working: salaried",
        "211": "job-seeking: full unemployment with benefit",
        "331": "not active: primary incapacity for work",
        "332": "not active: invalidity",
        "399": "not active: other",
    }
)
