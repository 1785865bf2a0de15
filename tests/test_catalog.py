"""The catalog covers every variable the seeds name: the names are held here as the seeds write
them, group by group, so that a variable left out of the catalog fails a test.

A qualifier in square brackets picks one of several variables that the seed names together
(institutions listed in one bracket, first/second/third interview) or a name that recurs in one
group; the text before it is the seed's own.
"""

from __future__ import annotations

import re

import pytest

from specs import catalog
from specs.catalog import PANELS, VARIABLES, FromSource, Kind, SeedName
from specs.sources import SOURCE_TABLES

SEED_NAMES: dict[tuple[str, str], tuple[str, ...]] = {
    ("18/088", "6: bijkomende variabelen per kwartaal"): (
        "het studieniveau",
        "de nomenclatuur van de socio-economische positie",
        "het aantal vergoede dagen",
        "het percentage arbeidsongeschiktheid",
        "het aantal dagen arbeidsongeschiktheid",
        "de arbeidsongeschiktheid",
        "de klasse deeltijdse tewerkstelling",
        "het dagloon (in klassen)",
        "het jaarinkomen van de zelfstandige (in klassen)",
        "de gewone bezoldiging (in klassen)",
        "de belangrijkheidscode",
        "het aantal normaal bezoldigde voltijdse dagen",
    ),
    ("18/088", "8: persoonskenmerken (per trimester)"): (
        "de geboortedatum",
        "de datum van overlijden",
        "het geslacht",
        "de gemeente (op het niveau van de gemeente)",
        "de gezinssamenstelling",
        "de nationaliteit (gescrambled)",
        "de eerste nationaliteit (gescrambled)",
        "de LIPRO-gezinspositie",
        "het gezinstype",
    ),
    ("18/088", "8: socio-economische positie (per maand)"): (
        "de nomenclatuur van de socio-economische positie",
        "alle aanvullende posities op de nomenclatuur van de socio-economische positie [eerste]",
        "alle aanvullende posities op de nomenclatuur van de socio-economische positie [tweede]",
    ),
    ("18/088", "8: statuut van persoon met een handicap (per trimester)"): (
        "de gewone uitkering",
        "de speciale uitkering",
        "de erkenning van de handicap van 50 % van de onderste ledematen",
        "de volledige blindheid",
        "de erkenning van de vermindering van het verdienvermogen met minstens een derde",
    ),
    ("18/088", "8: statuut van werkzoekende (per maand)"): (
        "de categorie van werkzoekende",
        "het studiedomein",
        "het studieniveau",
        "de duur van de inschrijving",
        "de referentiemaand",
        "de bevoegde gewestelijke dienst (FOREM, ACTIRIS, VDAB, ADG)",
    ),
    ("18/088", "8: SIGEDIS-gegevens (op jaarbasis)"): (
        "het jaar",
        "de gelijkgestelde dagen",
        "de gelijkgestelde dagen voltijds equivalent",
        "de gepresteerde dagen",
        "de gepresteerde dagen voltijds equivalent",
        "de duur van de loopbaan",
        "de noemer van de loopbaanbreuk",
        "het gecodeerd identificatienummer van de werkgever",
    ),
    ("18/088", "8: beroepsactiviteit (per trimester)"): (
        "de andere vrijstellingen van inschrijving als werkzoekende",
        "de belangrijkheidscode [eerste vermelding]",
        "het aantal jobs in loondienst",
        "het totale aantal jobs",
        "de werknemersklasse",
        "de speciale werknemersklasse",
        "de loonklasse",
        "de klasse deeltijds",
        "de belangrijkheidscode van de lokale eenheid",
        "de belangrijkheidscode [tweede vermelding]",
        "de dimensie",
        "de verminderingcode",
        "de code gelijkgestelde dagen",
        "de NACE-code",
        "de fictieve NACE-code",
        "de code regionalisering",
        "de werknemerscode",
        "het paritair comité",
        "de tewerkstelling in het kader van dienstencheques",
        "de gelijkgestelde dagen",
        "de vestigingsplaats van de werkgever",
        "de vestigingsplaats van de lokale eenheid",
        "de gemeentecode van de werkgever",
        "het gecodeerd identificatienummer van de werkgever",
        "het gecodeerd identificatienummer van de lokale eenheid",
        "de tewerkstellingsmaatregel",
        "de notie thuiswerk",
        "het percentage deeltijds",
        "de gewone bezoldiging",
        "het aantal bezoldigde opzegdagen waarvoor geen prestaties geleverd werden",
        "het bedrag van de verbrekingsvergoeding",
        "het dagloon",
        "de sector",
        "het type prestatie",
        "het voltijds equivalent exclusief gelijkgestelde dagen",
        "het voltijds equivalent inclusief gelijkgestelde dagen",
        "het voltijds equivalent andere dagen",
        "de belangrijkste tewerkstellingslijn bij dezelfde werkgever",
        "de aard van de werkgever",
        "de hoofdprestatie",
        "de werkgeversbijdragevermindering",
        "de aanduiding dat de werknemer socialezekerheidsbijdragen betaalt",
        "het type consolidatie",
        "het type arbeidsovereenkomst",
        "het type pensioen",
    ),
    ("18/088", "8: werkloosheid (per maand)"): (
        "het bevoegde werkloosheidskantoor",
        "de categorie van vergoeding van de werkloze",
        "de arbeidsovereenkomst",
        "de criteria inzake activering/toekenning",
        "de aanmaakdatum",
        "de begindatum",
        "de einddatum",
        "het type sanctie",
        "de reden van de sanctie",
        "het bedrag van de sanctie",
        "de datum van beslissing van de sanctie",
        "de datum van kennisgeving van de sanctie",
        "de datum van inwerkingtreding van de sanctie",
        "de begindatum van de sanctie",
        "de einddatum van de sanctie",
        "de laatste situatie vóór de werkloosheid",
        "de duur van de uitsluiting",
        "de duur van de sanctie",
        "de duur van de werkloosheid",
        "de referentiemaand",
        "het bedrag van de daguitkering",
        "het bedrag van de ontvangen uitkeringen",
        "de reden van de loopbaanonderbreking",
        "de reden van het tijdskrediet",
        "het gemiddeld aantal budgettaire eenheden",
        "het aantal gepresteerde uren",
        "het aantal dagen met uitkeringen",
        "het identificatienummer van het doorstromingsprogramma of het herinschakelingsprogramma",
        "de vervanging",
        "het stelsel",
        "de activiteitssector",
        "de situatie op het einde van de maand",
        "het statuut ten aanzien van de RVA",
        "het type tijdelijke werkloosheid",
        "het aantal betalingen uitgevoerd in een maand",
        "de datum van verzending van de kennisgevingsbrief",
        "het nummer van de procedure",
        "de datum van het eerste/tweede/derde gesprek [eerste]",
        "de datum van het eerste/tweede/derde gesprek [tweede]",
        "de datum van het eerste/tweede/derde gesprek [derde]",
        "het resultaat van het eerste/tweede/derde gesprek [eerste]",
        "het resultaat van het eerste/tweede/derde gesprek [tweede]",
        "het resultaat van het eerste/tweede/derde gesprek [derde]",
    ),
    ("18/088", "8: arbeidsongeschiktheid (per maand)"): (
        "de begindatum van de arbeidsongeschiktheid",
        "de einddatum van de arbeidsongeschiktheid",
        "het bedrag",
        "de aard van de uitkering",
        "het aantal dagen arbeidsongeschiktheid",
        "het statuut",
        "het stelsel",
        "het type uitkering",
        "het type dagen",
    ),
    ("18/088", "8: arbeidsongeschiktheid (per trimester)"): (
        "het percentage",
        "de uitkeringscode",
        "de medische code",
        "de ontslagcode",
        "de gecumuleerde uitkeringen",
        "de statistische indicator",
        "het beroep",
        "het sociaal statuut",
        "het stelsel",
        "de NACE-code",
        "de begindatum",
        "de einddatum van de betalingsperiode",
        "de einddatum van de invaliditeit",
        "de datum van de sessie",
        "de begindatum van de ziekte",
        "de begindatum van de primaire arbeidsongeschiktheid",
        "de beslissing van de Geneeskundige Raad voor Invaliditeit",
        "het aantal vergoede dagen",
        "het bedrag van de uitkering",
        "het statuut [eerste vermelding]",
        "het statuut [tweede vermelding]",
        "het jaarincome",
    ),
    ("18/088", "8: inkomsten (per trimester)"): (
        *(
            "de bruto belastbare uitkering (per betrokken socialezekerheidsinstelling: RIZIV, "
            f"RSVZ, FAMIFED, RVA, FPD, FOD SZ, POD MI) [{institution}]"
            for institution in ("RIZIV", "RSVZ", "FAMIFED", "RVA", "FPD", "FOD SZ", "POD MI")
        ),
        "de aanduiding van de activering door de Rijksdienst voor Arbeidsvoorziening",
        "de aanduiding plaatselijk werkgelegenheidsagentschap",
        "de bruto vergoeding (NIC, FEDRIS, RIZIV) [NIC]",
        "de bruto vergoeding (NIC, FEDRIS, RIZIV) [FEDRIS]",
        "de bruto vergoeding (NIC, FEDRIS, RIZIV) [RIZIV]",
        "de bruto belastbare vergoeding (NIC, FEDRIS) [NIC]",
        "de bruto belastbare vergoeding (NIC, FEDRIS) [FEDRIS]",
        "de inkomsten van de zelfstandige",
        "de bruto bezoldiging van de werknemer",
        "de bruto belastbare bezoldiging van de werknemer",
    ),
    ("19/104", "7: blok werkgeversaangifte"): (
        "het jaar en het kwartaal",
        "het inschrijvingsnummer en het ondernemingsnummer van de werkgever [inschrijvingsnummer]",
        "het inschrijvingsnummer en het ondernemingsnummer van de werkgever [ondernemingsnummer]",
        "de notie curatele",
        "het netto te betalen bedrag",
        "de conversie naar een regime van vijf dagen per week",
        "de begindatum van de vakantie",
    ),
    ("19/104", "7: blok natuurlijke persoon"): (
        "het identificatienummer van de sociale zekerheid van de werknemer",
        "de naam",
        "de voornaam",
        "het geslacht",
        "de geboortedatum",
        "de geboorteplaats",
        "het adres",
        "de nationaliteit",
    ),
    ("19/104", "7: blok werknemerslijn"): (
        "de werkgeverscategorie",
        "het werknemerskengetal",
        "de begindatum en de einddatum van het kwartaal [begindatum]",
        "de begindatum en de einddatum van het kwartaal [einddatum]",
        "de notie grensarbeider",
        "de activiteit ten opzichte van het risico",
        "het identificatienummer van de lokale eenheid",
    ),
    ("19/104", "7: blok tewerkstelling van de werknemerslijn"): (
        "het identificatienummer van de lokale eenheid",
        "het tewerkstellingsnummer",
        "de tewerkstellingsperiode [begindatum]",
        "de tewerkstellingsperiode [einddatum]",
        "het nummer van het paritair comité",
        "het aantal dagen per week van de arbeidsregeling",
        "het gemiddeld aantal uren per week van de werknemer",
        "het gemiddeld aantal uren per week van de maatpersoon",
        "het type arbeidsovereenkomst",
        "de toepasselijke maatregel tot reorganisatie van de arbeidstijd",
        "de toepasselijke maatregel tot bevordering van de werkgelegenheid",
        "het statuut van de werknemer",
        "de notie gepensioneerd",
        "het type leerling",
        "de bezoldigingswijze",
        "het functienummer",
        "de klasse van vliegend personeel",
        "de betaling in tienden of twaalfden",
        "de verantwoording van de dagen indien de werknemer tewerkgesteld is volgens een "
        "bijzondere arbeidscyclus",
    ),
    ("19/104", "7: blok prestatie van de tewerkstelling werknemerslijn"): (
        "het nummer van de prestatielijn",
        "de prestatiecode",
        "het aantal dagen van de prestatie",
        "het aantal uren van de prestatie",
        "het aantal vluchtminuten",
    ),
    ("19/104", "7: blok gegevens van de tewerkstelling overheidssector"): (
        "het type overheidsorganisatie",
        "de personeelscategorie",
        "de benaming van de graad of functie",
        "de begindatum",
        "de einddatum",
        "de taalrol",
        "de aard van de dienst",
        "de aard van de functie",
        "de reden van de beëindiging van de statutaire relatie",
    ),
    ("19/104", "7: blok bijdrage werknemer student"): (
        "het identificatienummer van de lokale eenheid",
        "het loon dat aanleiding geeft tot de berekening van de solidariteitsbijdrage",
        "de solidariteitsbijdrage",
        "het aantal aan te geven bezoldigde dagen en uren [dagen]",
        "het aantal aan te geven bezoldigde dagen en uren [uren]",
    ),
    ("19/104", "7: blok tewerkstelling - inlichtingen"): (
        "het aantal vakantiedagen",
        "de datum waarop het vastbenoemd personeelslid de periode van zes maanden afwezigheid "
        "wegens ziekte heeft overschreden",
        "de toepasselijke tewerkstellingsmaatregel uit de non-profit",
        "de aanduiding extra uit de horeca",
        "het uurloon",
        "de notie vrijstelling van prestaties",
        "de aanduiding van de detachering van personeel",
        "het aantal dagen arbeidsongeschiktheid met gewaarborgd loon voor de eerste week",
        "het brutoloon betaald bij ziekte",
        "de aanduiding van de vrijstelling van de aangifte in de overheidssector",
        "de aanduiding van de aanvullende pensioenregeling",
        "de aanduiding FWT (“former work placement trainee”)",
        "de datum van de vaste benoeming van het personeelslid",
        "de datum van de toekenning van een nieuwe post sociale maribel",
        "de aanduiding dat de bijdrage voor het overheidspensioen voor statutaire werknemers "
        "omwille van specifieke omstandigheden een afwijkende berekeningsbasis heeft",
        "de toepasselijke loopbaanmaatregel",
        "de aanduiding van de deelsector die behoort tot de Vlaamse bevoegdheid inzake "
        "activiteiten op het vlak van social profit",
        "het totale mobiliteitsbudget dat aan de werknemer wordt toegekend",
    ),
    ("13/021", "13: gegevens over de werkgever"): (
        "het aangiftekwartaal",
        "het (huidig en vorig) inschrijfsnummer",
        "het ondernemingsnummer",
        "de broncode",
        "de notie curatele",
    ),
    ("13/021", "13: niet aan een natuurlijke persoon gebonden bijdrage"): (
        "de werkgeverscategorie",
        "het werknemerskengetal",
        "de berekeningsbasis",
        "het bedrag",
    ),
    ("13/021", "13: gegevens over de werknemer"): (
        "het volgnummer",
        "het identificatienummer van de sociale zekerheid (zowel nieuw als oud)",
        "de oriolusvalidatiecode",
    ),
    ("13/021", "13: gegevens over de werknemerslijn"): (
        "de werkgeverscategorie",
        "het werknemerskengetal",
        "de begindatum van het kwartaal",
        "de einddatum van het kwartaal",
        "het identificatienummer van de lokale eenheid",
    ),
    ("13/021", "13: gegevens over de tewerkstelling"): (
        "het tewerkstellingsnummer",
        "de begindatum van de tewerkstelling",
        "de einddatum van de tewerkstelling",
        "het aantal dagen per week van het arbeidsstelsel",
        "het type arbeidsovereenkomst",
        "het gemiddeld aantal uren per week van de maatpersoon",
        "het gemiddeld aantal uren per week van de werknemer",
        "de maatregel tot reorganisatie van de arbeidstijd",
        "de maatregel tot bevordering van de werkgelegenheid",
        "het type leerling",
        "de bezoldigingswijze",
        "de verantwoording van de dagen",
        "de prestatiebreuk",
    ),
    ("13/021", "13: gegevens over de prestatie"): (
        "de prestatiecode",
        "het aantal dagen van de prestatie",
        "het aantal uren van de prestatie",
    ),
    ("13/021", "13: gegevens over de bezoldiging"): (
        "de bezoldigingscode",
        "de frequentie van de betaling van de premie",
        "het percentage van de bezoldiging op jaarbasis",
        "de bezoldiging",
    ),
    ("13/021", "13: gegevens over de vermindering"): (
        "de verminderingcode",
        "de berekeningsbasis",
        "het bedrag",
        "de datum waarop het recht op de vermindering ingaat",
    ),
    ("13/021", "13: gegevens over de verschuldigde bijdrage"): (
        "het werknemerskengetal",
        "het type",
        "de berekeningsbasis",
        "het bedrag",
    ),
    ("13/021", "13: gegevens over de bijdrage voor een student"): (
        "het loon",
        "de bijdrage",
        "het aantal dagen",
    ),
    ("19/104", "5: voltijds equivalenten"): ("het aantal voltijds equivalenten",),
    ("13/021", "20: vervangingsinkomsten uit werkloosheid"): (
        "het te verifiëren uitkeringstype",
        "het ondernemingsnummer van de werkgever",
        "de maand van de betaling van de uitkering",
        "het bedrag van de uitkering",
    ),
    ("04/037", "1.2: elektronisch bericht A052"): (
        "het INSZ van de sociaal verzekerde",
        "het uniek nummer en het versienummer van het elektronisch bericht [uniek nummer]",
        "het uniek nummer en het versienummer van het elektronisch bericht [versienummer]",
        "de datum waarop het elektronisch bericht werd aangemaakt",
        "het statuut van het elektronisch bericht",
        "het aantal voorkomens “werkgever”",
        "het inschrijvingsnummer van de werkgever",
        "de categorie van de werkgever",
        "het werknemerskengetal van de sociaal verzekerde",
        "het nummer van het paritair comité waaronder de sociaal verzekerde ressorteert",
        "de begindatum van de tewerkstelling",
        "de categorie werknemer",
        "de factor Q (de normale gemiddelde wekelijkse arbeidsduur)",
        "de factor S (de normale gemiddelde wekelijkse arbeidsduur van de maatman)",
        "het aantal voorkomens “dagen”",
        "het type dagen (al dan niet vergoed)",
        "het aantal dagen (al dan niet vergoed)",
        "het type uitkering (normale dan wel voor aangepast werk)",
        "de aard van de uitkering (volledig, beperkt of aan € 0)",
        "de begin- en einddatum van de arbeidsongeschiktheid [begindatum]",
        "de begin- en einddatum van de arbeidsongeschiktheid [einddatum]",
    ),
    ("04/037", "1.4: elektronisch bericht A052L"): (
        "het INSZ van de sociaal verzekerde",
        "het uniek nummer en het versienummer van het elektronisch bericht [uniek nummer]",
        "het uniek nummer en het versienummer van het elektronisch bericht [versienummer]",
        "het trimester waarop het elektronisch bericht betrekking heeft",
        "de volledige inhoud van het elektronisch bericht A052",
    ),
    ("04/037", "7.1: aanvullende gegevens voor de werkloosheidssector"): (
        "de bron van de beslissing tot arbeidsgeschiktheid (de adviserende geneesheer of het "
        "Rijksinstituut voor Ziekte- en Invaliditeitsverzekering)",
        "de datum van de arbeidsgeschiktheid",
        "de datum van de bevalling (zoals meegedeeld door de betrokken sociaal verzekerde aan de "
        "verzekeringsinstelling)",
    ),
}

