use super::parse_number;

fn check(language: &str, table: &[(&str, Option<f64>)]) {
    for &(input, expected) in table {
        assert_eq!(parse_number(input, language), expected, "{language}: {input:?}");
    }
}

#[test]
fn digits() {
    check(
        "en",
        &[
            ("42", Some(42.0)),
            ("  42  ", Some(42.0)),
            ("-3", Some(-3.0)),
            ("+7", Some(7.0)),
            ("\u{2212}4", Some(-4.0)),
            ("3.5", Some(3.5)),
            ("0.25", Some(0.25)),
            (".5", Some(0.5)),
            ("-.5", Some(-0.5)),
            ("007", Some(7.0)),
            ("1,000", Some(1000.0)),
            ("1,000,000", Some(1_000_000.0)),
            ("1,000.5", Some(1000.5)),
            ("1.000,5", Some(1000.5)),
            ("3,5", Some(3.5)),
            ("0,500", Some(0.5)),
            ("1.000", Some(1.0)),
            ("It's 3.5.", Some(3.5)),
            ("$5", Some(5.0)),
            ("42%", Some(42.0)),
            ("5kg", Some(5.0)),
        ],
    );
}

#[test]
fn digits_with_decimal_comma() {
    for language in ["es", "de", "fr", "pt", "pt-BR", "de_AT"] {
        check(
            language,
            &[
                ("3,5", Some(3.5)),
                ("3.5", Some(3.5)),
                ("1.000", Some(1000.0)),
                ("1.000.000", Some(1_000_000.0)),
                ("1.000,25", Some(1000.25)),
                ("1,000", Some(1.0)),
                ("-2,5", Some(-2.5)),
                ("1\u{00A0}000", None),
            ],
        );
    }
}

#[test]
fn malformed_numerals_are_rejected() {
    check(
        "en",
        &[("1,00,0", None), ("1,000.000.5", None), ("1,5.000", None), ("1.000,000,5", None), ("10,00,000", None)],
    );
}

#[test]
fn numbers_in_sentences() {
    check(
        "en",
        &[
            ("I'd say 42", Some(42.0)),
            ("about 42 I think", Some(42.0)),
            ("42, yes 42", Some(42.0)),
            ("maybe twenty one?", Some(21.0)),
            ("42 and 43", None),
            ("5-6", None),
            ("between 3 and 4", None),
            ("2026-12-24", None),
            ("18:30", None),
            ("one or two", None),
            ("21 or twenty-one", Some(21.0)),
            ("three and a half", None),
            ("half", None),
        ],
    );
    check("es", &[("dos y medio", None)]);
    check("de", &[("zweieinhalb", None), ("zwei und halb", None)]);
    check("fr", &[("deux et demi", None)]);
    check("pt", &[("dois e meio", None)]);
    check("es", &[("quiero un 5", Some(5.0)), ("saqué un cinco", Some(5.0)), ("un millón", Some(1e6))]);
    check("fr", &[("un 5", Some(5.0)), ("un ou deux", None), ("au moins 5", Some(5.0))]);
    check("es", &[("más o menos 5", Some(5.0)), ("menos 5", Some(-5.0))]);
}

#[test]
fn english_words() {
    check(
        "en",
        &[
            ("zero", Some(0.0)),
            ("one", Some(1.0)),
            ("Seven", Some(7.0)),
            ("TWELVE", Some(12.0)),
            ("nineteen", Some(19.0)),
            ("twenty", Some(20.0)),
            ("twenty one", Some(21.0)),
            ("twenty-one", Some(21.0)),
            ("ninety-nine", Some(99.0)),
            ("a hundred", Some(100.0)),
            ("one hundred", Some(100.0)),
            ("one hundred and five", Some(105.0)),
            ("three hundred forty-two", Some(342.0)),
            ("nineteen hundred", Some(1900.0)),
            ("thousand", Some(1000.0)),
            ("two thousand and twenty six", Some(2026.0)),
            ("one million two hundred thousand", Some(1_200_000.0)),
            ("2 million", Some(2e6)),
            ("1.5 thousand", Some(1500.0)),
            ("minus five", Some(-5.0)),
            ("negative 3", Some(-3.0)),
            ("twenty thirty", None),
            ("one two", None),
            ("zero five", None),
            ("two thousand three million", None),
        ],
    );
}

#[test]
fn spanish_words() {
    check(
        "es",
        &[
            ("cero", Some(0.0)),
            ("uno", Some(1.0)),
            ("un", Some(1.0)),
            ("quince", Some(15.0)),
            ("dieciséis", Some(16.0)),
            ("veintiuno", Some(21.0)),
            ("VEINTIDÓS", Some(22.0)),
            ("treinta y uno", Some(31.0)),
            ("cien", Some(100.0)),
            ("ciento veinte", Some(120.0)),
            ("doscientos cincuenta", Some(250.0)),
            ("mil", Some(1000.0)),
            ("dos mil veintiséis", Some(2026.0)),
            ("cien mil", Some(100_000.0)),
            ("dos millones", Some(2e6)),
            ("dos y tres", None),
        ],
    );
}

