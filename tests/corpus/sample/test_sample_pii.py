"""Planted PII: exact offsets, valid checksums, realistic phone numbers, decoys that are not PII."""

from __future__ import annotations

import random
import unicodedata

import pytest

from corpus.sample import pii as P
from corpus.sample import vocab as V


def test_checksum_functions_on_known_values() -> None:
    assert P.luhn_valid("4111 1111 1111 1111") and not P.luhn_valid("4111 1111 1111 1112")
    assert P.iban_valid("GB82 WEST 1234 5698 7654 32") and not P.iban_valid("GB82 WEST 1234 5698 7654 33")
    assert P.iban_valid("DE89370400440532013000")
    assert P.cn_id_valid("11010519491231002X") and not P.cn_id_valid("110105194912310021")
    assert P.ssn_valid("123-45-6789") and not P.ssn_valid("666-45-6789") and not P.ssn_valid("123-00-6789")


def test_generators_always_valid() -> None:
    rng = random.Random(0)
    for _ in range(300):
        assert P.validate("credit_card", P.credit_card(rng)[0])
        assert P.validate("iban", P.iban(rng)[0])
        assert P.validate("cn_resident_id", P.cn_resident_id(rng)[0])
        assert P.validate("us_ssn", P.us_ssn(rng)[0])
        assert P.validate("ipv4", P.ipv4(rng)[0])
        assert P.validate("ipv6", P.ipv6(rng)[0])
        assert P.validate("email", P.email(rng, "Björn", "O'Connell")[0])


def test_offsets_are_exact(tables: dict[str, list[dict]]) -> None:
    texts = {("comments", c["source_id"]): c["text"] for c in tables["comments"]}
    texts |= {("documents", d["source_id"]): d["text"] for d in tables["documents"]}
    assert tables["pii"], "no PII planted"
    for row in tables["pii"]:
        text = texts[(row["dataset"], row["source_id"])]
        assert row["field"] == "text"
        assert text[row["start"] : row["end"]] == row["value"], row
        assert P.validate(row["pii_type"], row["value"]), row
    for row in tables["decoys"]:
        text = texts[(row["dataset"], row["source_id"])]
        assert text[row["start"] : row["end"]] == row["value"], row


def test_pii_and_decoys_do_not_overlap(tables: dict[str, list[dict]]) -> None:
    spans: dict[str, list[tuple[int, int]]] = {}
    for row in tables["pii"]:
        spans.setdefault(row["source_id"], []).append((row["start"], row["end"]))
    for row in tables["decoys"]:
        for s, e in spans.get(row["source_id"], []):
            assert row["end"] <= s or row["start"] >= e


def test_all_types_planted_at_the_configured_rate(tiny, tables: dict[str, list[dict]]) -> None:
    rows = [r for r in tables["pii"] if r["dataset"] == "comments"]
    assert {r["pii_type"] for r in rows} == set(P.PII_TYPES)
    with_pii = {r["source_id"] for r in rows}
    rate = len(with_pii) / len(tables["comments"])
    assert abs(rate - tiny.config.pii_fraction) < 0.06
    assert any(r["dataset"] == "documents" for r in tables["pii"])
    decoy_types = {r["decoy_type"] for r in tables["decoys"]}
    assert {"duration", "year", "bpm", "chart_position", "isrc", "catalog_number"} <= decoy_types


def test_platform_user_ids_name_real_users(tables: dict[str, list[dict]]) -> None:
    users = {u["source_id"] for u in tables["users"]}
    uids = [r["value"] for r in tables["pii"] if r["pii_type"] == "platform_user_id"]
    assert uids and all("u" + v.removeprefix(P.PLATFORM_UID_PREFIX) in users for v in uids)


def test_phone_numbers_are_valid_for_their_country(tables: dict[str, list[dict]]) -> None:
    phonenumbers = pytest.importorskip("phonenumbers")
    phones = [r for r in tables["pii"] if r["pii_type"] == "phone"]
    assert phones
    for r in phones:
        n = phonenumbers.parse(r["value"], r["subtype"])
        assert phonenumbers.is_valid_number(n), r["value"]


def test_texts_are_nfc_without_control_characters(tables: dict[str, list[dict]]) -> None:
    for ds in ("documents", "comments"):
        for r in tables[ds]:
            t = r["text"]
            assert unicodedata.normalize("NFC", t) == t
            assert "\r" not in t and not any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in t)


def test_digit_band_names_are_in_the_catalog(tables: dict[str, list[dict]]) -> None:
    names = {a["name"] for a in tables["artists"]}
    assert len(names & set(V.DIGIT_BAND_NAMES)) >= 3
