//! Localization: Fluent catalogs and Bot Builder v3 tables read from disk, the fallback order,
//! overrides of the built-in strings, and load-time validation.

use botwright::locale::{LocaleError, Localizer, builtin, resolve_locale};
use botwright::text::{Args, Text};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn fixtures(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/locales").join(name)
}

fn app() -> Localizer {
    Localizer::builder()
        .default_locale("en")
        .v3_dir(fixtures("app/v3"))
        .fluent_dir(fixtures("app/fluent"))
        .build()
        .unwrap()
}

fn count(n: i64) -> Args {
    Args::new().named("count", n)
}

#[test]
fn fluent_selects_plurals_and_fills_named_parameters() {
    let l = app();
    assert_eq!(l.format("en", "cart-items", &count(0)).unwrap(), "Your cart is empty.");
    assert_eq!(l.format("en", "cart-items", &count(1)).unwrap(), "You have one item in your cart.");
    assert_eq!(l.format("en", "cart-items", &count(7)).unwrap(), "You have 7 items in your cart.");
    assert_eq!(l.format("es", "cart-items", &count(1)).unwrap(), "Tienes un artículo en tu carrito.");
    assert_eq!(l.format("es", "cart-items", &count(2)).unwrap(), "Tienes 2 artículos en tu carrito.");
    // Russian has `one`, `few` and `many`: 1 and 21 are `one`, 3 is `few`, 5 and 11 are `many`.
    assert_eq!(l.format("ru", "cart-items", &count(1)).unwrap(), "В корзине 1 товар.");
    assert_eq!(l.format("ru", "cart-items", &count(21)).unwrap(), "В корзине 21 товар.");
    assert_eq!(l.format("ru", "cart-items", &count(3)).unwrap(), "В корзине 3 товара.");
    assert_eq!(l.format("ru", "cart-items", &count(5)).unwrap(), "В корзине 5 товаров.");
    assert_eq!(l.format("ru", "cart-items", &count(11)).unwrap(), "В корзине 11 товаров.");
    // Terms, named parameters, and no Unicode isolation marks around them.
    let welcome = l.format("en", "welcome", &Args::new().named("name", "Ana")).unwrap();
    assert_eq!(welcome, "Welcome to Fruit Stand, Ana!");
    assert!(!welcome.contains('\u{2068}') && !welcome.contains('\u{2069}'));
    assert_eq!(l.format("es", "welcome", &Args::new().named("name", "Ana")).unwrap(), "¡Bienvenido a Frutería, Ana!");
}

#[test]
fn fluent_gets_positional_arguments_as_arg1_arg2_and_numbers_as_numbers() {
    let l = app();
    let args = Args::new().arg("A-17").arg("Monday");
    assert_eq!(l.format("en", "order-shipped", &args).unwrap(), "Order A-17 ships on Monday.");
    assert_eq!(l.format("en", "price", &Args::new().named("amount", 3)).unwrap(), "That costs 3.00 euros.");
    assert_eq!(l.format("en", "price", &Args::new().named("amount", 2.5)).unwrap(), "That costs 2.50 euros.");
    // A number given as a string is text to Fluent: no plural category, so the default variant.
    assert_eq!(
        l.format("en", "cart-items", &Args::new().named("count", "1")).unwrap(),
        "You have 1 items in your cart."
    );
}

#[test]
fn fluent_attributes_are_looked_up_as_message_dot_attribute() {
    let l = app();
    assert_eq!(l.text("en", "login"), "Sign in");
    assert_eq!(l.text("en", "login.placeholder"), "Your e-mail address");
    assert_eq!(l.format("en", "login.missing", &Args::new()), None);
    assert!(l.has_message("en-GB", "login.placeholder"));
}

