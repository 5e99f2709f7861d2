//! The continent of a country, for requests described with `--country` and no `--continent`:
//! Cloudflare sends both (`cf.country`, `cf.continent`), so a command-line request with only a
//! country gets the continent Cloudflare would send with it.
//!
//! One table: ISO 3166-1 alpha-2 country code → Cloudflare continent code, as in the
//! GeoNames country list Cloudflare's geolocation follows (Russia and Cyprus in EU; Turkey,
//! Armenia, Azerbaijan and Georgia in AS; the US Minor Outlying Islands in OC). `T1` (Tor)
//! has the continent `T1`; `XX` (unknown) and codes not listed have none. README, "Request
//! context on the command line", prints the same table.

/// `(continent, countries)`: each country code appears once.
pub const CONTINENTS: [(&str, &str); 8] = [
    (
        "AF",
        "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG \
         ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW",
    ),
    ("AN", "AQ BV GS HM TF"),
    (
        "AS",
        "AE AF AM AZ BD BH BN BT CC CN CX GE HK ID IL IN IO IQ IR JO JP KG KH KP KR KW KZ LA LB LK \
         MM MN MO MV MY NP OM PH PK PS QA SA SG SY TH TJ TL TM TR TW UZ VN YE",
    ),
    (
        "EU",
        "AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI \
         LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK",
    ),
    (
        "NA",
        "AG AI AW BB BL BM BQ BS BZ CA CR CU CW DM DO GD GL GP GT HN HT JM KN KY LC MF MQ MS MX NI \
         PA PM PR SV SX TC TT US VC VG VI",
    ),
    (
        "OC",
        "AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM VU WF WS",
    ),
    ("SA", "AR BO BR CL CO EC FK GF GY PE PY SR UY VE"),
    ("T1", "T1"),
];

/// The continent code of `country` (any case), if the table has it.
pub fn continent_of(country: &str) -> Option<&'static str> {
    let country = country.trim().to_ascii_uppercase();
    CONTINENTS
        .iter()
        .find(|(_, countries)| countries.split_ascii_whitespace().any(|c| c == country))
        .map(|(continent, _)| *continent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn each_country_once_and_well_formed() {
        let mut seen = BTreeSet::new();
        for (_, countries) in CONTINENTS {
            for c in countries.split_ascii_whitespace() {
                assert!(
                    c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphanumeric()),
                    "{c}"
                );
                assert!(seen.insert(c), "{c} listed twice");
            }
        }
        // The 249 ISO 3166-1 codes, Kosovo's XK and Tor's T1.
        assert_eq!(seen.len(), 251);
    }

    #[test]
    fn continents() {
        for (country, continent) in [
            ("FR", "EU"),
            ("fr", "EU"),
            ("RU", "EU"),
            ("TR", "AS"),
            ("US", "NA"),
            ("MX", "NA"),
            ("BR", "SA"),
            ("AU", "OC"),
            ("EG", "AF"),
            ("AQ", "AN"),
            ("JP", "AS"),
            ("T1", "T1"),
        ] {
            assert_eq!(continent_of(country), Some(continent), "{country}");
        }
        assert_eq!(continent_of("XX"), None);
        assert_eq!(continent_of("ZZ"), None);
    }
}