ALL_SEED_NAMES = [
    SeedName(deliberation, group, name)
    for (deliberation, group), names in SEED_NAMES.items()
    for name in names
]


def _claimed() -> dict[SeedName, list[str]]:
    """Each seed name with the catalog entries (or panel keys) that answer it."""
    claims: dict[SeedName, list[str]] = {}
    for variable in VARIABLES.values():
        for seed in variable.seeds:
            claims.setdefault(seed, []).append(variable.name)
    for panel in PANELS.values():
        for seed in panel.seeds:
            claims.setdefault(seed, []).append(f"{panel.name} panel key {panel.keys[-1]}")
    return claims


def test_the_seed_lists_hold_no_name_twice_within_a_group():
    assert len(ALL_SEED_NAMES) == len(set(ALL_SEED_NAMES))


def test_18_088_points_6_and_8_name_about_150_variables():
    count = sum(1 for s in ALL_SEED_NAMES if s.deliberation == "18/088")
    assert 170 <= count <= 180


@pytest.mark.parametrize("seed", ALL_SEED_NAMES, ids=lambda s: f"{s.deliberation} {s.name}")
def test_every_variable_a_seed_names_has_a_catalog_entry(seed):
    assert seed in _claimed(), f"{seed.deliberation} ({seed.group}): {seed.name!r} is missing"