#[test]
fn v3_tables_pick_among_alternatives_and_format_percent_s() {
    let l = app();
    let expected: HashSet<String> = ["Hi Ana!", "Hello Ana!", "Hey Ana!"].map(String::from).into();
    let mut seen = HashSet::new();
    for _ in 0..300 {
        let text = l.format("en", "greeting", &Args::new().arg("Ana")).unwrap();
        assert!(expected.contains(&text), "{text}");
        seen.insert(text);
    }
    assert_eq!(seen, expected, "every alternative is used");
    assert_eq!(
        l.format("en", "farewell", &Args::new().named("name", "Ana")).unwrap(),
        "Goodbye, Ana. Come back soon (100% fresh fruit)."
    );
    // Without arguments the text is used as it is, `%` and all.
    assert_eq!(l.text("en", "farewell"), "Goodbye, %(name)s. Come back soon (100%% fresh fruit).");
    let spanish = l.format("es-AR", "greeting", &Args::new().arg("Ana")).unwrap();
    assert!(spanish == "¡Hola, Ana!" || spanish == "¡Buenas, Ana!", "{spanish}");
    // A table with a byte order mark loads too.
    assert_eq!(l.format("de", "greeting", &Args::new().arg("Ana")).unwrap(), "Hallo Ana!");
}

#[test]
fn v3_name_json_files_are_namespaces() {
    let l = app();
    assert_eq!(l.format("en", "fruitlib:ripe", &Args::new().arg("mango")).unwrap(), "The mango is ripe.");
    assert_eq!(l.format("en", "ripe", &Args::new().arg("mango")), None);
}

#[test]
fn a_v3_table_and_a_fluent_file_for_the_same_ids_give_the_same_results() {
    let fluent = Localizer::builder().fluent_dir(fixtures("parity/fluent")).build().unwrap();
    let v3 = Localizer::builder().v3_dir(fixtures("parity/v3")).build().unwrap();
    let cases = [
        ("en", "farewell", Args::new()),
        ("en", "greeting", Args::new().named("name", "Ana")),
        ("en", "shipped", Args::new().arg("A-17").arg("Lisbon")),
        ("es", "greeting", Args::new().named("name", "Ana")),
        ("es-MX", "shipped", Args::new().arg("A-17").arg("Lisboa")),
        ("es", "farewell", Args::new()),
        ("fr", "greeting", Args::new().named("name", "Ana")),
        ("en", "missing", Args::new()),
    ];
    for (locale, id, args) in &cases {
        assert_eq!(fluent.format(locale, id, args), v3.format(locale, id, args), "{locale} {id}");
    }
    assert_eq!(fluent.format("es", "shipped", &cases[4].2).unwrap(), "Tu pedido A-17 se ha enviado a Lisboa.");
    assert_eq!(v3.format("es", "farewell", &Args::new()).unwrap(), "Goodbye!", "es falls back to the default, en");
    assert_eq!(v3.format("en", "missing", &Args::new()), None);
}

#[test]
fn pt_br_gets_pt_strings_where_it_has_none_of_its_own() {
    let l = app();
    let name = Args::new().named("name", "Ana");
    assert_eq!(l.format("pt-BR", "welcome", &name).unwrap(), "Bem-vindo à Quitanda, Ana! Que bom te ver.");
    assert_eq!(l.format("pt-BR", "cart-items", &count(2)).unwrap(), "Você tem 2 itens no carrinho.");
    assert_eq!(l.format("pt_br", "cart-items", &count(1)).unwrap(), "Você tem um item no carrinho.");
    assert_eq!(l.format("pt-PT", "welcome", &name).unwrap(), "Bem-vindo à Quitanda, Ana!");
    assert_eq!(l.text("pt-BR", "default_number"), "Não reconheci isso como um número. Por favor, digite um número.");
    assert_eq!(l.fallbacks("pt-BR"), ["pt-br", "pt", "en"]);
    // Nothing in pt or pt-BR: the default locale's text.
    assert_eq!(
        l.format("pt-BR", "order-shipped", &Args::new().arg("A-1").arg("sábado")).unwrap(),
        "Order A-1 ships on sábado."
    );
}

