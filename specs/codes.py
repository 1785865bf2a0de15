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
        "121": "working: self-employed, main occupation",
        "211": "job-seeking: full unemployment with benefit",
        "331": "not active: primary incapacity for work",
        "332": "not active: invalidity",
        "399": "not active: other",
    }
)

# --- Code lists added for the full variable list of 18/088 and the DMFA/A052 seeds. ----------
# Where domain.md found no official values, the codes are our own and labelled "own code".

YES_NO = _frozen({"Y": "yes", "N": "no"})

# Supplementary socio-economic positions: statuses that lost to the main position on the day.
SUPPLEMENTARY_POSITION = _frozen(
    {
        "211": "job-seeking: full unemployment with benefit",
        "331": "not active: primary incapacity for work",
        "332": "not active: invalidity",
        "340": "not active: recognised disability allowance (own code)",
        "350": "not active: registered job seeker without benefit (own code)",
    }
)

# Household type derived from the LIPRO positions of the household (domain.md 3.3, own code).
HOUSEHOLD_TYPE = _frozen(
    {
        "1": "one-person household",
        "2": "married couple without children",
        "3": "married couple with children",
        "4": "cohabiting couple without children",
        "5": "cohabiting couple with children",
        "6": "one-parent family",
        "7": "other private household",
        "8": "collective household",
    }
)

# Regional public employment service: follows the region of residence.
EMPLOYMENT_SERVICE = _frozen(
    {
        "VDAB": "VDAB (Flemish Region)",
        "FOREM": "Le FOREM (Walloon Region without the German-speaking area)",
        "ACTIRIS": "Actiris (Brussels-Capital Region)",
        "ADG": "ADG (German-speaking Community)",
    }
)

# DWH job-seeker category `ncat` (codes 50-53 from 2013; applied to the whole period here).
JOBSEEKER_CATEGORY = _frozen(
    {
        "50": "applicant for unemployment allowance",
        "51": "youth in professional-integration period",
        "52": "compulsorily registered (CPAS/OCMW, disabled, excluded)",
        "53": "freely registered",
    }
)

STUDY_LEVEL = _frozen(
    {
        "1": "at most primary education",
        "2": "lower secondary",
        "3": "upper secondary",
        "4": "higher education, short type (bachelor)",
        "5": "higher education, long type (master)",
        "9": "unknown",
    }
)

# Field of study (own code, after ISCED-F broad fields).
STUDY_DOMAIN = _frozen(
    {
        "00": "generic programmes",
        "01": "education",
        "02": "arts and humanities",
        "03": "social sciences",
        "04": "business, administration and law",
        "05": "natural sciences",
        "06": "information technology",
        "07": "engineering, manufacturing, construction",
        "08": "agriculture",
        "09": "health and welfare",
        "10": "services",
        "99": "unknown",
    }
)

# Other exemptions from registration as job seeker (own code).
JOBSEEKER_EXEMPTION = _frozen(
    {
        "0": "no exemption",
        "1": "studies or training",
        "2": "social or family difficulties",
        "3": "older unemployed",
        "9": "other exemption",
    }
)