def test_the_catalog_claims_no_name_the_seeds_do_not_use():
    unknown = set(_claimed()) - set(ALL_SEED_NAMES)
    assert not unknown, sorted(f"{s.deliberation} {s.group}: {s.name}" for s in unknown)


def test_every_catalog_entry_is_named_by_a_seed():
    assert [v.name for v in VARIABLES.values() if not v.seeds] == []


def test_each_seed_name_maps_to_one_entry_except_a_shared_dmfa_field():
    shared = {s: names for s, names in _claimed().items() if len(names) > 1}
    assert shared == {}


def test_every_entry_states_source_granularity_type_and_unit_or_codes():
    for variable in VARIABLES.values():
        assert variable.source and variable.granularity and variable.dtype
        described = variable.unit or variable.codes or variable.pattern
        self_described = (Kind.EVENT_DATE, Kind.CODED_ID, Kind.DIRECT_IDENTIFIER)
        assert described or variable.kind in self_described, variable.name
        assert not variable.codes or all(variable.codes.values()), variable.name


def test_identifiers_are_never_released_as_such():
    """Coded identifiers have a pseudonym domain; direct identifiers come from the register
    only (and specs.model lets only an identified mode deliver them: tests/test_identified.py)."""
    for variable in VARIABLES.values():
        if variable.kind is Kind.CODED_ID:
            assert variable.pseudonym_domain, variable.name
        if variable.kind is Kind.DIRECT_IDENTIFIER and variable.built:
            assert isinstance(variable.origin, FromSource), variable.name
            assert variable.origin.table == "register.persons", variable.name


