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
    A052_MESSAGE = "a052_message"  # unique number of an A052 message


# INSZ: YYMMDD + counter + 97 - (first nine mod 97), with 2,000,000,000 added for births from
# 2000. The rule is python-stdnum 2.2's (`stdnum.be.nn` or `stdnum.be.bis`), tested against it:
# - the month field is 00-12, or 20-32 / 40-52 for a BIS number (month + 20 when the sex was
#   unknown at issue, + 40 when known); 00 (and so 20, 40) is a birth month not known, and then
#   the day is not checked either (stdnum's rule; 000001 is a wholly unknown birth date);
# - the century is the one whose check digits match, 19xx first; 20xx only for a year that has
#   begun (a number is never issued for a birth still to come, so the clock is read here);
# - the day is 00 (not known) or a day of that month in that year: 29 February only in a leap
#   year. Here alone rex is stricter than stdnum, which takes any other day (32-99, 30 February)
#   for "day not known"; the register writes 00 for that, so such a number was never issued.
_INSZ_YY = "try_cast(left({c}, 2) as integer)"
_INSZ_MM = "try_cast(substr({c}, 3, 2) as integer)"
_INSZ_DD = "try_cast(substr({c}, 5, 2) as integer)"
_INSZ_CC = "try_cast(right({c}, 2) as integer)"
_INSZ_FIRST_NINE = "try_cast(left({c}, 9) as bigint)"
_INSZ_19XX = f"(97 - {_INSZ_FIRST_NINE} % 97 = {_INSZ_CC})"
_INSZ_20XX = (
    f"(2000 + {_INSZ_YY} <= year(current_date) "
    f"and 97 - (2000000000 + {_INSZ_FIRST_NINE}) % 97 = {_INSZ_CC})"
)
_INSZ_YEAR = f"(case when {_INSZ_19XX} then 1900 else 2000 end + {_INSZ_YY})"
_INSZ_LEAP = f"({_INSZ_YEAR} % 4 = 0 and ({_INSZ_YEAR} % 100 <> 0 or {_INSZ_YEAR} % 400 = 0))"
# days of the (unshifted) month, by arithmetic only, so that no row can make the SQL raise
_INSZ_MONTH_DAYS = (
    f"(case {_INSZ_MM} % 20 when 2 then case when {_INSZ_LEAP} then 29 else 28 end "
    f"when 4 then 30 when 6 then 30 when 9 then 30 when 11 then 30 else 31 end)"
)
_INSZ = (
    "(regexp_full_match({c}, '[0-9]{{11}}')"
    f" and ({_INSZ_MM} between 0 and 12 or {_INSZ_MM} between 20 and 32"
    f" or {_INSZ_MM} between 40 and 52)"
    f" and ({_INSZ_19XX} or {_INSZ_20XX})"
    f" and ({_INSZ_MM} % 20 = 0 or {_INSZ_DD} = 0 or {_INSZ_DD} <= {_INSZ_MONTH_DAYS}))"
)

# RSZ: 96 - (sequence x 100 mod 97), 97 for 0; KBO and local unit: 97 - (first eight mod 97).
VALID: Mapping[Scheme, str] = MappingProxyType(
    {
        Scheme.INSZ: _INSZ,
        Scheme.RSZ: """(regexp_full_match({c}, '[0-9]{{9}}') and
    coalesce(nullif(96 - (try_cast(left({c}, 7) as bigint) * 100) % 97, 0), 97)
        = try_cast(right({c}, 2) as integer))""",
        Scheme.KBO: """(regexp_full_match({c}, '[0-9]{{10}}') and
    97 - try_cast(left({c}, 8) as bigint) % 97 = try_cast(right({c}, 2) as integer))""",
        # the insurers' numbering has no check digits that we know of: its form only
        Scheme.A052_MESSAGE: "regexp_full_match({c}, '[0-9]{{12}}')",
    }
)

PATTERN: Mapping[Scheme, str] = MappingProxyType(
    {
        Scheme.INSZ: r"^[0-9]{11}$",
        Scheme.RSZ: r"^[0-9]{9}$",
        Scheme.KBO: r"^[0-9]{10}$",
        Scheme.A052_MESSAGE: r"^[0-9]{12}$",
    }
)

DESCRIPTION: Mapping[Scheme, str] = MappingProxyType(
    {
        Scheme.INSZ: "INSZ of the person, 11 digits",
        Scheme.RSZ: "RSZ registration number of the employer, 9 digits",
        Scheme.KBO: "KBO number of the enterprise or of the local unit, 10 digits",
        Scheme.A052_MESSAGE: "unique number of the A052 message, 12 digits",
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
# (these domains), and the A052 messages by the number the recipient consults them by (04/037
# point 1.4); the other coded identifiers (programme, procedure numbers) stay pseudonymised.
OF_PSEUDONYM_DOMAIN: Mapping[str, Scheme] = MappingProxyType(
    {
        "person": Scheme.INSZ,
        "employer": Scheme.RSZ,
        "enterprise": Scheme.KBO,
        "local_unit": Scheme.KBO,
        "a052_message": Scheme.A052_MESSAGE,
    }
)


def valid(scheme: Scheme, column: str) -> str:
    """SQL that is true where the (quoted) column holds a valid identifier of `scheme`."""
    return VALID[scheme].format(c=column)