# DMFA/DWH employer-side classifications (domain.md 3.4 and 2.2).
IMPORTANCE_CODE = _frozen(
    {
        "0": "unknown",
        "1": "fewer than 5 jobs",
        "2": "5-9 jobs",
        "3": "10-19 jobs",
        "4": "20-49 jobs",
        "5": "50-99 jobs",
        "6": "100-199 jobs",
        "7": "200-499 jobs",
        "8": "500-999 jobs",
        "9": "1,000 jobs or more",
    }
)
WORKER_CLASS = _frozen(
    {"1": "blue-collar", "2": "white-collar", "3": "civil servant", "4": "other"}
)
SPECIAL_WORKER_CLASS = _frozen(
    {"0": "none", "1": "apprentice", "2": "student", "3": "artist", "9": "other (own code)"}
)
# Part-time class from Q/S (own code).
PART_TIME_CLASS = _frozen(
    {
        "1": "less than 50%",
        "2": "50% to less than 80%",
        "3": "80% to less than 100%",
        "4": "full-time (100%)",
    }
)
SECTOR = _frozen({"1": "private sector", "2": "public sector"})
EMPLOYER_NATURE = _frozen(
    {"1": "private company", "2": "non-profit", "3": "local authority", "4": "federal or regional"}
)
# NACE-BEL 2008 codes (5 digits) of the synthetic employers.
NACE = _frozen(
    {
        "41201": "construction of residential buildings",
        "47111": "retail in non-specialised stores, food",
        "49410": "freight transport by road",
        "56101": "restaurants",
        "62010": "computer programming",
        "64190": "other monetary intermediation",
        "78200": "temporary employment agency activities",
        "81210": "general cleaning of buildings",
        "84111": "general public administration",
        "85201": "primary education",
        "86101": "general hospitals",
        "88101": "home help for elderly and disabled",
        "25620": "machining",
        "10711": "industrial bakeries",
        # care facilities of 19/104 (elderly care, psychiatric nursing homes, rehabilitation,
        # palliative care teams)
        "87100": "residential nursing care",
        "87200": "residential mental-health care",
        "87300": "residential care for the elderly",
        "86900": "other human health activities",
    }
)
REGIONALISATION = _frozen(
    {"0": "not regionalised", "1": "Flemish", "2": "Walloon", "3": "Brussels"}
)
DEDUCTION_CODE = _frozen(
    {
        "0000": "no deduction",
        "0001": "employment bonus (werkbonus)",
        "3000": "structural reduction",
        "3310": "first hires",
    }
)
ASSIMILATED_DAYS_CODE = _frozen(
    {
        "0": "none",
        "50": "sickness",
        "51": "maternity protection",
        "60": "work accident",
        "70": "temporary unemployment",
    }
)
EMPLOYMENT_MEASURE = _frozen(
    {"0": "none", "1": "Activa", "2": "first job agreement", "9": "other measure (own code)"}
)
# DMFA service codes (annex 8) as the type of service (prestatie).
SERVICE_CODE = _frozen(
    {
        "1": "time paid with RSZ contributions",
        "2": "legal holidays blue-collar",
        "10": "guaranteed wage week 2",
        "50": "sickness",
        "51": "maternity protection",
        "70": "temporary unemployment",
    }
)
CONSOLIDATION_TYPE = _frozen({"0": "single line", "1": "lines of one employer consolidated"})
PENSION_TYPE = _frozen({"0": "no pension", "1": "retirement pension", "2": "survivor's pension"})

# RVA (own codes where no official values were found).
UNEMPLOYMENT_OFFICE = _frozen(
    {
        "11": "Antwerpen",
        "21": "Brussel-Bruxelles",
        "23": "Vilvoorde",
        "25": "Nivelles",
        "31": "Brugge",
        "44": "Gent",
        "52": "Charleroi",
        "53": "Mons",
        "62": "Liège",
        "71": "Hasselt",
        "82": "Arlon",
        "92": "Namur",
    }
)
UNEMPLOYMENT_CONTRACT = _frozen(
    {"0": "no contract", "1": "after full-time work", "2": "after voluntary part-time work"}
)
ACTIVATION_CRITERION = _frozen(
    {
        "A": "admitted on the basis of work",
        "S": "admitted on the basis of studies",
        "P": "allowance with activation follow-up",
    }
)
SANCTION_TYPE = _frozen(
    {"1": "warning", "2": "temporary exclusion", "3": "suspension", "4": "reduction"}
)
SANCTION_REASON = _frozen(
    {
        "1": "insufficient job-search effort",
        "2": "refusal of suitable work",
        "3": "late or missing declaration",
        "4": "absence from the employment service",
    }
)
PREVIOUS_SITUATION = _frozen(
    {"1": "full-time work", "2": "part-time work", "3": "studies", "4": "incapacity", "9": "other"}
)
CAREER_BREAK_REASON = _frozen({"0": "none", "1": "parental leave", "2": "medical care"})
TIME_CREDIT_REASON = _frozen({"0": "none", "1": "care for a child", "2": "training"})
UNEMPLOYMENT_SCHEME = _frozen(
    {
        "VW": "full unemployment",
        "IU": "integration allowance",
        "TW": "temporary unemployment",
        "SWT": "unemployment with company supplement",
    }
)
MONTH_END_SITUATION = _frozen(
    {"1": "benefit paid", "2": "suspended", "3": "excluded", "4": "no longer entitled"}
)
RVA_STATUS = _frozen(
    {"1": "entitled to benefit", "2": "not entitled", "3": "exempted from availability"}
)
TEMPORARY_UNEMPLOYMENT_TYPE = _frozen(
    {"0": "none", "1": "economic", "2": "force majeure", "3": "bad weather", "4": "technical"}
)
INTERVIEW_RESULT = _frozen({"P": "positive", "N": "negative", "A": "absent"})

