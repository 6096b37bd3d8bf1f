//! Text from the network cannot panic a request or act as a template: placeholders next to
//! multi-byte characters, and unknown message ids with parameters.

use botwright::locale::Localizer;
use botwright::text::{Args, Text, format};

#[test]
fn a_named_placeholder_before_a_multibyte_character_is_left_as_is() {
    let args = Args::new().named("a", "x");
    assert_eq!(format("%(a)é and %(a)s", &args), "%(a)é and x");
    assert_eq!(format("%(zz)日本", &args), "%(zz)日本");
}

#[test]
fn a_positional_placeholder_before_a_multibyte_character_is_left_as_is() {
    let args = Args::new().arg("x");
    assert_eq!(format("%1$é %1$s", &args), "%1$é x");
    assert_eq!(format("%9$🎉", &args), "%9$🎉");
}

#[test]
fn an_unknown_message_id_is_sent_as_is_even_with_parameters() {
    let localizer = Localizer::new("en");
    let text = Text::localized("Order %s is %(state)s é%1$é").arg("A-17").named("state", "late");
    assert_eq!(text.resolve(&localizer, "en"), "Order %s is %(state)s é%1$é");
}

#[test]
fn a_known_message_id_is_still_formatted() {
    let mut localizer = Localizer::new("en");
    localizer.add_message("en", "shipped", "Your order %s has shipped.");
    assert_eq!(Text::localized("shipped").arg("A-17").resolve(&localizer, "en"), "Your order A-17 has shipped.");
}