def test_every_18_088_variable_is_built():
    not_built = [
        v.name
        for v in VARIABLES.values()
        if any(s.deliberation == "18/088" for s in v.seeds) and not v.built
    ]
    assert not_built == []


def test_a_qualifier_is_dropped_from_the_name_the_codebook_shows():
    assert VARIABLES["interview_2_date"].deliberation_name == (
        "de datum van het eerste/tweede/derde gesprek"
    )
    assert catalog.VARIABLES["sex"].deliberation_name == "het geslacht"


def test_every_built_variable_reads_columns_its_source_table_declares():
    for variable in VARIABLES.values():
        if isinstance(variable.origin, FromSource):
            table = SOURCE_TABLES[variable.origin.table]
            used = set(re.findall(r"\bs\.([a-z_0-9]+)", variable.origin.expression))
            assert used and used <= {c.name for c in table.columns}, variable.name


def test_a_source_variable_is_read_the_way_its_panel_can_join_it():
    """Month and quarter panels join spell tables, period tables of their own period or the
    register's one row per person; the job, message and year panels read their own lines (DMFA
    occupation lines, A052 messages, SIGEDIS years)."""
    own_lines = {
        "quarter_job": "dmfa.occupations",
        "a052": "nic.a052_messages",
        "year": "sigedis.career",
    }
    period_tables = {
        "month": {"rva.payments", "rva.activation_allowances"},
        "quarter": {"income.quarterly"},
    }
    for variable in VARIABLES.values():
        if not isinstance(variable.origin, FromSource):
            continue
        table = SOURCE_TABLES[variable.origin.table]
        if variable.panel in own_lines:
            assert variable.origin.table == own_lines[variable.panel], variable.name
        elif table.period_column is not None:
            assert variable.origin.table in period_tables[variable.panel], variable.name
        elif variable.origin.table == "register.persons":  # one row per person
            assert variable.panel in period_tables, variable.name
        else:
            assert table.valid_from and table.valid_until, variable.name