# NIC/RIZIV (A052 and DWH; own codes, domain.md 2.4).
INCAPACITY_SOCIAL_STATUS = _frozen(
    {"1": "employee", "2": "unemployed", "3": "self-employed", "4": "other"}
)
INCAPACITY_SCHEME = _frozen({"G": "general scheme (employees)", "Z": "self-employed scheme"})
DAY_TYPE = _frozen(
    {
        "PAID": "paid day",
        "UNPAID": "unpaid day",
        "ASSIMILATED": "assimilated day",
        "MATERNITY": "maternity day",
    }
)
BENEFIT_TYPE = _frozen({"NORMAL": "normal benefit", "ADAPTED_WORK": "benefit for adapted work"})
# A052 messages (04/037 points 1.2 and 7.1; own codes).
A052_STATUS = _frozen(
    {"NEW": "first version of the message", "CORRECTION": "a later version correcting it"}
)
FITNESS_DECISION_SOURCE = _frozen(
    {"MA": "advisory physician of the insurer", "RIZIV": "RIZIV (Medical Council for Invalidity)"}
)
INCAPACITY_BENEFIT_CODE = _frozen(
    {"10": "primary incapacity benefit", "20": "invalidity benefit", "30": "adapted work"}
)
MEDICAL_CODE = _frozen(
    {
        "F": "mental and behavioural disorders",
        "M": "musculoskeletal disorders",
        "C": "neoplasms",
        "I": "circulatory system",
        "S": "injuries",
        "X": "other",
    }
)
DISCHARGE_CODE = _frozen(
    {"0": "not ended", "1": "fit for work", "2": "retirement", "3": "death", "9": "other"}
)
STATISTICAL_INDICATOR = _frozen({"1": "new case", "2": "continuing case"})
INCAPACITY_OCCUPATION = _frozen({"1": "blue-collar", "2": "white-collar", "3": "unemployed"})
GRI_DECISION = _frozen(
    {"0": "no decision", "1": "invalidity recognised", "2": "invalidity refused"}
)

# Self-employed (RSVZ) category (domain.md 2.8).
SELF_EMPLOYED_CATEGORY = _frozen(
    {
        "1": "main occupation",
        "2": "secondary occupation",
        "3": "after pension age",
        "4": "helping spouse",
        "5": "student self-employed",
    }
)
INCAPACITY_FILE_STATUS = _frozen({"1": "open file", "2": "closed file"})
# DMFA employer category (3 digits; 010 is the ordinary employer).
EMPLOYER_CATEGORY = _frozen(
    {"010": "ordinary employer", "011": "employer with a special contribution (own label)"}
)
# Regions as NIS codes (domain.md 1.4).
REGION = _frozen(
    {"02000": "Flemish Region", "03000": "Walloon Region", "04000": "Brussels-Capital"}
)

