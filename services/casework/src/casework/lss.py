"""The ten services of LSS 9 § 1-10, by the catalogue's codes. Casework needs
them to check a *Begäran LSS*; intake's catalogue offers the same codes (its
`catalogue_services` rows)."""

LSS_SERVICES: dict[str, str] = {
    "lss_radgivning": "Rådgivning och annat personligt stöd",
    "lss_personlig_assistans": "Personlig assistans",
    "lss_ledsagarservice": "Ledsagarservice",
    "lss_kontaktperson": "Biträde av kontaktperson",
    "lss_avlosarservice": "Avlösarservice i hemmet",
    "lss_korttidsvistelse": "Korttidsvistelse utanför det egna hemmet",
    "lss_korttidstillsyn": "Korttidstillsyn för skolungdom över 12 år",
    "lss_bostad_barn": "Boende i familjehem eller bostad med särskild service för barn eller ungdomar",
    "lss_bostad_vuxen": "Bostad med särskild service för vuxna",
    "lss_daglig_verksamhet": "Daglig verksamhet",
}
