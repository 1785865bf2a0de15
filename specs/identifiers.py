"""The identifiers of the network and how each one's check digits are verified, declared once.

Used by the source checks (an identifier with wrong check digits in a source is refused) and by
the validation of identified releases (each identifier a control delivery holds must be valid).
The predicates are SQL over the digits-only forms the source schemas declare; `{c}` stands for
the column (quoted by the caller).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Scheme(StrEnum):
    INSZ = "insz"  # person: INSZ / NISS
    RSZ = "rsz"  # employer: RSZ registration number
    KBO = "kbo"  # enterprise (KBO number) or local unit (establishment number)


# INSZ: 97 - (first nine mod 97), with 2,000,000,000 added for births from 2000; RSZ: 96 -
# (sequence x 100 mod 97), 97 for 0; KBO and local unit: 97 - (first eight mod 97).
VALID: Mapping[Scheme, str] = MappingProxyType(
    {
        Scheme.INSZ: """(regexp_full_match({c}, '[0-9]{{11}}') and (
    97 - try_cast(left({c}, 9) as bigint) % 97 = try_cast(right({c}, 2) as integer)
    or 97 - (2000000000 + try_cast(left({c}, 9) as bigint)) % 97
        = try_cast(right({c}, 2) as integer)))""",
        Scheme.RSZ: """(regexp_full_match({c}, '[0-9]{{9}}') and
    coalesce(nullif(96 - (try_cast(left({c}, 7) as bigint) * 100) % 97, 0), 97)
        = try_cast(right({c}, 2) as integer))""",
        Scheme.KBO: """(regexp_full_match({c}, '[0-9]{{10}}') and
    97 - try_cast(left({c}, 8) as bigint) % 97 = try_cast(right({c}, 2) as integer))""",
    }
)

PATTERN: Mapping[Scheme, str] = MappingProxyType(
    {Scheme.INSZ: r"^[0-9]{11}$", Scheme.RSZ: r"^[0-9]{9}$", Scheme.KBO: r"^[0-9]{10}$"}
)

DESCRIPTION: Mapping[Scheme, str] = MappingProxyType(
    {
        Scheme.INSZ: "INSZ of the person, 11 digits",
        Scheme.RSZ: "RSZ registration number of the employer, 9 digits",
        Scheme.KBO: "KBO number of the enterprise or of the local unit, 10 digits",
    }
)

# The identifiers a source column holds, by column name.
OF_SOURCE_COLUMN: Mapping[str, Scheme] = MappingProxyType(
    {
        "insz": Scheme.INSZ,
        "employer_rsz": Scheme.RSZ,
        "enterprise_kbo": Scheme.KBO,
        "local_unit_id": Scheme.KBO,
    }
)

# The identifiers behind a pseudonym domain. An identified delivery names persons and employers
# (these domains); the other coded identifiers (programme, procedure numbers) stay pseudonymised.
OF_PSEUDONYM_DOMAIN: Mapping[str, Scheme] = MappingProxyType(
    {
        "person": Scheme.INSZ,
        "employer": Scheme.RSZ,
        "enterprise": Scheme.KBO,
        "local_unit": Scheme.KBO,
    }
)


def valid(scheme: Scheme, column: str) -> str:
    """SQL that is true where the (quoted) column holds a valid identifier of `scheme`."""
    return VALID[scheme].format(c=column)
