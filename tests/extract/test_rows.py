"""The rows of an invoice's item and tax tables come from its layout, one row per billed item."""

from __future__ import annotations

from nesyflow.extract.rows import document_rows

INVOICE = """Müller Consulting GmbH · Friedrichstraße 112 · 10117 Berlin
RECHNUNG
Rechnungsnummer:   RE-2025-0041
Pos.  Beschreibung                    Menge       Einzelpreis        Betrag   USt
1.    Beratung Prozessanalyse       10 Tage           120,00      1.200,00   19%
      (Leistungszeitraum laut Anlage)
2.    Fachbuch                            2             39,90         79,80   7%

Nettobetrag                                                1.279,80 €
zzgl. 19 % MwSt. auf 1.200,00 €                              228,00 €
zzgl. 7 % MwSt. auf 79,80 €                                    5,59 €
Rechnungsbetrag                                            1.513,39 €
USt-IdNr.: DE811907980 · IBAN: DE89 3704 0044 0532 0130 00
"""


def test_item_rows_and_tax_rows_are_told_apart():
    rows = document_rows(INVOICE, "invoice")
    assert [r.request.text.split()[1] for r in rows.items] == ["Beratung", "Fachbuch"]
    assert [r.request.text.split()[1] for r in rows.taxes] == ["19", "7"]
    for r in [*rows.items, *rows.taxes]:  # offsets point into the whole invoice
        assert INVOICE[r.request.offset : r.request.offset + len(r.request.text)] == r.request.text
    # a row's shared text is the tax section: a rate the row does not state is read there
    section = rows.items[0].whole_request.text
    assert section.startswith("zzgl. 19") and section.rstrip().endswith("5,59 €")


def test_totals_bank_lines_and_continuations_are_no_rows():
    rows = document_rows(INVOICE, "invoice")
    texts = [r.request.text for r in rows.items]
    assert not any(
        t.lstrip().startswith(("Nettobetrag", "Rechnungsbetrag", "USt", "(")) for t in texts
    )


def test_a_document_without_tax_rows_has_an_empty_tax_section():
    text = "QTY   DESCRIPTION        UNIT PRICE     AMOUNT\n2     Placement fee        950.00   1,900.00\n"
    rows = document_rows(text, "invoice")
    assert len(rows.items) == 1 and rows.taxes == []
    assert rows.items[0].whole_request.text == ""