# --- DMFA blocks of 19/104 and 13/021 ---------------------------------------------------------
# Synthetic lists: the DMFA glossary's own lists for these zones are longer and were not checked
# here, so every value below is our own code (labelled so), except where a comment names the
# source.
_OWN = " (synthetic code)"
DECLARATION_SOURCE = _frozen({"1": "RSZ (DmfA)" + _OWN, "2": "RSZPPO (DmfAPPL)" + _OWN})
ACTIVITY_RISK = _frozen(
    {"1": "office work" + _OWN, "2": "manual work" + _OWN, "3": "care work" + _OWN}
)
WORKING_TIME_REORGANISATION = _frozen(
    {
        "1": "part-time career break or time credit" + _OWN,
        "2": "full career break" + _OWN,
        "3": "collective reduction of working time" + _OWN,
    }
)
WORKER_STATUS = _frozen(
    {"1": "contractual" + _OWN, "2": "tenured (statutory)" + _OWN, "3": "temporary" + _OWN}
)
APPRENTICE_TYPE = _frozen(
    {"1": "apprentice under an approved training contract" + _OWN, "2": "other apprentice" + _OWN}
)
REMUNERATION_METHOD = _frozen({"1": "piece or task", "2": "commission", "3": "service vouchers"})
FUNCTION_NUMBER = _frozen(
    {"1": "nursing" + _OWN, "2": "caring" + _OWN, "3": "paramedical" + _OWN, "9": "other" + _OWN}
)
TENTHS_OR_TWELFTHS = _frozen({"1": "tenths" + _OWN, "2": "twelfths" + _OWN})
DAYS_JUSTIFICATION = _frozen({"1": "days of a special work cycle" + _OWN})
PUBLIC_ORGANISATION_TYPE = _frozen(
    {
        "1": "public centre for social welfare" + _OWN,
        "2": "municipality" + _OWN,
        "3": "other local authority" + _OWN,
    }
)
STAFF_CATEGORY = _frozen(
    {
        "1": "nursing and care staff" + _OWN,
        "2": "administrative staff" + _OWN,
        "3": "logistic staff" + _OWN,
    }
)
LANGUAGE_ROLE = _frozen({"N": "Dutch", "F": "French", "D": "German"})
SERVICE_NATURE = _frozen({"1": "full service" + _OWN, "2": "partial service" + _OWN})
FUNCTION_NATURE = _frozen({"1": "main function" + _OWN, "2": "secondary function" + _OWN})
STATUTORY_END_REASON = _frozen(
    {
        "1": "resignation" + _OWN,
        "2": "retirement" + _OWN,
        "3": "dismissal" + _OWN,
        "9": "other" + _OWN,
    }
)
NON_PROFIT_MEASURE = _frozen(
    {
        "1": "social maribel" + _OWN,
        "2": "end-of-career exemption from services" + _OWN,
        "9": "other non-profit measure" + _OWN,
    }
)
CAREER_MEASURE = _frozen(
    {"1": "end-of-career reduction of working time" + _OWN, "2": "other career measure" + _OWN}
)
FLEMISH_SOCIAL_PROFIT_SUBSECTOR = _frozen(
    {
        "1": "elderly care" + _OWN,
        "2": "care for persons with a disability" + _OWN,
        "9": "other" + _OWN,
    }
)
ORIOLUS_VALIDATION = _frozen({"0": "INSZ validated" + _OWN, "1": "INSZ not yet validated" + _OWN})
# Remuneration codes (annex 7; domain.md 2.2): the main line of a quarter is the base wage.
REMUNERATION_CODE = _frozen(
    {
        "1": "base wage",
        "3": "termination indemnity in working time",
        "4": "termination indemnity not in working time",
    }
)
CONTRIBUTION_TYPE = _frozen(
    {"0": "ordinary contribution" + _OWN, "1": "contribution on a termination indemnity" + _OWN}
)
FLYING_PERSONNEL_CLASS = _frozen({"1": "pilot" + _OWN, "2": "cabin crew" + _OWN})

# RVA activation allowances (13/021 points 19-20). Synthetic list: the RVA's own type codes were
# not checked here.
ACTIVATION_ALLOWANCE = _frozen(
    {
        "1": "Activa work allowance" + _OWN,
        "2": "work-experience allowance (transition programme)" + _OWN,
        "3": "other activation allowance" + _OWN,
    }
)