@pytest.mark.parametrize("spec_file", ["18-088.yaml", "18-088-part1.yaml"])
def test_the_codebook_documents_each_variable_with_its_values_source_and_seed_name(spec_file):
    from flows.runtime.settings import SPECS_DIR
    from specs.catalog import Granularity
    from specs.codebook import codebook
    from specs.load import load_spec
    from specs.release import released_panels

    spec = load_spec(SPECS_DIR / spec_file)
    periods = {
        Granularity.MONTH: ["2003-01"],
        Granularity.QUARTER: ["2003-Q1"],
        Granularity.YEAR: [2003],
    }
    for mode in spec.modes.values():
        book = codebook(released_panels(spec, mode, periods))
        entries = {c["name"]: c for panel in book.values() for c in panel["columns"]}
        assert set(spec.variables.all()) <= set(entries)
        for name in spec.variables.all():
            entry = entries[name]
            assert entry["source"] and entry["deliberation_name"], name
            values = {"unit", "codes", "classes", "pattern"} & set(entry)
            assert values or entry["type"] == "DATE", name


def test_the_codebook_gives_the_name_the_specs_own_deliberation_uses():
    employer = VARIABLES["employer_id"]
    assert employer.name_in("18/088") == "het gecodeerd identificatienummer van de werkgever"
    assert "inschrijvingsnummer" in employer.deliberation_name
    # a deliberation that does not name it: all names
    assert VARIABLES["paid_days"].name_in("18/088") == VARIABLES["paid_days"].deliberation_name
