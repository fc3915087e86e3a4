"""The codes a citizen applies for, by entry point: the catalogue as migration 0001
seeds it (entry "ifo" is the portal's other e-services, not applied for here).

Only a migration changes the catalogue, so the OpenAPI document can state these as
enums, built once at import; `tests/catalogue/test_codes.py` holds them equal to the
catalogue in the database, so a migration that changes one changes this too. The
service itself still checks a submitted code against the database."""

from __future__ import annotations

from shared.contracts.intake import Entry

APPLICABLE: dict[Entry, tuple[str, ...]] = {
    "sol": ("sarskilt_boende", "hemtjanst", "trygghetslarm", "korttidsvistelse_sol", "dagverksamhet_sol"),
    "lss": (
        "lss_radgivning",
        "lss_personlig_assistans",
        "lss_ledsagarservice",
        "lss_kontaktperson",
        "lss_avlosarservice",
        "lss_korttidsvistelse",
        "lss_korttidstillsyn",
        "lss_bostad_barn",
        "lss_bostad_vuxen",
        "lss_daglig_verksamhet",
    ),
}