#[test]
fn an_unknown_id_is_none_and_callers_fall_back_to_the_id() {
    let l = app();
    assert_eq!(l.format("es", "no-such-message", &Args::new()), None);
    assert!(!l.has_message("es", "no-such-message"));
    assert_eq!(l.text("es", "no-such-message"), "no-such-message");
    assert_eq!(Text::localized("no-such-message").resolve(&l, "es"), "no-such-message");
    assert_eq!(Text::localized("cart-items").named("count", 3).resolve(&l, "es"), "Tienes 3 artículos en tu carrito.");
}

#[test]
fn application_messages_override_builtin_ones_per_locale() {
    let l = Localizer::builder()
        .v3_dir(fixtures("app/v3"))
        .fluent_dir(fixtures("app/fluent"))
        .message("de", "default_confirm", "Ja oder nein, bitte.")
        .build()
        .unwrap();
    // v3 BotBuilder.json overrides in en; Fluent in es; a message in code in de.
    assert_eq!(l.text("en", "default_number"), "Numbers only, please.");
    assert_eq!(l.text("en", "list_or"), " or maybe ");
    assert_eq!(l.text("es", "default_number"), "Eso no es un número. Escribe un número, por favor.");
    assert_eq!(l.text("de", "default_confirm"), "Ja oder nein, bitte.");
    // A Fluent override of a built-in with positional arguments.
    let range = Args::new().arg(1).arg(10);
    assert_eq!(l.format("en", "number_range_error", &range).unwrap(), "Pick a number from 1 to 10, please.");
    // Other locales and other ids keep the built-in strings.
    assert_eq!(l.text("fr", "default_number"), "Je n'ai pas reconnu de nombre. Veuillez saisir un nombre.");
    assert_eq!(l.text("de", "default_number"), "Das habe ich nicht als Zahl erkannt. Bitte gib eine Zahl ein.");
    assert_eq!(
        l.format("es", "number_range_error", &range).unwrap(),
        "El número que escribiste está fuera del rango permitido, de 1 a 10. Por favor, escribe un número válido."
    );
    assert_eq!(l.text("en", "default_confirm"), "I didn't understand. Please answer 'yes' or 'no'.");
}

#[test]
fn fluent_wins_over_v3_and_messages_in_code_win_over_both_whatever_the_call_order() {
    let l = Localizer::builder()
        .message("en", "welcome", "From code, %(name)s.")
        .fluent_dir(fixtures("app/fluent"))
        .v3_dir(fixtures("app/v3"))
        .build()
        .unwrap();
    assert_eq!(l.format("en", "welcome", &Args::new().named("name", "Ana")).unwrap(), "From code, Ana.");
    let l = app();
    assert_eq!(l.format("en", "welcome", &Args::new().named("name", "Ana")).unwrap(), "Welcome to Fruit Stand, Ana!");
    // After building, the last addition wins.
    let mut l = app();
    l.add_message("es", "cart-items", "Carrito: %(count)s");
    assert_eq!(l.format("es", "cart-items", &count(4)).unwrap(), "Carrito: 4");
    l.add_message("es", "basket", "Cesta: %(count)s");
    l.add_fluent("es", "late.ftl", "basket = { $count } en la cesta\n").unwrap();
    assert_eq!(l.format("es", "basket", &count(4)).unwrap(), "4 en la cesta");
    // Fluent messages never replace one another: a second definition is an error.
    let err = l.add_fluent("es", "later.ftl", "cart-items = { $count }\n").unwrap_err();
    assert!(matches!(err, LocaleError::DuplicateMessage { .. }), "{err:?}");
}

