"""How ``samples.jsonl`` was written: 30 supplier invoices in six layouts, each with the reading a
clerk makes of it and the verdict expected (the agent test checks the pack gives it).

Kept so the expected values can be audited: every amount is computed here with ``Decimal`` from the
quantities and prices chosen (a trap overrides one on purpose), never by the agent or the pack.
``python agents/invoice/make_samples.py`` rewrites the file identically; edit the JSONL directly
from now on if a sample needs to change (and this script with it, or delete it)."""

import datetime as dt
import json
from decimal import ROUND_HALF_UP
from decimal import Decimal as D
from pathlib import Path

NNBSP = "\u202f"
CENT = D("0.01")


def r2(x):
    return D(x).quantize(CENT, ROUND_HALF_UP)


def fmt(x, loc):
    x = r2(x)
    s = f"{x:,.2f}"
    if loc in ("de", "nl"):
        return s.replace(",", "X").replace(".", ",").replace("X", ".")
    if loc == "fr":
        return s.replace(",", NNBSP).replace(".", ",")
    return s


def fdate(d, loc, style=0):
    d = dt.date.fromisoformat(d)
    if loc == "de":
        return d.strftime("%d.%m.%Y")
    if loc == "fr":
        return d.strftime("%d/%m/%Y")
    if loc == "nl":
        return d.strftime("%d-%m-%Y")
    if loc == "uk":
        return d.strftime("%d/%m/%Y") if style == 0 else f"{d.day} {d.strftime('%B %Y')}"
    if loc == "us":
        return d.strftime("%B ") + f"{d.day}, {d.year}" if style == 0 else d.strftime("%m/%d/%Y")
    return d.isoformat()


def fqty(q, loc):
    q = D(str(q))
    s = format(q.normalize(), "f")
    return s.replace(".", ",") if loc in ("de", "fr", "nl") else s


def frate(r, loc):
    s = format(D(str(r)).normalize(), "f")
    return s.replace(".", ",") if loc in ("de", "fr", "nl") else s


SUP = {
    "mueller": dict(
        name="Müller Consulting GmbH",
        addr="Friedrichstraße 112 · 10117 Berlin",
        country="DE",
        vat="DE811907980",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
    ),
    "schmidt": dict(
        name="Schmidt Druck GmbH",
        addr="Industriestr. 9, 50735 Köln",
        country="DE",
        vat="DE136695976",
        iban="DE02120300000000202051",
        bic="BYLADEM1001",
    ),
    "krause": dict(
        name="Krause Catering GmbH",
        addr="Am Markt 3, 04109 Leipzig",
        country="DE",
        vat="DE267198432",
        iban="DE75512108001245126199",
        bic="SOGEDEFFXXX",
    ),
    "dubois": dict(
        name="Imprimerie Dubois SARL",
        addr="14 rue de la République, 69002 Lyon",
        country="FR",
        vat="FR40303265045",
        iban="FR1420041010050500013M02606",
        bic="PSSTFRPPLYO",
    ),
    "lefevre": dict(
        name="Nettoyage Lefèvre SAS",
        addr="8 avenue Jean Jaurès, 75019 Paris",
        country="FR",
        vat="FR83404833048",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
    ),
    "vandijk": dict(
        name="Van Dijk Logistiek B.V.",
        addr="Waalhaven Z.z. 21, 3089 JH Rotterdam",
        country="NL",
        vat="NL853746398B01",
        iban="NL91ABNA0417164300",
        bic="ABNANL2A",
    ),
    "degroot": dict(
        name="De Groot Kantoorartikelen B.V.",
        addr="Oudegracht 77, 3511 AE Utrecht",
        country="NL",
        vat="NL001234567B02",
        iban="NL20INGB0001234567",
        bic="INGBNL2A",
    ),
    "thames": dict(
        name="Thames Office Supplies Ltd",
        addr="Unit 4, Riverside Park, London SE16 2XB",
        country="UK",
        vat="GB123456789",
        iban="GB29NWBK60161331926819",
        bic="NWBKGB2L",
    ),
    "pennine": dict(
        name="Pennine IT Services Ltd",
        addr="3 Wellington Street, Leeds LS1 4DL",
        country="UK",
        vat="GB987654321",
        iban="GB82WEST12345698765432",
        bic="WESTGB2L",
    ),
    "lonestar": dict(
        name="Lone Star Networks LLC",
        addr="500 W 2nd St, Austin, TX 78701",
        country="US",
        vat="74-2093871",
        iban=None,
    ),
    "lakeshore": dict(
        name="Lakeshore Staffing Inc",
        addr="233 S Wacker Dr, Chicago, IL 60606",
        country="US",
        vat="36-4417785",
        iban=None,
    ),
    "baystate": dict(
        name="Bay State Catering LLC",
        addr="12 Summer St, Boston, MA 02110",
        country="US",
        vat="04-3318275",
        iban=None,
    ),
    "alpen": dict(
        name="Alpen Software GmbH",
        addr="Leopoldstr. 250, 80807 München",
        country="DE",
        vat="DE318833451",
        iban="DE44500105175407324931",
        bic="INGDDEFFXXX",
    ),
}
LOC = {"DE": "de", "FR": "fr", "NL": "nl", "UK": "uk", "US": "us"}
CUR = {"DE": "EUR", "FR": "EUR", "NL": "EUR", "UK": "GBP", "US": "USD"}
BUYER = {
    "DE": ("Nordlicht Handel GmbH", "Hafenweg 4, 20457 Hamburg", "DE298765432"),
    "FR": ("Nordlicht France SAS", "22 quai de Bercy, 75012 Paris", "FR61552100554"),
    "NL": ("Nordlicht Benelux B.V.", "Stationsplein 1, 1012 AB Amsterdam", "NL812334966B01"),
    "UK": ("Nordlicht UK Ltd", "1 Canada Square, London E14 5AB", "GB654321987"),
    "US": ("Nordlicht Inc.", "100 Federal St, Boston, MA 02110", None),
}