#[test]
fn german_words() {
    check(
        "de",
        &[
            ("null", Some(0.0)),
            ("eins", Some(1.0)),
            ("ein", Some(1.0)),
            ("zwölf", Some(12.0)),
            ("zwoelf", Some(12.0)),
            ("achtzehn", Some(18.0)),
            ("zwanzig", Some(20.0)),
            ("einundzwanzig", Some(21.0)),
            ("Einundzwanzig", Some(21.0)),
            ("ein und zwanzig", Some(21.0)),
            ("dreißig", Some(30.0)),
            ("DREISSIG", Some(30.0)),
            ("neunundneunzig", Some(99.0)),
            ("hundert", Some(100.0)),
            ("einhundertzwei", Some(102.0)),
            ("zweihundertdreiundvierzig", Some(243.0)),
            ("tausend", Some(1000.0)),
            ("zweitausendsechsundzwanzig", Some(2026.0)),
            ("eine Million", Some(1e6)),
            ("ich denke fünf", Some(5.0)),
            ("Achtung", None),
            ("eins zwanzig", None),
            ("minus drei", Some(-3.0)),
        ],
    );
}

#[test]
fn french_words() {
    check(
        "fr",
        &[
            ("zéro", Some(0.0)),
            ("un", Some(1.0)),
            ("seize", Some(16.0)),
            ("dix-sept", Some(17.0)),
            ("vingt", Some(20.0)),
            ("vingt et un", Some(21.0)),
            ("vingt-et-un", Some(21.0)),
            ("vingt-deux", Some(22.0)),
            ("soixante-dix", Some(70.0)),
            ("soixante et onze", Some(71.0)),
            ("soixante-dix-neuf", Some(79.0)),
            ("quatre-vingts", Some(80.0)),
            ("quatre-vingt-un", Some(81.0)),
            ("quatre-vingt-dix", Some(90.0)),
            ("quatre-vingt-dix-sept", Some(97.0)),
            ("septante", Some(70.0)),
            ("nonante-neuf", Some(99.0)),
            ("cent", Some(100.0)),
            ("deux cents", Some(200.0)),
            ("cent vingt", Some(120.0)),
            ("mille", Some(1000.0)),
            ("deux mille vingt-six", Some(2026.0)),
            ("moins trois", Some(-3.0)),
        ],
    );
}

#[test]
fn portuguese_words() {
    check(
        "pt",
        &[
            ("zero", Some(0.0)),
            ("um", Some(1.0)),
            ("duas", Some(2.0)),
            ("três", Some(3.0)),
            ("dezesseis", Some(16.0)),
            ("dezasseis", Some(16.0)),
            ("vinte", Some(20.0)),
            ("vinte e um", Some(21.0)),
            ("trinta e cinco", Some(35.0)),
            ("cem", Some(100.0)),
            ("cento e vinte", Some(120.0)),
            ("quinhentos e um", Some(501.0)),
            ("mil", Some(1000.0)),
            ("dois mil e vinte e seis", Some(2026.0)),
            ("um milhão", Some(1e6)),
            ("dois milhões", Some(2e6)),
        ],
    );
}

#[test]
fn words_of_other_languages_are_not_read() {
    check("en", &[("veintiuno", None), ("zwei", None)]);
    check("es", &[("twenty", None)]);
    // Unknown languages read English words.
    check("it", &[("twenty one", Some(21.0)), ("3.5", Some(3.5))]);
}

#[test]
fn bad_input() {
    for language in ["en", "es", "de", "fr", "pt", "", "x-unknown"] {
        check(
            language,
            &[
                ("", None),
                ("   ", None),
                ("\t\n", None),
                ("👍", None),
                ("🎉🎉🎉", None),
                ("-", None),
                ("+", None),
                (".", None),
                (",", None),
                ("-.", None),
                ("abc", None),
            ],
        );
    }
}

#[test]
fn very_long_replies() {
    let words = "blah ".repeat(20_000);
    assert_eq!(parse_number(&words, "en"), None);
    let with_number = format!("{words}42{words}");
    assert_eq!(parse_number(&with_number, "en"), Some(42.0));
    let digits = "9".repeat(100_000);
    assert_eq!(parse_number(&digits, "en"), None);
    let same = "7 ".repeat(50_000);
    assert_eq!(parse_number(&same, "en"), Some(7.0));
    let german = "eins".repeat(25_000);
    assert_eq!(parse_number(&german, "de"), Some(1.0));
    let separators = "1,".repeat(50_000);
    assert_eq!(parse_number(&separators, "en"), None);
    let emoji = "👍".repeat(25_000);
    assert_eq!(parse_number(&emoji, "fr"), None);
}