#[test]
fn every_builtin_language_has_every_builtin_id() {
    // A default locale without built-in strings, so that no fallback hides a missing one.
    let l = Localizer::new("ja");
    let ids: Vec<&str> = builtin::ids().collect();
    assert!(ids.contains(&"yes_words") && ids.contains(&"default_error") && ids.contains(&"list_or_more"));
    for locale in ["en", "es", "de", "fr", "pt"] {
        for id in &ids {
            assert!(l.has_message(locale, id), "{locale} lacks `{id}`");
            assert_ne!(l.text(locale, id), *id, "{locale} `{id}`");
        }
    }
    assert!(!l.has_message("it", "default_text"));
    assert_eq!(l.locales(), ["de", "en", "es", "fr", "pt"]);
}

#[test]
fn builtin_yes_words_accept_accented_and_unaccented_answers() {
    let l = Localizer::default();
    let spanish = l.list("es", "yes_words");
    assert!(spanish.iter().any(|w| w == "sí") && spanish.iter().any(|w| w == "si"), "{spanish:?}");
    assert_eq!(l.text("es", "confirm_yes"), "Sí");
    let portuguese = l.list("pt-BR", "no_words");
    assert!(portuguese.iter().any(|w| w == "não") && portuguese.iter().any(|w| w == "nao"), "{portuguese:?}");
    let numbers = l.word_table("de", "number_words");
    assert_eq!(numbers.len(), 11);
    assert_eq!(numbers[1], ["eins", "ein", "eine"]);
    assert!(numbers[5].contains(&"fünf".to_owned()) && numbers[5].contains(&"fuenf".to_owned()));
}