def compute(spec):
    lines = []
    for desc, qty, unit, rate, cat in spec["lines"]:
        net = r2(D(str(qty)) * D(unit))
        lines.append(
            dict(
                description=desc,
                quantity=D(str(qty)),
                unit_price=D(unit),
                net=net,
                tax_rate=D(str(rate)),
                category=cat,
            )
        )
    for i, v in spec.get("line_net_override", {}).items():
        lines[i]["net"] = D(v)
    by = {}
    for ln in lines:
        by.setdefault(ln["tax_rate"], D(0))
        by[ln["tax_rate"]] += ln["net"]
    taxes = [dict(rate=r, amount=r2(b * r / 100)) for r, b in by.items() if r > 0]
    for r, v in spec.get("tax_override", {}).items():
        for t in taxes:
            if t["rate"] == D(str(r)):
                t["amount"] = D(v)
    net = sum((ln["net"] for ln in lines), D(0))
    gross = net + sum((t["amount"] for t in taxes), D(0))
    if "gross_override" in spec:
        gross = D(spec["gross_override"])
    return lines, taxes, net, gross


# ------------------------------------------------------------------ layouts
def layout_de(s, sup, lines, taxes, net, gross):
    L = "de"
    buyer = BUYER["DE"]
    title = "GUTSCHRIFT" if s["kind"] == "credit_note" else "RECHNUNG"
    numlabel = "Gutschrift Nr." if s["kind"] == "credit_note" else "Rechnungsnummer:"
    out = [
        f"{sup['name']} · {sup['addr']}",
        "",
        buyer[0],
        "Kreditorenbuchhaltung",
        buyer[1],
        "",
        title,
        f"{numlabel:<19}{s['number']}" if s.get("number") else "",
        f"Rechnungsdatum:    {fdate(s['issue'], L)}",
    ]
    if s.get("po"):
        out.append(f"Ihre Bestellung:   {s['po']}")
    out.append(f"Kunden-USt-IdNr.:  {buyer[2]}")
    out += ["", "Pos.  Beschreibung                    Menge       Einzelpreis        Betrag   USt"]
    for i, ln in enumerate(lines, 1):
        unit = s.get("units", {}).get(i - 1, "")
        q = f"{fqty(ln['quantity'], L)} {unit}".strip()
        out.append(
            f"{str(i) + '.':<6}{ln['description']:<30}{q:>8}   {fmt(ln['unit_price'], L):>14}  {fmt(ln['net'], L):>12}   {frate(ln['tax_rate'], L)}%"
        )
        if s.get("continuation") == i - 1:
            out.append("      (Leistungszeitraum laut Anlage)")
    out += ["", f"Nettobetrag{'':<40}{fmt(net, L):>14} €"]
    for t in taxes:
        base = sum((ln["net"] for ln in lines if ln["tax_rate"] == t["rate"]), D(0))
        out.append(
            f"zzgl. {frate(t['rate'], L)} % MwSt. auf {fmt(base, L)} €{'':<14}{fmt(t['amount'], L):>14} €"
        )
    label = "Gutschriftsbetrag" if s["kind"] == "credit_note" else "Rechnungsbetrag"
    out.append(f"{label:<51}{fmt(gross, L):>14} €")
    out.append("")
    if s.get("due"):
        out.append(f"Zahlbar bis {fdate(s['due'], L)} ohne Abzug.")
    elif s.get("terms"):
        out.append(f"Zahlbar innerhalb von {s['terms']} Tagen ohne Abzug.")
    iban = s.get("iban", sup["iban"])
    vat = s.get("vat", sup["vat"])
    foot = []
    if vat:
        foot.append(f"USt-IdNr.: {vat}")
    if iban:
        foot.append("IBAN: " + " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)))
    foot.append(f"BIC: {sup.get('bic', '')}")
    out.append(" · ".join(foot))
    return "\n".join(x for x in out if x is not None)


def layout_en_eu(s, sup, lines, taxes, net, gross):
    """A German supplier writing in English: ISO dates, EUR code, one column layout."""
    L = "uk"
    buyer = BUYER["DE"]
    out = [
        f"{sup['name'].upper()}",
        sup["addr"],
        f"VAT ID {s.get('vat', sup['vat'])}",
        "",
        f"Invoice no. {s['number']}   |   Date {s['issue']}   |   Due {s['due']}"
        if s.get("due")
        else f"Invoice no. {s['number']}   |   Date {s['issue']}",
        f"Bill to: {buyer[0]}, {buyer[1]} (your VAT ID {buyer[2]})",
    ]
    if s.get("po"):
        out.append(f"Your order ref: {s['po']}")
    out += ["", "Item                              Qty      Unit EUR      Amount EUR   VAT"]
    for i, ln in enumerate(lines):
        unit = s.get("units", {}).get(i, "")
        q = f"{fqty(ln['quantity'], L)} {unit}".strip()
        out.append(
            f"{ln['description']:<32}{q:>6}    {fmt(ln['unit_price'], L):>10}    {fmt(ln['net'], L):>12}   {frate(ln['tax_rate'], L)}%"
        )
    out += ["", f"Net total{'':<37}EUR {fmt(net, L):>12}"]
    for t in taxes:
        out.append(f"VAT {frate(t['rate'], L)}%{'':<38}EUR {fmt(t['amount'], L):>12}")
    out.append(f"Total{'':<41}EUR {fmt(gross, L):>12}")
    if s.get("terms"):
        out.append(f"Payment within {s['terms']} days net.")
    iban = s.get("iban", sup["iban"])
    out += [
        "",
        f"Bank transfer to IBAN {iban} (BIC {sup.get('bic', '')}), quoting the invoice number.",
    ]
    return "\n".join(out)


def layout_fr(s, sup, lines, taxes, net, gross):
    L = "fr"
    buyer = BUYER["FR"]
    cn = s["kind"] == "credit_note"
    out = [
        sup["name"],
        sup["addr"],
        f"SIRET 303 265 045 00021 – N° TVA intracommunautaire : {s.get('vat', sup['vat'])}",
        "",
        f"Client : {buyer[0]}",
        buyer[1],
        f"N° TVA client : {buyer[2]}",
        "",
        f"{'AVOIR' if cn else 'FACTURE'} N° {s['number']}",
        f"Date de facture : {fdate(s['issue'], L)}",
    ]
    if s.get("due"):
        out.append(f"Date d'échéance : {fdate(s['due'], L)}")
    if s.get("po"):
        out.append(f"Bon de commande : {s['po']}")
    out += ["", "Désignation                          Qté       PU HT        Montant HT    TVA"]
    for i, ln in enumerate(lines):
        unit = s.get("units", {}).get(i, "")
        q = f"{fqty(ln['quantity'], L)} {unit}".strip()
        out.append(
            f"{ln['description']:<35}{q:>6}   {fmt(ln['unit_price'], L):>10} €   {fmt(ln['net'], L):>12} €   {frate(ln['tax_rate'], L)} %"
        )
    out += ["", f"Total HT{'':<40}{fmt(net, L):>12} €"]
    for t in taxes:
        out.append(f"TVA {frate(t['rate'], L)} %{'':<37}{fmt(t['amount'], L):>12} €")
    out.append(f"{'Montant de l’avoir' if cn else 'Total TTC'}{'':<39}{fmt(gross, L):>12} €")
    if s.get("terms"):
        out.append(f"Paiement à {s['terms']} jours par virement.")
    iban = s.get("iban", sup["iban"])
    out += [
        "",
        "Règlement par virement – IBAN : "
        + " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        + f" – BIC : {sup.get('bic', '')}",
    ]
    return "\n".join(out)


def layout_nl(s, sup, lines, taxes, net, gross):
    L = "nl"
    buyer = BUYER["NL"]
    out = [
        f"{sup['name']}  |  {sup['addr']}",
        "",
        "FACTUUR",
        "",
        f"Aan: {buyer[0]}, {buyer[1]}",
        f"Uw BTW-nummer: {buyer[2]}",
        "",
        f"Factuurnummer:   {s['number']}",
        f"Factuurdatum:    {fdate(s['issue'], L)}",
    ]
    if s.get("due"):
        out.append(f"Vervaldatum:     {fdate(s['due'], L)}")
    if s.get("po"):
        out.append(f"Inkoopordernummer: {s['po']}")
    out += ["", "Omschrijving                         Aantal        Prijs          Bedrag    BTW"]
    for i, ln in enumerate(lines):
        unit = s.get("units", {}).get(i, "")
        q = f"{fqty(ln['quantity'], L)} {unit}".strip()
        out.append(
            f"{ln['description']:<35}{q:>8}   € {fmt(ln['unit_price'], L):>9}   € {fmt(ln['net'], L):>11}   {frate(ln['tax_rate'], L)}%"
        )
    out += ["", f"Subtotaal{'':<39}€ {fmt(net, L):>11}"]
    for t in taxes:
        out.append(f"BTW {frate(t['rate'], L)}%{'':<38}€ {fmt(t['amount'], L):>11}")
    out.append(f"Totaal{'':<42}€ {fmt(gross, L):>11}")
    if s.get("terms"):
        out.append(f"Graag betalen binnen {s['terms']} dagen.")
    iban = s.get("iban", sup["iban"])
    out += [
        "",
        f"BTW-nummer: {s.get('vat', sup['vat'])}   KvK: 24356789",
        "IBAN: "
        + " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        + f"   BIC: {sup.get('bic', '')}",
    ]
    return "\n".join(out)


def layout_uk(s, sup, lines, taxes, net, gross):
    L = "uk"
    buyer = BUYER["UK"]
    st = s.get("datestyle", 0)
    cn = s["kind"] == "credit_note"
    out = [
        sup["name"],
        sup["addr"],
        f"VAT Reg No: {s.get('vat', sup['vat'])[:2]} {s.get('vat', sup['vat'])[2:5]} {s.get('vat', sup['vat'])[5:9]} {s.get('vat', sup['vat'])[9:]}",
        "",
        "CREDIT NOTE" if cn else "TAX INVOICE",
        "",
        f"Invoice To: {buyer[0]}, {buyer[1]}",
        f"{'Credit Note No' if cn else 'Invoice No'}: {s['number']}",
        f"Invoice Date: {fdate(s['issue'], L, st)}",
    ]
    if s.get("due"):
        out.append(f"Due Date: {fdate(s['due'], L, st)}")
    if s.get("po"):
        out.append(f"Purchase Order: {s['po']}")
    out += ["", "Description                          Qty    Unit Price     VAT      Amount"]
    for i, ln in enumerate(lines):
        unit = s.get("units", {}).get(i, "")
        q = f"{fqty(ln['quantity'], L)} {unit}".strip()
        out.append(
            f"{ln['description']:<35}{q:>5}   £{fmt(ln['unit_price'], L):>10}   {frate(ln['tax_rate'], L):>3}%   £{fmt(ln['net'], L):>10}"
        )
    out += ["", f"Subtotal{'':<47}£{fmt(net, L):>10}"]
    for t in taxes:
        out.append(f"VAT @ {frate(t['rate'], L)}%{'':<44}£{fmt(t['amount'], L):>10}")
    out.append(f"Total{'':<50}£{fmt(gross, L):>10}")
    if s.get("terms"):
        out.append(f"Payment terms: strictly {s['terms']} days net.")
    iban = s.get("iban", sup["iban"])
    out += [
        "",
        f"Please pay by BACS. IBAN {' '.join(iban[i : i + 4] for i in range(0, len(iban), 4))}  BIC {sup.get('bic', '')}",
    ]
    return "\n".join(out)


def layout_us(s, sup, lines, taxes, net, gross):
    L = "us"
    buyer = BUYER["US"]
    st = s.get("datestyle", 0)
    cn = s["kind"] == "credit_note"
    out = [
        sup["name"],
        sup["addr"],
        f"Federal Tax ID: {s.get('vat', sup['vat'])}",
        "",
        f"{'CREDIT MEMO' if cn else 'INVOICE'} #{s['number']}",
        f"Date: {fdate(s['issue'], L, st)}",
    ]
    if s.get("due"):
        out.append(f"Due Date: {fdate(s['due'], L, st)}")
    if s.get("terms"):
        out.append(f"Terms: Net {s['terms']}")
    if s.get("po"):
        out.append(f"P.O. Number: {s['po']}")
    out += [
        f"Bill To: {buyer[0]}, {buyer[1]}",
        "",
        "QTY   DESCRIPTION                          UNIT PRICE        AMOUNT",
    ]
    for ln in lines:
        q = fqty(ln["quantity"], L)
        out.append(
            f"{q:<6}{ln['description']:<35}{fmt(ln['unit_price'], L):>12}   {fmt(ln['net'], L):>11}"
        )
    out += ["", f"Subtotal{'':<44}${fmt(net, L):>11}"]
    for t in taxes:
        out.append(f"Sales Tax ({frate(t['rate'], L)}%){'':<33}${fmt(t['amount'], L):>11}")
    out.append(f"Total Due{'':<43}${fmt(gross, L):>11}")
    out += ["", "Remit by ACH to Frost Bank, routing 114000093, account ending 4471."]
    return "\n".join(out)


LAYOUTS = {
    "de": layout_de,
    "en_eu": layout_en_eu,
    "fr": layout_fr,
    "nl": layout_nl,
    "uk": layout_uk,
    "us": layout_us,
}


def expected(spec, sup, lines, taxes, net, gross):
    e = {
        "kind": spec["kind"],
        "supplier_name": sup["name"],
        "supplier_country": sup["country"],
        "supplier_vat_id": spec.get("vat", sup["vat"]),
        "iban": spec.get("iban", sup["iban"]),
        "invoice_number": spec.get("number"),
        "issue_date": spec["issue"],
        "due_date": spec.get("due"),
        "payment_terms_days": spec.get("terms"),
        "currency": CUR[sup["country"]],
        "po_number": spec.get("po"),
        "net_total": str(r2(net)),
        "tax_total": None,
        "gross_total": str(r2(gross)),
        "lines": [
            {
                "quantity": format(ln["quantity"].normalize(), "f"),
                "unit_price": str(ln["unit_price"]),
                "net": str(ln["net"]),
                "tax_rate": format(ln["tax_rate"].normalize(), "f"),
                "category": ln["category"],
            }
            for ln in lines
        ],
        "taxes": [
            {"rate": format(t["rate"].normalize(), "f"), "amount": str(t["amount"])} for t in taxes
        ],
    }
    return e


S = []


def add(id, layout, sup, received, verdict, rules, why, **spec):
    spec.setdefault("kind", "invoice")
    su = SUP[sup]
    lines, taxes, net, gross = compute(spec)
    text = LAYOUTS[layout](spec, su, lines, taxes, net, gross)
    row = {"id": id, "invoice": text, "received_on": received}
    if spec.get("history"):
        row["history"] = spec["history"]
    row["expected"] = expected(spec, su, lines, taxes, net, gross)
    row["expected_verdict"] = verdict
    row["expected_rules"] = rules
    row["note"] = why
    S.append(row)


G = "general"
add(
    "inv-001",
    "de",
    "mueller",
    "2025-03-10",
    "pass",
    [],
    "clean German invoice against its PO",
    number="RE-2025-0041",
    issue="2025-03-03",
    due="2025-04-02",
    po="PO-4711",
    units={0: "Tage"},
    continuation=0,
    lines=[
        ("Beratung Prozessanalyse", 10, "120.00", 19, G),
        ("Reisekostenpauschale", 1, "80.00", 19, G),
    ],
)
add(
    "inv-002",
    "de",
    "schmidt",
    "2025-03-14",
    "pass",
    [],
    "printing, payment terms instead of a due date",
    number="2025-0312",
    issue="2025-03-12",
    terms=14,
    units={0: "Stk.", 1: "Stk."},
    lines=[
        ("Flyer A5, 4/4-farbig (Tsd.)", 5, "46.00", 19, G),
        ("Visitenkarten", 500, "0.12", 19, G),
        ("Fachbuch Druckvorstufe", 2, "39.90", 7, "books"),
    ],
)
add(
    "inv-003",
    "de",
    "krause",
    "2025-04-04",
    "pass",
    [],
    "catering at 7% and room hire at 19%",
    number="KC-10233",
    issue="2025-04-01",
    due="2025-04-15",
    units={0: "Pers.", 1: "Tag"},
    lines=[
        ("Catering Mittagsbuffet", 40, "12.35", 7, "food"),
        ("Raummiete Seminarraum", 1, "450.00", 19, G),
    ],
)
add(
    "inv-004",
    "fr",
    "dubois",
    "2025-03-17",
    "pass",
    [],
    "French printer: books at 5.5% and layout at 20%, narrow-space thousands",
    number="F2025-118",
    issue="2025-03-12",
    due="2025-04-11",
    lines=[
        ("Catalogues imprimés (livres)", 500, "3.20", "5.5", "books"),
        ("Mise en page", 1, "1350.00", 20, G),
    ],
)
add(
    "inv-005",
    "fr",
    "lefevre",
    "2025-05-06",
    "pass",
    [],
    "cleaning contract against its PO, terms in days",
    number="NL-2025-0457",
    issue="2025-05-02",
    terms=30,
    po="PO-2025-118",
    units={0: "h"},
    lines=[
        ("Nettoyage des bureaux – avril", 86, "24.50", 20, G),
        ("Produits d'entretien", 1, "118.40", 20, G),
    ],
)
add(
    "inv-006",
    "nl",
    "vandijk",
    "2025-03-20",
    "pass",
    [],
    "Dutch logistics against a part-invoiced PO, dash dates",
    number="2025/0877",
    issue="2025-03-18",
    due="2025-04-17",
    po="4500012345",
    units={0: "week"},
    lines=[
        ("Opslag pallets maart", 12, "14.75", 21, G),
        ("Transport Rotterdam - Hamburg", 1, "640.00", 21, G),
    ],
)
add(
    "inv-007",
    "nl",
    "degroot",
    "2025-06-03",
    "pass",
    [],
    "Dutch office supplies, terms in days",
    number="DG-88214",
    issue="2025-06-02",
    terms=30,
    lines=[
        ("Printpapier A4 80g (doos)", 10, "27.95", 21, G),
        ("Koffie bonen 1kg", 6, "18.40", 9, "food"),
    ],
)
add(
    "inv-008",
    "uk",
    "thames",
    "2025-03-07",
    "pass",
    [],
    "UK stationery, zero-rated sandwiches, day-first slash dates",
    number="INV-30211",
    issue="2025-03-05",
    due="2025-04-04",
    units={0: "x"},
    lines=[
        ("Sandwich platters", 6, "18.50", 0, "food"),
        ("Printer paper A4 (box)", 4, "24.99", 20, G),
    ],
)
add(
    "inv-009",
    "uk",
    "pennine",
    "2025-04-11",
    "pass",
    [],
    "UK IT services against a PO, long dates",
    number="PIT-2025-0419",
    issue="2025-04-09",
    due="2025-05-09",
    po="PO-77120",
    datestyle=1,
    units={0: "days"},
    lines=[
        ("Network support (on site)", 3, "450.00", 20, G),
        ("Firewall licence renewal", 1, "780.00", 20, G),
    ],
)
add(
    "inv-010",
    "us",
    "lonestar",
    "2025-03-10",
    "pass",
    [],
    "US hardware with Austin sales tax, long US dates",
    number="10442",
    issue="2025-03-05",
    due="2025-04-04",
    lines=[
        ("Cisco switch 24-port", 2, "1249.00", "8.25", G),
        ("Patch cables Cat6 (10-pack)", 5, "39.00", "8.25", G),
    ],
)
add(
    "inv-011",
    "us",
    "lakeshore",
    "2025-05-16",
    "pass",
    [],
    "US staffing against a PO, net 30, numeric US dates",
    number="LS-55012",
    issue="2025-05-14",
    terms=30,
    po="PO-88031",
    datestyle=1,
    lines=[
        ("Temporary accountant (hours)", 120, "62.50", 0, G),
        ("Placement fee", 1, "950.00", 0, G),
    ],
)
add(
    "inv-012",
    "us",
    "baystate",
    "2025-06-10",
    "pass",
    [],
    "Boston catering, MA meals tax 6.25%",
    number="BSC-2291",
    issue="2025-06-06",
    due="2025-06-20",
    lines=[
        ("Boxed lunches", 35, "16.50", "6.25", "food"),
        ("Coffee service", 1, "120.00", "6.25", "food"),
    ],
)
add(
    "inv-013",
    "en_eu",
    "mueller",
    "2025-05-09",
    "pass",
    [],
    "German supplier writing in English, ISO dates, second PO",
    number="RE-2025-0077",
    issue="2025-05-05",
    due="2025-06-04",
    po="PO-4802",
    units={0: "days"},
    lines=[
        ("Workshop facilitation", 2, "390.00", 19, G),
        ("Workshop materials", 1, "64.50", 19, G),
    ],
)
add(
    "inv-014",
    "en_eu",
    "schmidt",
    "2025-07-02",
    "pass",
    [],
    "English layout, fractional quantity, terms",
    number="2025-0688",
    issue="2025-06-30",
    terms=30,
    units={0: "h"},
    lines=[("Prepress proofing", "2.5", "96.50", 19, G), ("Poster A1 print", 12, "14.20", 19, G)],
)
# --- traps
add(
    "inv-015",
    "de",
    "mueller",
    "2025-04-07",
    "review",
    ["iban_changed"],
    "TRAP payment fraud: a new IBAN, 'our bank has changed'",
    number="RE-2025-0052",
    issue="2025-04-01",
    due="2025-05-01",
    po="PO-4711",
    units={0: "Tage"},
    iban="DE44500105175407324931",
    lines=[("Beratung Umsetzung", 8, "120.00", 19, G)],
)
add(
    "inv-016",
    "uk",
    "thames",
    "2025-05-12",
    "review",
    ["iban_changed"],
    "TRAP payment fraud on a UK invoice",
    number="INV-30388",
    issue="2025-05-09",
    due="2025-06-08",
    iban="GB33BUKB20201555555555",
    lines=[("Toner cartridges HP 59A", 3, "89.00", 20, G)],
)
add(
    "inv-017",
    "de",
    "schmidt",
    "2025-04-02",
    "fail",
    ["duplicate_invoice"],
    "TRAP the number was already paid (history from the old AP system)",
    number="2025-0198",
    issue="2025-02-20",
    terms=14,
    history=[{"supplier": "Schmidt Druck GmbH", "number": "2025-0198"}],
    units={0: "Stk."},
    lines=[("Briefpapier", 2000, "0.09", 19, G)],
)
add(
    "inv-018",
    "fr",
    "dubois",
    "2025-04-01",
    "fail",
    ["rate_not_allowed"],
    "TRAP books billed at the standard 20%",
    number="F2025-131",
    issue="2025-03-28",
    due="2025-04-27",
    lines=[("Livres reliés (édition client)", 200, "8.40", 20, "books")],
)
add(
    "inv-019",
    "nl",
    "degroot",
    "2025-06-20",
    "fail",
    ["rate_not_allowed"],
    "TRAP the German 19% on a Dutch invoice",
    number="DG-88302",
    issue="2025-06-18",
    terms=30,
    lines=[("Bureaustoelen ergonomisch", 2, "289.00", 19, G)],
)
add(
    "inv-020",
    "de",
    "krause",
    "2025-05-08",
    "fail",
    ["line_arithmetic"],
    "TRAP a line net that is not quantity x price (totals add up)",
    number="KC-10298",
    issue="2025-05-06",
    due="2025-05-20",
    units={0: "Pers."},
    line_net_override={0: "537.20"},
    lines=[("Catering Konferenzpause", 42, "12.60", 7, "food")],
)
add(
    "inv-021",
    "us",
    "lonestar",
    "2025-06-02",
    "fail",
    ["gross_mismatch"],
    "TRAP the total due is not subtotal plus tax",
    number="10517",
    issue="2025-05-29",
    due="2025-06-28",
    gross_override="2870.50",
    lines=[("Wireless access point", 4, "612.00", "8.25", G)],
)
add(
    "inv-022",
    "nl",
    "vandijk",
    "2025-04-15",
    "review",
    ["po_missing"],
    "TRAP a supplier that bills against POs names none",
    number="2025/0921",
    issue="2025-04-11",
    due="2025-05-11",
    units={0: "week"},
    lines=[("Opslag pallets april", 10, "14.75", 21, G)],
)
add(
    "inv-023",
    "de",
    "mueller",
    "2025-06-03",
    "fail",
    ["due_before_issue"],
    "TRAP due date before the issue date",
    number="RE-2025-0090",
    issue="2025-06-02",
    due="2025-05-02",
    po="PO-4802",
    units={0: "Tage"},
    lines=[("Beratung Nachbereitung", 5, "120.00", 19, G)],
)
add(
    "inv-024",
    "fr",
    "dubois",
    "2025-04-22",
    "review",
    ["credit_note"],
    "a credit note for misprinted catalogues: booked, not paid",
    kind="credit_note",
    number="AV2025-007",
    issue="2025-04-18",
    lines=[("Catalogues défectueux (livres)", 50, "3.20", "5.5", "books")],
)
add(
    "inv-025",
    "de",
    "alpen",
    "2025-03-25",
    "review",
    ["unknown_supplier"],
    "a supplier not in the master data",
    number="AS-2025-144",
    issue="2025-03-21",
    due="2025-04-20",
    units={0: "Lizenzen"},
    lines=[("Softwarelizenz Jahresabo", 25, "180.00", 19, G)],
)
add(
    "inv-026",
    "us",
    "lakeshore",
    "2025-06-16",
    "review",
    ["po_amount_exceeded"],
    "TRAP more billed than the PO allows (2% tolerance)",
    number="LS-55140",
    issue="2025-06-13",
    terms=30,
    po="PO-88031",
    lines=[
        ("Temporary accountant (hours)", 190, "62.50", 0, G),
        ("Overtime (hours)", 12, "93.75", 0, G),
    ],
)
add(
    "inv-027",
    "uk",
    "pennine",
    "2025-05-20",
    "fail",
    ["tax_amount_mismatch"],
    "TRAP VAT one penny off the rate applied to the lines",
    number="PIT-2025-0502",
    issue="2025-05-16",
    due="2025-06-15",
    po="PO-77120",
    units={0: "days"},
    tax_override={20: "300.01"},
    lines=[
        ("Network support (on site)", 2, "450.00", 20, G),
        ("Cabling survey", 1, "600.00", 20, G),
    ],
)
add(
    "inv-028",
    "en_eu",
    "krause",
    "2025-07-08",
    "fail",
    ["must_store_missing"],
    "TRAP no VAT number on a German invoice",
    number="KC-10340",
    issue="2025-07-04",
    due="2025-07-18",
    vat=None,
    lines=[("Catering summer party buffet", 60, "21.00", 7, "food")],
)
add(
    "inv-029",
    "nl",
    "vandijk",
    "2025-07-01",
    "review",
    ["large_invoice"],
    "a large invoice needs a second approver",
    number="2025/1204",
    issue="2025-06-27",
    due="2025-07-27",
    po="4500012400",
    units={0: "maanden"},
    lines=[("Warehouse management 2025 H2", 6, "7450.00", 21, G)],
)
add(
    "inv-030",
    "de",
    "mueller",
    "2025-03-12",
    "fail",
    ["duplicate_invoice"],
    "TRAP inv-001 sent again: paid once, the second run finds it in the ledger",
    number="RE-2025-0041",
    issue="2025-03-03",
    due="2025-04-02",
    po="PO-4711",
    units={0: "Tage"},
    continuation=0,
    lines=[
        ("Beratung Prozessanalyse", 10, "120.00", 19, G),
        ("Reisekostenpauschale", 1, "80.00", 19, G),
    ],
)

with open(Path(__file__).with_name("samples.jsonl"), "w", encoding="utf-8") as fh:
    for row in S:
        fh.write(json.dumps(row, ensure_ascii=False) + "\n")
print(len(S))