#[test]
fn a_broken_ftl_file_is_an_error_naming_the_file_and_line() {
    let err = Localizer::builder().fluent_dir(fixtures("broken-ftl")).build().unwrap_err();
    match &err {
        LocaleError::FluentSyntax { path, line, column, .. } => {
            assert!(path.ends_with("en/b-broken.ftl"), "{}", path.display());
            // The select expression without a default variant spans lines 4 to 7.
            assert!((4..=7).contains(line), "line {line}");
            assert!(*column >= 1);
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("b-broken.ftl:"), "{text}");
    assert!(text.to_lowercase().contains("default variant"), "{text}");
}

#[test]
fn fluent_source_in_code_reports_its_name_and_line() {
    let err = Localizer::builder().fluent("en", "inline.ftl", "ok = Fine\n\nbroken = { $x\n").build().unwrap_err();
    match err {
        LocaleError::FluentSyntax { path, line, .. } => {
            assert_eq!(path, Path::new("inline.ftl"));
            assert_eq!(line, 3);
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn a_reference_to_a_missing_message_is_an_error_at_load() {
    let err = Localizer::builder().fluent_dir(fixtures("missing-reference")).build().unwrap_err();
    match &err {
        LocaleError::FluentReference { path, line, id, message } => {
            assert!(path.ends_with("en/a.ftl"), "{}", path.display());
            assert_eq!(*line, 3);
            assert_eq!(id, "help");
            assert!(message.contains("menu-help"), "{message}");
        }
        other => panic!("expected a reference error, got {other:?}"),
    }
}

#[test]
fn a_message_defined_in_two_fluent_files_is_an_error() {
    let err = Localizer::builder().fluent_dir(fixtures("duplicate")).build().unwrap_err();
    match &err {
        LocaleError::DuplicateMessage { path, locale, id } => {
            assert!(path.ends_with("en/b.ftl"), "{}", path.display());
            assert_eq!(locale, "en");
            assert_eq!(id, "hello");
        }
        other => panic!("expected a duplicate error, got {other:?}"),
    }
}

#[test]
fn a_broken_json_table_is_an_error_naming_the_file_line_and_column() {
    let err = Localizer::builder().v3_dir(fixtures("broken-json")).build().unwrap_err();
    match &err {
        LocaleError::Json { path, line, column, .. } => {
            assert!(path.ends_with("en/index.json"), "{}", path.display());
            assert_eq!(*line, 3);
            assert!(*column > 1, "column {column}");
        }
        other => panic!("expected a JSON error, got {other:?}"),
    }
    assert!(err.to_string().contains("index.json:3:"), "{err}");
}

#[test]
fn a_json_value_of_the_wrong_type_is_an_error_naming_the_file_and_id() {
    let err = Localizer::builder().v3_dir(fixtures("wrong-type")).build().unwrap_err();
    assert!(matches!(err, LocaleError::InvalidTable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("index.json") && text.contains("`retries`") && text.contains("a number"), "{text}");
}

#[test]
fn a_locale_directory_that_is_not_a_language_tag_is_an_error() {
    let err = Localizer::builder().fluent_dir(fixtures("bad-locale-name")).build().unwrap_err();
    match &err {
        LocaleError::InvalidLocale { path, locale, .. } => {
            assert_eq!(locale, "not_a_locale!");
            assert!(path.ends_with("not_a_locale!"), "{}", path.display());
        }
        other => panic!("expected an invalid locale, got {other:?}"),
    }
}

#[test]
fn a_missing_directory_is_an_error_naming_it() {
    let missing = fixtures("no-such-directory");
    let err = Localizer::builder().fluent_dir(&missing).build().unwrap_err();
    match &err {
        LocaleError::Io { path, .. } => assert_eq!(path, &missing),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn a_failed_add_fluent_leaves_the_localizer_as_it_was() {
    let mut l = app();
    let err = l.add_fluent("en", "late.ftl", "welcome = twice\n").unwrap_err();
    assert!(matches!(err, LocaleError::DuplicateMessage { ref id, .. } if id == "welcome"), "{err:?}");
    let err = l.add_fluent("en", "late.ftl", "fresh = See { nowhere }\n").unwrap_err();
    assert!(matches!(err, LocaleError::FluentReference { .. }), "{err:?}");
    assert!(!l.has_message("en", "fresh"));
    l.add_fluent("en", "late.ftl", "fresh = Fresh from { welcome }\n").unwrap();
    assert_eq!(
        l.format("en", "fresh", &Args::new().named("name", "Ana")).unwrap(),
        "Fresh from Welcome to Fruit Stand, Ana!"
    );
}

#[test]
fn the_user_locale_is_the_preference_then_the_activity_then_the_default() {
    let l = Localizer::builder().default_locale("de").build().unwrap();
    assert_eq!(l.resolve_locale(Some("es"), Some("en-US")), "es");
    assert_eq!(l.resolve_locale(None, Some("en-US")), "en-US");
    assert_eq!(l.resolve_locale(None, Some("garbage locale")), "de");
    assert_eq!(l.resolve_locale(None, None), "de");
    assert_eq!(resolve_locale(None, None, "pt-br"), "pt-BR");
    let locale = l.resolve_locale(Some("pt-BR"), Some("en"));
    assert_eq!(l.text(&locale, "confirm_no"), "Não");
}

#[test]
fn a_localizer_is_shared_across_threads() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Localizer>();
    let shared = Arc::new(app());
    let handles: Vec<_> = [("en", "You have 2 items in your cart."), ("es", "Tienes 2 artículos en tu carrito.")]
        .into_iter()
        .map(|(locale, expected)| {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                for _ in 0..50 {
                    assert_eq!(shared.format(locale, "cart-items", &count(2)).unwrap(), expected);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    // A clone is independent of the original.
    let mut copy = (*shared).clone();
    copy.add_message("en", "cart-items", "changed");
    assert_eq!(shared.format("en", "cart-items", &count(2)).unwrap(), "You have 2 items in your cart.");
    assert_eq!(copy.text("en", "cart-items"), "changed");
    copy.add_fluent("en", "copy.ftl", "only-in-copy = yes\n").unwrap();
    assert_eq!(copy.text("en", "only-in-copy"), "yes");
    assert!(!shared.has_message("en", "only-in-copy"));
    assert_eq!(copy.format("es", "cart-items", &count(1)).unwrap(), "Tienes un artículo en tu carrito.");
}
